"""The editable texts of the nine-criteria (tt01) Báo cáo: the `[tt01]` table of texts.toml.

Read like the other notices' texts (`texts.py`): the bundled file, merged
key by key with an office's own `texts.toml`, every text checked once for
its type and its placeholders. The grounds an office cites (its own
decision on how units are scored) and its assessment are prose it words
its own way; the counts, the corrections and the appendix are dvcwatch's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from service.notices.texts import texts_data
from service.scoring.tt01 import LEVELS


@dataclass(frozen=True)
class Tt01Texts:
    title: str
    subject: str
    opening: tuple[str, ...]
    deployment_heading: str
    deployment: tuple[str, ...]
    results_heading: str
    classes_heading: str
    classes_intro: tuple[str, ...]
    results_note: str
    appraisal_heading: str
    appraisal_intro: str
    appraisal_agrees: str
    use_heading: str
    use: tuple[str, ...]
    difficulties_heading: str
    difficulties: tuple[str, ...]
    closing: tuple[str, ...]
    appendix_title: str
    appendix_subtitle: str
    appendix_note: str
    level_names: Mapping[str, str]  # level → "Cấp huyện", in the counts of section II
    level_groups: Mapping[str, str]  # level → the appendix's group row


def load_tt01_texts(override_dir: Path | None) -> Tt01Texts:
    """The `[tt01]` texts, bundled or overridden by `override_dir/texts.toml`."""
    read, data = texts_data(override_dir)
    at = "tt01."
    table = read.table(data, "tt01", "")

    def text(key: str) -> str:
        return read.text(table, key, at)

    def lines(key: str) -> tuple[str, ...]:
        return read.lines(table, key, at)

    def levels(key: str) -> dict[str, str]:
        found = read.texts(table, key, at)
        missing = [level for level in LEVELS if level not in found]
        if missing:
            raise read.fail(f"{at}{key}", f"needs a text for {', '.join(missing)}")
        return found

    return Tt01Texts(
        title=text("title"),
        subject=text("subject"),
        opening=lines("opening"),
        deployment_heading=text("deployment_heading"),
        deployment=lines("deployment"),
        results_heading=text("results_heading"),
        classes_heading=text("classes_heading"),
        classes_intro=lines("classes_intro"),
        results_note=text("results_note"),
        appraisal_heading=text("appraisal_heading"),
        appraisal_intro=text("appraisal_intro"),
        appraisal_agrees=text("appraisal_agrees"),
        use_heading=text("use_heading"),
        use=lines("use"),
        difficulties_heading=text("difficulties_heading"),
        difficulties=lines("difficulties"),
        closing=lines("closing"),
        appendix_title=text("appendix_title"),
        appendix_subtitle=text("appendix_subtitle"),
        appendix_note=text("appendix_note"),
        level_names=levels("level_names"),
        level_groups=levels("level_groups"),
    )
