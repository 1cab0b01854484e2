"""What it takes: how many more dossiers would raise a national-index (766)
score by the next 0.1 point, and to its full mark. Always an ESTIMATE.

The formulas were fitted to real captures of the portal by a third party
(domain.md, "score as fitted to real data"); they are not official. They
explain a score ("7 more dossiers paid online would add 0.1 point"), they
never replace the portal's own figure. Each covered indicator is linear in
its ratio up to a cap: score = min(max, max × ratio ÷ full_ratio), where
ratio = numerator ÷ denominator; more dossiers done means the numerator
grows over the same denominator (the same received, owed or eligible).

Exact fractions are used so that "7.0" dossiers is 7, never 8 by a float
error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from service import indicators
from service.scoring.decimals import Number, to_decimal

STEP = Fraction(1, 10)  # the "next 0.1 point" people are told about


@dataclass(frozen=True)
class Formula:
    """A fitted score formula: min(max_score, max_score × ratio ÷ full_ratio)."""

    indicator: str
    expression: str
    counts: str
    max_score: Fraction
    full_ratio: Fraction = Fraction(1)
    assumption: str | None = None

    def score(self, numerator: int, denominator: int) -> Fraction:
        # One Fraction built from integers: this runs for every unit of every month.
        top, bottom = self.max_score, self.full_ratio
        fitted = Fraction(
            numerator * top.numerator * bottom.denominator,
            denominator * top.denominator * bottom.numerator,
        )
        return min(top, fitted)


FORMULAS: dict[str, Formula] = {
    formula.indicator: formula
    for formula in (
        Formula(
            indicators.TDGQ.code,
            "20 × totalOnTime ÷ totalReceived",
            "dossiers handled on time",
            Fraction(20),
        ),
        Formula(
            "ONLINE_PAYMENT",
            "6 × totalDossierOnlinePaymentSuccess ÷ totalDossierFinancialObligation",
            "dossiers paid online",
            Fraction(6),
        ),
        Formula(
            "SO_HOA_GIAY_TO_GIAI_QUYET",
            "4 × digitised ÷ dossiers",
            "dossiers digitised",
            Fraction(4),
            assumption=(
                "domain.md says full at 80 %; the Phú Thọ 2026-08 captures fit 4 × ratio "
                "(80.06 % scores 3.2, 88.1 % scores 3.52), which is used"
            ),
        ),
        Formula(
            "DOSSIER_SYNC",
            "6 × synchronised ÷ dossiers",
            "dossiers synchronised",
            Fraction(6),
        ),
    )
}


@dataclass(frozen=True)
class Effort:
    """More dossiers needed (`counts`) for `step` more points and for the
    full mark: 0 when already there, None when it cannot be told (no
    denominator, or the formula disagrees with the portal's full score).
    `estimate` is always True: say so wherever this is shown."""

    indicator: str
    formula: str
    counts: str
    step: float
    for_step: int | None
    for_full_mark: int | None
    assumption: str | None
    estimate: bool = True


def what_it_takes(
    indicator: str,
    numerator: float | None,
    denominator: float | None,
    reported_score: Number | None = None,
    formulas: Mapping[str, Formula] = FORMULAS,
) -> Effort:
    """Estimate the effort for one indicator of one unit.

    `reported_score` is the portal's figure; when given it decides whether
    the unit is already at the full mark and how much is left to gain (the
    step is 0.1, or less just below the maximum). Raises KeyError for an
    indicator without a formula and ValueError for impossible counts
    (fractional, negative, or a numerator above its denominator).
    """
    formula = formulas[indicator]
    numerator, denominator = _whole(indicator, numerator), _whole(indicator, denominator)
    if numerator is not None and denominator and not 0 <= numerator <= denominator:
        raise ValueError(f"{indicator}: {numerator} of {denominator} is not a possible count")
    current = None if reported_score is None else Fraction(to_decimal(reported_score))
    if numerator is not None and denominator and current is None:
        current = formula.score(numerator, denominator)
    step = STEP if current is None else max(Fraction(0), min(STEP, formula.max_score - current))
    if current is not None and current >= formula.max_score:
        return _effort(formula, step, 0, 0)
    if numerator is None or not denominator:
        return _effort(formula, step, None, None)
    fitted = formula.score(numerator, denominator)
    if fitted >= formula.max_score:
        return _effort(formula, step, None, None)
    target = min(formula.max_score, fitted + step)
    return _effort(
        formula,
        step,
        _more_for(formula, target, numerator, denominator),
        _more_for(formula, formula.max_score, numerator, denominator),
    )


def _whole(indicator: str, count: float | None) -> int | None:
    """A dossier count as an int; stored figures often carry counts as floats."""
    if count is None:
        return None
    if count != int(count):
        raise ValueError(f"{indicator}: {count} is not a whole number of dossiers")
    return int(count)


def _more_for(formula: Formula, target: Fraction, numerator: int, denominator: int) -> int:
    """Dossiers to add to `numerator` so the formula reaches `target` (integer ceiling)."""
    top, bottom = formula.max_score, formula.full_ratio
    dividend = target.numerator * bottom.numerator * denominator * top.denominator
    divisor = target.denominator * bottom.denominator * top.numerator
    return max(0, -(-dividend // divisor) - numerator)


def _effort(formula: Formula, step: Fraction, for_step: int | None, full: int | None) -> Effort:
    return Effort(
        indicator=formula.indicator,
        formula=formula.expression,
        counts=formula.counts,
        step=float(step),
        for_step=for_step,
        for_full_mark=full,
        assumption=formula.assumption,
    )
