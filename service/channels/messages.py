"""Telegram HTML as dvcwatch writes it: escaping, measuring, splitting, plain text.

Messages use Telegram's HTML parse mode with a few tags (<b>, <i>, <code>, <a href>) and
the entities &lt; &gt; &amp; &quot; and numeric ones. Everything user-supplied (unit and
staff names, portal text) goes through `escape_html` before it is put in a template.

The length rule. Telegram limits a message to 4,096 characters of the *parsed* text
(tags removed, entities decoded), counted in UTF-16 code units: a Vietnamese letter,
precomposed or not, is one unit per code point, an emoji two. We measure the HTML
itself, tags and entities included, in UTF-16 code units. That is never less than
what Telegram counts, so a part we call short enough always fits; the price is some
unused room when markup is dense.
"""

from __future__ import annotations

import html
import re

TELEGRAM_MESSAGE_LIMIT = 4096

# One atom of Telegram HTML: a whole tag, a whole entity, or a single character. A
# split only ever falls between atoms, so it never cuts a tag or an entity in half.
_ATOM = re.compile(r"<[^<>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);|.", re.DOTALL)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)')""")

_OpenTags = tuple[tuple[str, str], ...]  # (tag name, the opening tag as written), outermost first

# Where a part may end, best first: after a line, after a word, anywhere between atoms.
_LINE_BREAK, _WORD_BREAK, _ANY_BREAK = 2, 1, 0


def escape_html(text: str) -> str:
    """`text` made safe for Telegram's HTML mode: & < > " and ' become entities."""
    return html.escape(text, quote=True)


def utf16_length(text: str) -> int:
    """The length of `text` in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le")) // 2


def plain_text(html_text: str) -> str:
    """What a reader sees of `html_text`: tags dropped, entities decoded, and each link's
    address kept in parentheses after its words (a terminal cannot follow a link)."""
    hrefs: list[str] = []

    def replace(tag: re.Match[str]) -> str:
        closing, name, attributes = tag.groups()
        if name.lower() != "a":
            return ""
        if not closing:
            found = _HREF.search(attributes)
            hrefs.append((found.group(1) or found.group(2) or "") if found else "")
            return ""
        href = hrefs.pop() if hrefs else ""
        return f" ({href})" if href else ""

    return html.unescape(_TAG.sub(replace, html_text))


def split_message(html_text: str, limit: int = TELEGRAM_MESSAGE_LIMIT) -> list[str]:
    """`html_text` cut into parts of at most `limit` UTF-16 code units each, in order.

    A text that fits comes back unchanged as the only part. Otherwise parts end at line
    boundaries (the newline itself, and blank lines at a part's edges, are dropped); a
    line longer than a part is cut after a word (the space is dropped), and a word
    longer than a part between two characters. A cut never falls inside a tag or an
    entity. Tags still open at a cut are closed at the end of the part and opened again,
    attributes and all, at the start of the next.
    Parts with no visible text are left out. Raises ValueError when `limit` is too small
    to hold even the tags that must be reopened plus one atom.
    """
    if utf16_length(html_text) <= limit:
        return [html_text]
    atoms = _ATOM.findall(html_text)
    parts: list[str] = []
    start, open_tags = 0, _OpenTags()
    while start < len(atoms):
        end, resume, still_open = _next_cut(atoms, start, open_tags, limit)
        first, last = _without_edge_newlines(atoms, start, end)
        part = (
            "".join(raw for _, raw in open_tags)
            + "".join(atoms[first:last])
            + "".join(f"</{name}>" for name, _ in reversed(still_open))
        )
        if plain_text(part).strip():
            parts.append(part)
        start, open_tags = resume, still_open
    return parts


def split_blocks(html_text: str, limit: int = TELEGRAM_MESSAGE_LIMIT) -> list[str]:
    """`html_text` cut into parts of at most `limit` UTF-16 code units, each made of whole
    blocks (the paragraphs between blank lines: a unit's status, say) where a block fits
    a part; a block longer than a part is cut by `split_message`."""
    parts: list[str] = []
    for block in html_text.split("\n\n"):
        joined = f"{parts[-1]}\n\n{block}" if parts else block
        if parts and utf16_length(joined) <= limit:
            parts[-1] = joined
        else:
            parts += split_message(block, limit)
    return parts


def _next_cut(
    atoms: list[str], start: int, open_tags: _OpenTags, limit: int
) -> tuple[int, int, _OpenTags]:
    """Where the part that begins at `atoms[start]` ends: (end, where the next part
    resumes, the tags open at the end), choosing the best kind of cut that fits."""
    stack = list(open_tags)
    size = sum(utf16_length(raw) for _, raw in stack)
    closing = sum(len(name) + 3 for name, _ in stack)
    best: dict[int, tuple[int, int, _OpenTags]] = {}
    for index in range(start, len(atoms)):
        atom = atoms[index]
        if index > start:
            kind = _cut_kind(atom)
            best[kind] = (index, index + 1 if kind != _ANY_BREAK else index, tuple(stack))
        size += utf16_length(atom)
        closing += _apply_tag(stack, atom)
        if size + closing > limit:
            break
    else:
        return len(atoms), len(atoms), tuple(stack)
    if not best:
        raise ValueError(f"a limit of {limit} cannot hold {atoms[start]!r} and its open tags")
    return best[max(best)]


def _without_edge_newlines(atoms: list[str], start: int, end: int) -> tuple[int, int]:
    """`start` and `end` moved past the blank lines that a cut leaves at a part's edges."""
    while start < end and atoms[start] in ("\n", "\r"):
        start += 1
    while end > start and atoms[end - 1] in ("\n", "\r"):
        end -= 1
    return start, end


def _cut_kind(atom: str) -> int:
    """How good a cut just before `atom` is (the cut drops a newline or a space)."""
    if atom == "\n":
        return _LINE_BREAK
    if atom in (" ", "\t"):
        return _WORD_BREAK
    return _ANY_BREAK


def _apply_tag(stack: list[tuple[str, str]], atom: str) -> int:
    """Open or close `atom` on `stack` if it is a tag; returns how much the closing tags
    needed at the end of a part grew (negative when a tag closed)."""
    tag = _TAG.fullmatch(atom)
    if tag is None:
        return 0
    name = tag.group(2).lower()
    if not tag.group(1):
        stack.append((name, atom))
        return len(name) + 3
    for position in range(len(stack) - 1, -1, -1):
        if stack[position][0] == name:
            del stack[position]
            return -(len(name) + 3)
    return 0
