"""The 9-criteria scheme of Thông tư 01/2018/TT-VPCP (in use 2018–2025).

Each dossier is scored 0, 1 or 2 on criteria TC1…TC9 (tiêu chí). A unit's
score on a criterion is the average over its dossiers, rounded half up to
2 decimals as officials round (1.625 → 1.63; 5/3 → 1.67); its total is the
exact decimal sum of the nine (at most 18) and its DTB (ĐTB CCVC, BP 1 cửa:
the one-stop desk's score) the sum of TC1…TC5 (at most 10). The total is
classified with bands that vary by province, so they come from
configuration (`config/schemes/tt01.toml`). A unit with no dossiers is
"Không phát sinh TTHC": it has no score at all, which is not a score of 0.
A unit that did not score itself is "Chưa chấm điểm" (a `STATUS` row):
no score either, and counted apart from the units without dossiers.

A unit belongs to a level (`LEVEL` row, or read from its name): the
district's specialised agencies ("huyện") or its communes and towns ("xã").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from service.scoring.decimals import Number, round_half_up, to_decimal
from service.scoring.schemes import Band, SchemeError, classify, parse_bands, read_config

CRITERIA = tuple(f"TC{number}" for number in range(1, 10))
DESK_CRITERIA = CRITERIA[:5]  # TC1…TC5: what the one-stop desk answers for (DTB)
CRITERION_MAX = 2
NO_DOSSIERS = "Không phát sinh TTHC"
UNSCORED = "Chưa chấm điểm"  # the unit did not score itself this period
TT01_KIND = "tt01"
STATUS, LEVEL = "STATUS", "LEVEL"  # text rows of a tt01 table
#: What a STATUS row may say (compared without case): only that the unit did not score.
STATUSES = (UNSCORED,)
#: The levels of a district's units: its specialised agencies, its communes and towns.
DISTRICT, COMMUNE = "huyện", "xã"
LEVELS = (DISTRICT, COMMUNE)
#: A People's Committee of a commune, ward or town: the commune level by its name.
_COMMUNE_NAME = re.compile(r"^(?:UBND|[ỦU][yỷ] ban nhân dân)\s+(?:xã|phường|thị trấn)\b", re.I)


class Tt01Error(ValueError):
    """Criterion scores that cannot be right; one problem a line, each naming
    the criterion (and the dossier, for per-dossier scores)."""


@dataclass(frozen=True)
class Tt01Score:
    """A unit's result. With dossiers: `criteria` holds TC1…TC9, `total`,
    `dtb` and `class_name` are set and `status` is None. Without: `criteria`
    is empty, the three are None and `status` is NO_DOSSIERS."""

    criteria: Mapping[str, Decimal]
    total: Decimal | None
    dtb: Decimal | None
    class_name: str | None
    status: str | None
    dossiers: int | None = None


def load_tt01_bands(path: str | Path) -> tuple[Band, ...]:
    """The classification bands of a `kind = "tt01"` file, minimums on the total."""
    path = Path(path)
    table = read_config(path)
    if table.get("kind") != TT01_KIND:
        raise SchemeError(f"{path}: kind: expected {TT01_KIND!r}, got {table.get('kind')!r}")
    return parse_bands(table.get("bands"), path)


def average_dossiers(dossiers: Sequence[Mapping[str, Number]]) -> dict[str, float]:
    """Each criterion's average over `dossiers`: the exact decimal mean rounded
    half up to 2 decimals (1.625 → 1.63, not half-to-even's 1.62), as a float
    for storing (the float's shortest form is that 2-decimal figure).

    Every dossier must score all nine criteria within 0–2; otherwise
    Tt01Error lists each problem ("dossier 3: TC4: 3 is outside 0–2").
    An empty sequence is an error: a unit without dossiers has no averages.
    """
    if not dossiers:
        raise Tt01Error("no dossiers to average")
    problems = [
        f"dossier {number}: {problem}"
        for number, dossier in enumerate(dossiers, start=1)
        for problem in _criteria_problems(dossier)
    ]
    if problems:
        raise Tt01Error("\n".join(problems))
    count = len(dossiers)
    return {
        code: float(round_half_up(sum((to_decimal(d[code]) for d in dossiers), Decimal(0)) / count))
        for code in CRITERIA
    }


def score_criteria(
    averages: Mapping[str, Number | None] | None,
    bands: Sequence[Band],
    dossiers: int | None = None,
) -> Tt01Score:
    """Score a unit from its criterion averages (None or empty: no dossiers).

    All nine criteria are required, each within 0–2 (Tt01Error otherwise).
    Total and DTB are exact decimal sums of the averages as written, and the
    class is chosen on that exact total (15 is Xuất sắc, 14.99 Tốt).
    """
    if not averages:
        return Tt01Score({}, None, None, None, NO_DOSSIERS, 0 if dossiers is None else dossiers)
    problems = _criteria_problems(averages)
    if problems:
        raise Tt01Error("\n".join(problems))
    given = {code: to_decimal(value) for code, value in averages.items() if value is not None}
    total = sum((given[code] for code in CRITERIA), Decimal(0))
    desk = sum((given[code] for code in DESK_CRITERIA), Decimal(0))
    return Tt01Score(
        criteria={code: given[code] for code in CRITERIA},
        total=total,
        dtb=desk,
        class_name=classify(total, bands),
        status=None,
        dossiers=dossiers,
    )


def score_dossiers(dossiers: Sequence[Mapping[str, Number]], bands: Sequence[Band]) -> Tt01Score:
    """Score a unit from its dossiers' criterion scores: averaged with
    `average_dossiers`, then `score_criteria`; no dossiers → NO_DOSSIERS."""
    if not dossiers:
        return score_criteria(None, bands, dossiers=0)
    return score_criteria(average_dossiers(dossiers), bands, dossiers=len(dossiers))


def status_of(text: str | None) -> str | None:
    """The STATUS a row's text names ("chưa chấm điểm" → UNSCORED), or None if none."""
    wanted = " ".join((text or "").split()).casefold()
    return next((status for status in STATUSES if status.casefold() == wanted), None)


def level_of(text: str | None) -> str | None:
    """The level a LEVEL row's text names ("huyện", "Cấp xã" …), or None if none."""
    wanted = " ".join((text or "").split()).casefold().removeprefix("cấp ").strip()
    return next((level for level in LEVELS if level == wanted), None)


def level_by_name(name: str) -> str:
    """The level of a unit whose table gives none: a commune's, ward's or town's People's
    Committee ("UBND xã Na Son") is of the communes, any other unit of the district."""
    return COMMUNE if _COMMUNE_NAME.match(" ".join(name.split())) else DISTRICT


def _criteria_problems(scores: Mapping[str, Number | None]) -> list[str]:
    problems = [f"{code}: not one of the nine criteria" for code in scores if code not in CRITERIA]
    for code in CRITERIA:
        value = scores.get(code)
        if value is None:
            problems.append(f"{code}: missing")
        elif not 0 <= to_decimal(value) <= CRITERION_MAX:
            problems.append(f"{code}: {value:g} is outside 0–{CRITERION_MAX}")
    return problems
