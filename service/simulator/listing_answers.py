"""The generated answers of the three listing endpoints: one metric scorecard per unit.

transparency (CKMB), handling-satisfaction (MDHL) and dossier-digitized (MDSH)
answer an `overview` (the province) and a paged `evaluation` (its units), each
a row of metrics scored by the rules of `service.simulator.metrics`. The answers
carry every field the recorded ones carry, with the same nulls.
"""

from __future__ import annotations

import statistics

from service import indicators
from service.portal import api
from service.simulator.country import PROVINCE, Department
from service.simulator.counts import Figures, Tally
from service.simulator.metrics import (
    CONTENT,
    DIGITISATION,
    NO_SYNC_REPORT,
    PUBLISH,
    SATISFACTION,
    SYNC,
    TEMPORARY_SYNC,
    UPDATE,
    axis_total,
)
from service.simulator.queries import JSON, figure

# The axes' maxima (the portal prints them as whole numbers).
_CKMB, _MDHL, _MDSH = (int(a.maximum) for a in (indicators.CKMB, indicators.MDHL, indicators.MDSH))
# Each listing names the portal's backend collections it was read from, in `source`.
SOURCES = {
    api.TRANSPARENCY: "reporting_766_transparency_* and reporting_dvc_calendar Mongo collections",
    api.HANDLING_SATISFACTION: "reporting_766_satisfaction_petition_months, "
    "reporting_766_satisfaction_dossier_periods",
    api.DOSSIER_DIGITIZED: "reporting_digitized_dossiers_daily Mongo collection",
}


def _row(department: Department, stt: int, with_code: bool = False) -> JSON:
    row: JSON = {
        "stt": stt,
        "departmentId": department.department_id,
        "departmentName": department.name,
    }
    if with_code:
        row["departmentCode"] = department.code
    return row | {
        "departmentType": department.department_type,
        "departmentLevel": department.level,
        "agencyLevel": "level_1" if department.department_type == PROVINCE else "level_2",
    }


def _listing(
    endpoint: api.Endpoint, overview: JSON, evaluation: list[JSON], chart: bool = False
) -> JSON:
    head: JSON = {endpoint.root_key: overview} | ({"monthlyChart": []} if chart else {})
    units = {endpoint.list_key: evaluation, "pagination": None}
    return head | units | {"source": SOURCES[endpoint]}


def transparency(figures: Figures) -> JSON:
    """CKMB: publication figures are the province's, shared by its units; sync is per unit."""
    catalogue = figures.catalogue
    published = [
        PUBLISH.show(catalogue.publish_done, catalogue.publish_due),
        UPDATE.show(catalogue.update_done, catalogue.update_due),
        CONTENT.show(catalogue.content_full, catalogue.content_total),
    ]

    def scored(tally: Tally) -> JSON:
        sync = SYNC.show(tally.synced, tally.received)
        quality = (
            NO_SYNC_REPORT
            if not tally.received
            else (TEMPORARY_SYNC if figures.province.temporary_sync else {})
        )
        metrics = [*published, sync | quality]
        return axis_total(metrics, _CKMB) | {"scoreDelta": None, "metrics": metrics}

    evaluation = [_row(unit, stt) | scored(tally) for stt, unit, tally in figures.members()]
    average = statistics.fmean(row["totalScore"] for row in evaluation) if evaluation else 0
    overview = (
        _row(figures.province.department, 1)
        | scored(figures.total)
        | {"averageScore": figure(average)}
    )
    return _listing(api.TRANSPARENCY, overview, evaluation, chart=True)


def handling_satisfaction(figures: Figures) -> JSON:
    """MDHL: petitions (PAKN) and dossier satisfaction."""

    def row(stt: int, department: Department, t: Tally) -> JSON:
        metrics = [
            rule.show(numerator, denominator)
            for rule, numerator, denominator in zip(
                SATISFACTION,
                (
                    t.petitions_tthc,
                    t.satisfied,
                    t.petitions_on_time,
                    t.petitions_satisfied,
                    t.petitions_staff,
                ),
                (t.petitions, t.received, t.petitions, t.petitions, t.petitions),
                strict=True,
            )
        ]
        return (
            _row(department, stt)
            | axis_total(metrics, _MDHL)
            | {
                "scoreDelta": None,
                "metrics": metrics,
                "totalPetitions": t.petitions,
                "classifiedPetitions": t.petitions,
                "totalDossiers": t.received,
                "averageScore": None,
            }
        )

    evaluation = [row(*member) for member in figures.members()]
    overview = row(1, figures.province.department, figures.total)
    return _listing(api.HANDLING_SATISFACTION, overview, evaluation)


def dossier_digitized(figures: Figures) -> JSON:
    """MDSH: results issued electronically, digitised and reused dossiers."""

    def row(stt: int, department: Department, t: Tally, formalities: tuple[int, int]) -> JSON:
        per_dossier = (t.e_result, t.digitised, t.reused, t.storage, t.citizen)
        metrics = [
            rule.show(done, t.received)
            for rule, done in zip(DIGITISATION[:5], per_dossier, strict=True)
        ]
        # Certified copies have no counts: the portal shows null / null, 100 %, full points.
        metrics += [DIGITISATION[5].show(*formalities), DIGITISATION[6].show(None, None)]
        return (
            _row(department, stt, with_code=True)
            | axis_total(metrics, _MDSH)
            | {"metrics": metrics, "scoreDelta": None}
        )

    evaluation = [
        row(*member, (member[2].citizen_formalities, member[2].formalities))
        for member in figures.members()
    ]
    catalogue = figures.catalogue
    overview = row(
        1,
        figures.province.department,
        figures.total,
        (catalogue.citizen_formalities, catalogue.formalities),
    )
    return _listing(api.DOSSIER_DIGITIZED, overview, evaluation)
