"""Two `dvcwatch run` on PostgreSQL: one schedules, the other stands by and takes over when
the leader dies or loses its lock session; a deposed leader can neither claim nor complete
anything, and no (job, scope, period) is ever done by two leaders."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, text

from jobs.leader import ADVISORY_KEY
from service.app import App
from service.claims import JobClaim, Leadership
from service.cli import main
from service.config import Settings
from tests.jobs.world import CHAT, free_port, wait_for
from tests.waiting import PATIENCE

#: What a job logs when it is done: "sync H01 2026-12-05T16:30:02: ok (term 1)".
DONE = re.compile(r"dvcwatch\.jobs: (\S+) (\S+) (\S+): (.*) \(term (\d+)\)$", re.MULTILINE)


@dataclass
class Node:
    """One `dvcwatch run` process and the file its log goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def owner(self) -> str:
        return f"{os.uname().nodename}:{self.process.pid}"

    def text(self, after: int = 0) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[after:]

    def wait_for(self, pattern: str, seconds: float = 90, after: int = 0, count: int = 1) -> None:
        """Until `pattern` (a regular expression) matched `count` lines logged past `after`."""
        found = re.compile(pattern, re.MULTILINE)

        def logged() -> bool:
            assert self.process.poll() is None, f"{self.owner} ended:\n{self.text()}"
            return len(found.findall(self.text(after))) >= count

        try:
            wait_for(logged, seconds)
        except AssertionError as exc:
            raise AssertionError(
                f"{self.owner} never logged {pattern!r}: {exc}\n{self.text()}"
            ) from None

    def done_ok(self) -> set[tuple[str, str, str]]:
        """The (job, scope, period) this process logged as done."""
        return {(m[0], m[1], m[2]) for m in DONE.findall(self.text()) if m[3] == "ok"}


def second_config(config: Path) -> Path:
    text_ = config.read_text(encoding="utf-8")
    other = config.with_name("dvcwatch-b.toml")
    start = text_.index("health_address")
    end = text_.index("\n", start)
    other.write_text(
        text_[:start] + f'health_address = "127.0.0.1:{free_port()}"' + text_[end:],
        encoding="utf-8",
    )
    return other


def leader(app: App) -> str | None:
    with app.sessions()() as session:
        row = session.get(Leadership, "scheduler")
        return row.owner if row else None


def end_lock_session(app: App) -> None:
    """What a database administrator's pg_terminate_backend does to the leader's lock."""
    with app.engine.connect() as connection:
        ended = connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted AND classid::bigint = :key"
                " AND objid::bigint = (hashtext(current_schema())::bigint & 4294967295)"
            ),
            {"key": ADVISORY_KEY},
        )
        connection.commit()
    assert ended == 1


@pytest.fixture
def pg_app(db_url: str) -> Iterator[App]:
    if not db_url.startswith("postgresql"):
        pytest.skip("leader election by advisory lock is a PostgreSQL test")
    app = App(Settings.model_validate({"database": {"url": db_url}}))
    yield app
    app.engine.dispose()


@pytest.fixture
def pair(world, db_url, launch, pg_app, tmp_path) -> tuple[Node, Node]:
    """A leader (term 1) that has done a job, and a standby."""
    _simulator, _telegram, config = world
    main(["db", "upgrade", "--db", db_url, "--config", str(config)])
    first = Node(launch(config, db_url, tmp_path / "a.log"), tmp_path / "a.log")
    first.wait_for(r"leads the scheduling \(term 1\)")
    second = Node(launch(second_config(config), db_url, tmp_path / "b.log"), tmp_path / "b.log")
    second.wait_for("is a standby")
    first.wait_for(r"ok \(term 1\)$")
    return first, second


def stop(node: Node) -> None:
    if node.process.poll() is None:
        node.process.send_signal(signal.SIGTERM)
        assert node.process.wait(timeout=PATIENCE) == 0


def assert_one_leader_per_key(app: App, first: Node, second: Node) -> None:
    """Every claim carries its leader's term; no key was done by both leaders; the
    notice went out once and no message twice."""
    with app.sessions()() as session:
        rows = session.execute(select(JobClaim.term, JobClaim.owner)).all()
    assert set(rows) <= {(1, first.owner), (2, second.owner)}
    assert first.done_ok() & second.done_ok() == set()


def test_one_leader_schedules_and_a_standby_takes_over_when_it_dies(pair, pg_app, world):
    first, second = pair
    _simulator, telegram, _config = world
    first.wait_for(r"ok \(term 1\)$", count=3, after=len(first.text()))
    assert leader(pg_app) == first.owner
    assert "ok (term" not in second.text()  # the standby scheduled nothing
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=PATIENCE)
    second.wait_for(r"leads the scheduling \(term 2\)", 60)
    assert leader(pg_app) == second.owner
    second.wait_for(r"sync H01 \S+: ok \(term 2\)$", count=3)
    stop(second)
    assert len(telegram.calls("sendDocument")) <= 1  # the month's notice, if it could be written
    texts = Counter(telegram.sent_texts(CHAT))
    assert texts and set(texts.values()) == {1}
    assert_one_leader_per_key(pg_app, first, second)


def test_a_leader_whose_lock_session_is_ended_steps_down_and_the_standby_takes_over(
    pair, pg_app, world
):
    first, second = pair
    _simulator, telegram, _config = world
    end_lock_session(pg_app)
    first.wait_for(r"WARNING dvcwatch\.scheduler: \S+ steps down from leadership term 1: ")
    stepped_down = len(first.text())
    second.wait_for(r"leads the scheduling \(term 2\)")
    second.wait_for(r"sync H01 \S+: ok \(term 2\)$", count=3)
    assert leader(pg_app) == second.owner
    assert "leads the scheduling" not in first.text(stepped_down)
    assert first.process.poll() is None  # a standby now, still sending the outbox
    stop(first)
    stop(second)
    assert len(telegram.calls("sendDocument")) <= 1  # the month's notice, if it could be written
    assert set(Counter(telegram.sent_texts(CHAT)).values()) == {1}
    assert_one_leader_per_key(pg_app, first, second)


def test_a_paused_leader_that_lost_its_lock_claims_and_completes_nothing_when_resumed(
    pair, pg_app, world
):
    first, second = pair
    first.process.send_signal(signal.SIGSTOP)
    try:
        end_lock_session(pg_app)
        second.wait_for(r"leads the scheduling \(term 2\)", 120)
        resumed = len(first.text())
    finally:
        first.process.send_signal(signal.SIGCONT)
    first.wait_for(r"steps down from leadership term 1: ", after=resumed)
    second.wait_for(r"sync H01 \S+: ok \(term 2\)$", count=3, after=len(second.text()))
    stop(first)
    stop(second)
    with pg_app.sessions()() as session:
        took_over = session.get_one(Leadership, "scheduler").since
        old = session.scalars(select(JobClaim).where(JobClaim.term == 1)).all()
    assert all(claim.claimed_at < took_over for claim in old)  # no claim after it was deposed
    completed = [claim for claim in old if claim.status == "ok"]
    assert all(claim.finished_at and claim.finished_at < took_over for claim in completed)
    assert "leads the scheduling" not in first.text(resumed)
    assert "a scheduled step failed" not in first.text(resumed)
    assert_one_leader_per_key(pg_app, first, second)
