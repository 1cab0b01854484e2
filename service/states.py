"""The states a sync run, a job's claim and a message go through, as the database stores
them. They live apart from the models so that a reader without SQLAlchemy (`dvcwatch
status`, `service.status`) names them as the writers do."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """A sync run's (`fetch_runs.status`)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    BLOCKED = "blocked"


#: A job's claim (`job_claims.status`): held, done, or failed (to be tried again).
CLAIM_RUNNING, CLAIM_OK, CLAIM_FAILED = "running", "ok", "failed"


class DeliveryStatus(StrEnum):
    """A message's status; a delivery takes the status of the message holding its line."""

    PENDING = "pending"
    SENDING = "sending"  # claimed: its request is about to leave or in flight
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"  # outcome unknown (timeout, reset, killed sender): never re-sent
    SUMMARISED = "summarised"  # told in a summary (alerts/summaries.py), not as a line
