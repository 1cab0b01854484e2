"""What a person reads: the messages for a group of alert lines, cut to a channel's limits.

A digest groups a person's alerts by unit under one header; each alert that still
awaits acknowledgement gets a "Đã tiếp nhận" button whose callback data
(`ack:<alert id>`) the bot answers. Unit names are escaped here; the alert lines were
escaped when they were rendered.

The cut is made here, once, when the message is queued, by the limits the channel
declares (`ChannelLimits`): the text's length, the number of buttons and the size of
the keyboard. Parts end between lines, never inside one (a single line longer than a
message is cut by `split_message`, which never cuts a tag or an entity); a unit
continued on the next part repeats its name with "(tiếp)"; each alert's button goes
under the part that holds its line, once, so every part fits on its own and a failure
of one part concerns only its own lines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from service.channels.base import Button, ChannelLimits, Message
from service.channels.messages import escape_html, split_message, utf16_length

ACK_PREFIX = "ack:"
ACK_TEXT = "Đã tiếp nhận"
BUTTON_TEXT_MAX = 60
#: The keyboard as python-telegram-bot serialises it (`json.dumps`, its default separators).
_EMPTY_KEYBOARD_BYTES = len(json.dumps({"inline_keyboard": []}))
_ROW_SEPARATOR_BYTES = len(", ")
_BIGGEST_PART_NUMBER = 9999  # room kept in the header for "(phần k/n)"


@dataclass(frozen=True)
class Line:
    """One alert's line in a message. `ack_name` ("H44.116 quá hạn") is set when the
    alert awaits acknowledgement, and gives it a button."""

    unit_label: str
    text_html: str
    alert_id: int | None = None
    ack_name: str | None = None
    summary: bool = False  # a summary of many units' alerts (alerts/summaries.py)


@dataclass(frozen=True)
class Part:
    """One message to send, and the indices of the lines it carries, in order."""

    message: Message
    lines: tuple[int, ...]


@dataclass
class _Draft:
    blocks: list[tuple[str, list[str]]] = field(default_factory=list)  # (heading, lines)
    lines: list[int] = field(default_factory=list)
    acks: dict[int, str] = field(default_factory=dict)  # alert id -> short name
    size: int = 0  # UTF-16 units of the body
    markup: int = _EMPTY_KEYBOARD_BYTES


def compose(lines: Sequence[Line], limits: ChannelLimits) -> list[Part]:
    """The messages that carry `lines`, in order, each within `limits` (see module doc).
    One line gives its unit's name and the line, with no header."""
    if not lines:
        raise ValueError("a message needs at least one line")
    summaries = sum(line.summary for line in lines)
    counts = (len(lines) - summaries, summaries)
    header = _header(counts, _BIGGEST_PART_NUMBER, _BIGGEST_PART_NUMBER)
    room = None if limits.max_message_chars is None else limits.max_message_chars
    if room is not None and header:
        room -= utf16_length(header) + 2
    drafts = _pack(lines, limits, room)
    single_ack = len({a for d in drafts for a in d.acks}) == 1
    parts = []
    for number, draft in enumerate(drafts, 1):
        body = "\n\n".join("\n".join([h, *texts] if h else texts) for h, texts in draft.blocks)
        top = _header(counts, number, len(drafts))
        buttons = tuple(_ack_button(a, name, single_ack) for a, name in draft.acks.items())
        parts.append(
            Part(Message(f"{top}\n\n{body}" if top else body, buttons), tuple(draft.lines))
        )
    return parts


def _header(counts: tuple[int, int], number: int, total: int) -> str:
    """ "dvcwatch: 3 cảnh báo, 2 bản tóm tắt" over a message of several lines (alerts,
    summaries); over a single line, only the part's number when it is split."""
    alerts, summaries = counts
    if alerts + summaries == 1:
        return f"(phần {number}/{total})" if total > 1 else ""
    suffix = f" (phần {number}/{total})" if total > 1 else ""
    what = [f"{alerts} cảnh báo"] if alerts else []
    what += [f"{summaries} bản tóm tắt"] if summaries else []
    return f"<b>dvcwatch: {', '.join(what)}</b>{suffix}"


def _pack(lines: Sequence[Line], limits: ChannelLimits, room: int | None) -> list[_Draft]:
    drafts = [_Draft()]
    shown: set[str] = set()  # units whose heading has appeared in an earlier part
    for index, line in enumerate(lines):
        if _add(drafts[-1], index, line, limits, room, line.unit_label in shown):
            continue
        if drafts[-1].lines:
            shown.update(label for label, _ in _units(drafts[-1], lines))
            drafts.append(_Draft())
            if _add(drafts[-1], index, line, limits, room, line.unit_label in shown):
                continue
        drafts.pop()  # the empty draft: the line alone is longer than a message
        drafts += _cut_line(index, line, limits, room)
        shown.add(line.unit_label)
        drafts.append(_Draft())
    return [draft for draft in drafts if draft.lines]


def _units(draft: _Draft, lines: Sequence[Line]) -> list[tuple[str, int]]:
    return [(lines[i].unit_label, i) for i in draft.lines]


def _add(
    draft: _Draft, index: int, line: Line, limits: ChannelLimits, room: int | None, shown: bool
) -> bool:
    """Adds `line` to `draft` if the text and the keyboard still fit; False if not."""
    heading = _heading(line.unit_label, shown)
    same_unit = bool(draft.blocks) and draft.blocks[-1][0] in (
        _heading(line.unit_label, True),
        _heading(line.unit_label, False),
    )
    cost = utf16_length(line.text_html) + (1 if same_unit else 0)
    if not same_unit:
        cost += (utf16_length(heading) + 1 if heading else 0) + (2 if draft.blocks else 0)
    markup = draft.markup
    new_ack = line.ack_name is not None and line.alert_id not in draft.acks
    if new_ack:
        markup += _button_bytes(int(line.alert_id or 0), str(line.ack_name))
        if limits.max_buttons is not None and len(draft.acks) + 1 > limits.max_buttons:
            return False
        if limits.max_markup_bytes is not None and markup > limits.max_markup_bytes:
            return False
    if room is not None and draft.size + cost > room:
        return False
    if same_unit:
        draft.blocks[-1][1].append(line.text_html)
    else:
        draft.blocks.append((heading, [line.text_html]))
    draft.size, draft.markup = draft.size + cost, markup
    draft.lines.append(index)
    if new_ack and line.alert_id is not None:
        draft.acks[line.alert_id] = str(line.ack_name)
    return True


def _cut_line(index: int, line: Line, limits: ChannelLimits, room: int | None) -> list[_Draft]:
    """A line longer than a message, cut into drafts of its own; its button goes under
    the last piece."""
    heading = _heading(line.unit_label, False)
    assert room is not None  # without a length limit every line fits
    pieces = split_message(line.text_html, room - utf16_length(heading) - 1)
    drafts = []
    for number, piece in enumerate(pieces, 1):
        draft = _Draft([(heading, [piece])], [index])
        if number == len(pieces) and line.ack_name is not None and line.alert_id is not None:
            draft.acks[line.alert_id] = line.ack_name
        drafts.append(draft)
    return drafts


def _heading(label: str, continued: bool) -> str:
    if not label:
        return ""
    return f"<b>{escape_html(label)}</b>" + (" (tiếp)" if continued else "")


def _ack_button(alert_id: int, name: str, plain: bool) -> Button:
    text = ACK_TEXT if plain else f"{ACK_TEXT}: {name}"[:BUTTON_TEXT_MAX]
    return Button(text, f"{ACK_PREFIX}{alert_id}")


def _button_bytes(alert_id: int, name: str) -> int:
    """What one more button (on a row of its own) adds to the serialised keyboard, as
    python-telegram-bot writes it (ASCII-escaped JSON), at its longest text."""
    button = _ack_button(alert_id, name or "?", False)
    row = [{"text": button.text, "callback_data": button.callback_data}]
    return len(json.dumps(row)) + _ROW_SEPARATOR_BYTES  # and the ", " before it
