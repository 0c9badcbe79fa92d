"""The scheduler inside ``flask worker``: one leader among workers through the real Redis on
127.0.0.1:6379, failing jobs retried and logged, and the ``flask jobs`` commands."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from casework.models import AuditEvent, ReportSubmission
from casework.scheduler import (
    JOBS,
    Job,
    RedisLease,
    Scheduler,
    SoleWorker,
    leadership_for,
)
from config.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"
TICK = timedelta(seconds=0.05)
LEASE_SECONDS = 1.0


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    client.ping()  # the suite needs Redis: scripts/ensure-services starts it
    yield client
    client.close()


@pytest.fixture
def lock_key(redis_client: redis.Redis) -> Iterator[str]:
    key = f"sawti-test:{uuid.uuid4().hex}:scheduler-lock"
    yield key
    redis_client.delete(key)


class Runs:
    """What the test jobs did, by worker, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[str] = []

    def job(self, worker: str) -> Job:
        def run(session: Any, services: Any, now: datetime) -> None:
            with self._lock:
                self.items.append(worker)
        return Job(f"record-{worker}", run, TICK)

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.items)

    def wait_for(self, condition: Callable[[list[str]], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.snapshot()):
                return
            time.sleep(0.02)
        raise AssertionError(f"condition not met; runs so far: {self.snapshot()}")


def worker(app: Flask, client: redis.Redis, key: str, runs: Runs, name: str) -> Scheduler:
    lease = RedisLease(client, key, ttl=LEASE_SECONDS)
    return Scheduler(app, lease, [runs.job(name)], renew_seconds=0.1, retry_delays=())


def test_two_workers_one_runs_the_jobs_and_the_other_takes_over(
        app: Flask, redis_client: redis.Redis, lock_key: str) -> None:
    runs = Runs()
    first = worker(app, redis_client, lock_key, runs, "first")
    second = worker(app, redis_client, lock_key, runs, "second")
    first.start()
    second.start()
    try:
        runs.wait_for(lambda items: len(items) >= 10)
        assert set(runs.snapshot()) == {"first"}
        assert redis_client.exists(lock_key) == 1

        first.shutdown()  # releases the lock: the other worker takes over at its next renewal
        before = len(runs.snapshot())
        runs.wait_for(lambda items: items[before:].count("second") >= 5)
        assert "first" not in runs.snapshot()[before:]
    finally:
        first.shutdown()
        second.shutdown()
    assert redis_client.exists(lock_key) == 0


def test_a_worker_that_dies_loses_the_lock_when_it_expires(
        app: Flask, redis_client: redis.Redis, lock_key: str) -> None:
    dead = RedisLease(redis_client, lock_key, ttl=LEASE_SECONDS)
    dead.refresh()  # took the lock, then never renews it: a killed process
    assert dead.holds()
    runs = Runs()
    survivor = worker(app, redis_client, lock_key, runs, "survivor")
    survivor.start()
    died = time.monotonic()
    try:
        runs.wait_for(lambda items: "survivor" in items, timeout=LEASE_SECONDS + 3)
        assert time.monotonic() - died >= LEASE_SECONDS * 0.5  # it waited for the expiry
        assert not dead.holds()
    finally:
        survivor.shutdown()


def test_without_redis_the_only_worker_runs_the_jobs(app: Flask) -> None:
    runs = Runs()
    sole = Scheduler(app, SoleWorker(), [runs.job("sole")], retry_delays=())
    sole.start()
    try:
        runs.wait_for(lambda items: len(items) >= 3)
    finally:
        sole.shutdown()
    assert isinstance(leadership_for(None), SoleWorker)
    assert isinstance(leadership_for(REDIS_URL), RedisLease)


def test_an_unreachable_redis_pauses_the_jobs_and_says_so(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    runs = Runs()
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    scheduler = Scheduler(app, RedisLease(dead, "sawti-test:unreachable"), [runs.job("x")],
                          retry_delays=())
    with caplog.at_level(logging.WARNING):
        assert scheduler.run(runs.job("x")) is False
        scheduler.leadership.refresh()
    assert runs.snapshot() == []
    assert any("redis unreachable" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(("failures", "succeeded", "calls"), [
    pytest.param(2, True, 3, id="fails-twice-then-works"),
    pytest.param(9, False, 3, id="fails-every-time"),
])
def test_a_failing_job_is_retried_and_logged(app: Flask, caplog: pytest.LogCaptureFixture,
                                             failures: int, succeeded: bool, calls: int
                                             ) -> None:
    attempts: list[datetime] = []

    def flaky(session: Any, services: Any, now: datetime) -> None:
        attempts.append(now)
        if len(attempts) <= failures:
            raise RuntimeError("database went away")

    scheduler = Scheduler(app, SoleWorker(), [], retry_delays=(0.01, 0.01))
    with caplog.at_level(logging.INFO):
        assert scheduler.run(Job("flaky", flaky, TICK)) is succeeded
    assert len(attempts) == calls
    failed = [r for r in caplog.records if r.getMessage() == "scheduled job failed"]
    assert len(failed) == min(failures, calls)
    assert all(r.job == "flaky" and r.exc_info for r in failed)  # type: ignore[attr-defined]
    gave_up = any("failed on every attempt" in r.getMessage() for r in caplog.records)
    assert gave_up is not succeeded


def test_a_stopping_worker_does_not_wait_for_retries(app: Flask) -> None:
    def broken(session: Any, services: Any, now: datetime) -> None:
        raise RuntimeError("broken")

    scheduler = Scheduler(app, SoleWorker(), [], retry_delays=(30.0,))
    threading.Timer(0.1, scheduler.shutdown).start()
    started = time.monotonic()
    assert scheduler.run(Job("broken", broken, TICK)) is False
    assert time.monotonic() - started < 5


# --- flask jobs --------------------------------------------------------------------------------


def test_jobs_list_and_run(app: Flask) -> None:
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["jobs", "list"])
    assert listed.exit_code == 0
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == [
        job.name for job in JOBS]
    result = runner.invoke(args=["jobs", "run", "send_surveys"])
    assert result.exit_code == 0 and result.output.strip() == "send_surveys: 0"
    unknown = runner.invoke(args=["jobs", "run", "nothing"])
    assert unknown.exit_code != 0 and "no scheduled job 'nothing'" in unknown.output


def test_every_job_runs_on_an_empty_database(app: Flask) -> None:
    """A smoke test of the real jobs through the scheduler's own wrapper (the monthly report,
    which takes seconds, is tested below)."""
    scheduler = Scheduler(app, SoleWorker(), JOBS, retry_delays=())
    for job in JOBS:
        if job.name != "monthly_report":
            assert scheduler.run(job) is True, job.name


def test_the_monthly_report_is_kept_once_a_month(app: Flask, settings: Settings) -> None:
    from casework.report_files import kept_path
    from casework.scheduler import monthly_report
    from extensions import db
    from services import services

    # 1 December 2026, 00:30 in Damascus: November's report is due.
    now = datetime(2026, 11, 30, 21, 30, tzinfo=UTC)
    with app.app_context():
        assert monthly_report(db.session, services(), now) is True
        november = date(2026, 11, 1)
        for fmt in ("xlsx", "pdf", "csv"):
            assert kept_path(settings.sawti_instance_path, november, fmt, "ar").stat().st_size
        assert monthly_report(db.session, services(), now + timedelta(hours=5)) is False
        assert monthly_report(db.session, services(), now + timedelta(days=20)) is False
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "report.monthly_scheduled")).one()
        assert event.details == {"month": "2026-11"}
        logged = db.session.scalars(select(ReportSubmission)).one()  # the submission log
        assert (logged.month, logged.submitted_at) == (november, None)
        assert logged.generated_at is not None
