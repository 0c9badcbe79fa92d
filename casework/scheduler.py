"""Scheduled jobs and the scheduler that runs them inside ``flask worker``.

Every job is a plain function ``job(session, services, now)``: tests call it with a frozen
``now``; the scheduler (APScheduler) only triggers it. Jobs catch up rather than fire at an
exact time — the digest job runs every few minutes and sends each officer's digest once the
local morning has come, if it was not sent yet — so a restart, a failure or a change of
leader never loses a run, and what was sent is recorded (``Notification.dedupe_key``), so
running a job twice never sends twice.

With ``REDIS_URL`` set, several workers may run: one of them holds a Redis lock (renewed
while it lives, released when it stops, expiring if it dies) and only that one runs the jobs.
Without Redis the single worker runs them. A job that fails is logged and retried with
back-off, then again at its next run.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import Speaker
from casework import audit, notifications, programme, retention, survey
from casework.access import listed_cases, viewable_cases
from casework.deadlines import day_start, local_date, local_hour, window_end
from casework.mailer import Mailer
from casework.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Notification,
    Referral,
    Role,
    User,
    utcnow,
)
from casework.notifications import DeliveryError, DeliverySettings, Transport
from casework.privacy import AddressDecryptionError, Vault
from channels.base import ChannelAdapter, Outbound, PermanentSendError, SendError

if TYPE_CHECKING:
    from redis import Redis

    from services import Services

log = logging.getLogger(__name__)

DIGEST_ROLES = (Role.OFFICER, Role.PSEA)
DIGEST_DAYS_AHEAD = 3  # "due in the next 3 days": today and the three local days after it
DIGEST_ITEMS = 50  # cases listed per section; the rest are counted
REFERRAL_REMINDER_DAYS = 2  # the first reminder, this many days before the due day
LOCK_KEY = "sawti:scheduler:lock"
LOCK_TTL_SECONDS = 30.0
RETRY_DELAYS_SECONDS = (5.0, 30.0, 120.0)


# --- the jobs -----------------------------------------------------------------------------


def deliver_notifications(session: Session, services: Services, now: datetime) -> int:
    """Send pending notifications by e-mail and Telegram."""
    settings = services.settings
    adapter = services.adapters.get("telegram")
    transports: dict[str, Transport | None] = {
        "email": Mailer.from_settings(settings),
        "telegram": TelegramTransport(adapter, services.vault) if adapter else None,
    }
    delivery = DeliverySettings(
        timezone=settings.sawti_timezone, max_attempts=settings.sawti_send_max_attempts,
        backoff_seconds=settings.sawti_send_backoff_seconds,
        backoff_max_seconds=settings.sawti_send_backoff_max_seconds,
        console_url=settings.public_url, org_name=settings.sawti_org_name)
    return notifications.deliver_due(session, transports, delivery, Speaker, now)


def send_surveys(session: Session, services: Services, now: datetime) -> int:
    """Queue the satisfaction survey of cases closed with a reply sent."""
    return survey.send_surveys(
        session, now, adapters=services.adapters,
        question=lambda language, reference: Speaker(language).survey_question(reference),
        dialogue_timeout=services.dialogue.question_timeout,
        languages=services.dialogue.reply_languages)


def daily_digest(session: Session, services: Services, now: datetime) -> int:
    """Each officer's and PSEA focal point's morning digest: overdue cases and cases due in
    the next days that they may open, and trend alerts; once per local day."""
    settings = services.settings
    zone = settings.sawti_timezone
    if local_hour(now, zone) < settings.sawti_digest_hour:
        return 0
    day = local_date(now, zone).isoformat()
    end = window_end(now, zone, DIGEST_DAYS_AHEAD)
    trends: list[dict[str, Any]] | None = None
    created = 0
    with _committed(session):
        for user in notifications.users_with_roles(session, DIGEST_ROLES):
            key = f"digest:{user.id}:{day}"
            if _recorded(session, key):
                continue
            if trends is None:
                trends = _trend_alerts(session, services, now)
            params = _digest_params(session, user, now, end, trends) | {"date": day}
            if not (params["overdue_total"] or params["due_soon_total"] or params["trends"]):
                continue  # nothing to say today; a case due later today may still bring one
            if notifications.create(session, user, notifications.DIGEST, params=params,
                                    now=now, dedupe_key=key):
                created += 1
    return created


def referral_reminders(session: Session, services: Services, now: datetime) -> int:
    """Remind the recipient of an unanswered referral two days before its due day and on it.

    Each reminder goes once (recorded by its key); one whose day passed while no worker ran
    is not sent late. Sent from the local morning on, like the digest.
    """
    settings = services.settings
    zone = settings.sawti_timezone
    if local_hour(now, zone) < settings.sawti_digest_hour:
        return 0
    today = local_date(now, zone)
    start, end = day_start(today, zone), window_end(now, zone, REFERRAL_REMINDER_DAYS)
    referrals = session.scalars(
        select(Referral).join(Case).join(User, Referral.to_user_id == User.id)
        .where(Referral.answered_at.is_(None), Referral.due_at >= start, Referral.due_at < end,
               Case.status != CaseStatus.CLOSED, User.active.is_(True))
        .order_by(Referral.due_at, Referral.id))
    created = 0
    with _committed(session):
        for referral in referrals:
            due_today = local_date(referral.due_at, zone) == today
            kind = notifications.REFERRAL_DUE if due_today else notifications.REFERRAL_DUE_SOON
            key = f"referral:{referral.id}:{'due' if due_today else 'soon'}"
            params = notifications.referral_params(referral)
            if notifications.create(session, referral.to_user, kind, params=params, now=now,
                                    case=referral.case, dedupe_key=key):
                created += 1
    return created


def monthly_report(session: Session, services: Services, now: datetime) -> bool:
    """Keep last month's report files, once, from the first day of the month (or the first
    day a worker runs after it)."""
    zone = services.settings.sawti_timezone
    today = local_date(now, zone)
    done = session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "report.monthly_scheduled",
        AuditEvent.at >= day_start(today.replace(day=1), zone)).limit(1))
    session.rollback()  # no transaction held while the report is made
    if done is not None:
        return False
    from casework.report_files import keep_monthly_report  # heavy (WeasyPrint): on use only

    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    keep_monthly_report(session, services, last_month)
    programme.record_generated(session, last_month, now)
    with _committed(session):
        event = audit.record(session, "report.monthly_scheduled",
                             month=last_month.strftime("%Y-%m"))
        event.at = now  # the job's clock: what "this month" means for the next run
    return True


@contextlib.contextmanager
def _committed(session: Session) -> Iterator[None]:
    """Commit what the block wrote, or roll it back if it raised (a job's caller may be a
    test or the command line, not only the scheduler, whose app context would)."""
    try:
        yield
        session.commit()
    except Exception:
        session.rollback()
        raise


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Session, Services, datetime], object]
    every: timedelta


JOBS: tuple[Job, ...] = (
    Job("deliver_notifications", deliver_notifications, timedelta(seconds=15)),
    Job("send_surveys", send_surveys, timedelta(minutes=1)),
    Job("daily_digest", daily_digest, timedelta(minutes=5)),
    Job("referral_reminders", referral_reminders, timedelta(minutes=5)),
    Job("monthly_report", monthly_report, timedelta(hours=1)),
    Job("retention", retention.retention_job, timedelta(hours=1)),
)


def job_named(name: str) -> Job:
    found = next((job for job in JOBS if job.name == name), None)
    if found is None:
        raise KeyError(f"no scheduled job {name!r}; known: {', '.join(j.name for j in JOBS)}")
    return found


# --- what the digest says -------------------------------------------------------------------


def _recorded(session: Session, key: str) -> bool:
    return session.scalar(
        select(Notification.id).where(Notification.dedupe_key == key)) is not None


def _digest_params(session: Session, user: User, now: datetime, end: datetime,
                   trends: list[dict[str, Any]]) -> dict[str, Any]:
    rows = session.execute(
        select(Case.reference, Case.level, Case.due_at)
        .where(Case.status != CaseStatus.CLOSED, Case.due_at < end, listed_cases(user),
               viewable_cases(user))
        .order_by(Case.due_at, Case.id)).all()
    items = [{"reference": reference, "level": level, "due_at": due.isoformat()}
             for reference, level, due in rows]
    overdue = [item for item, row in zip(items, rows, strict=True) if row.due_at <= now]
    soon = [item for item, row in zip(items, rows, strict=True) if row.due_at > now]
    return {"overdue": overdue[:DIGEST_ITEMS], "overdue_total": len(overdue),
            "due_soon": soon[:DIGEST_ITEMS], "due_soon_total": len(soon),
            "trends": [trend for trend in trends if _trend_for(user, trend)]}


def _trend_for(user: User, trend: dict[str, Any]) -> bool:
    """A location's trend goes to officers of that location; category trends to everyone
    (they are counts; the cases behind them are listed by the queue's own rules)."""
    if trend["dimension"] != "location" or user.role != Role.OFFICER or not user.locations:
        return True
    return any(trend["code"] == code or code.startswith(trend["code"] + "-")
               or trend["code"].startswith(code + "-") for code in user.locations)


def _trend_alerts(session: Session, services: Services, now: datetime) -> list[dict[str, Any]]:
    """Part B's trend alerts (``casework.trends``) as digest parameters: numbers and names."""
    from casework.trends import trend_alerts

    org = services.org_data
    found = []
    for alert in trend_alerts(session, now, tz=ZoneInfo(services.settings.sawti_timezone)):
        place = (org.category(alert.code) if alert.dimension == "category"
                 else org.location(alert.code))
        found.append({
            "dimension": alert.dimension, "code": alert.code, "count": alert.count,
            "baseline": round(alert.mean, 1), "queue": alert.queue_path(),
            "label_ar": place.name_ar if place else alert.code,
            "label_en": place.name_en if place else alert.code,
        })
    return found


# --- Telegram transport for staff alerts ----------------------------------------------------


class TelegramTransport:
    """Staff alerts through the Telegram channel's adapter (the real client, one loop)."""

    def __init__(self, adapter: ChannelAdapter, vault: Vault) -> None:
        self.adapter, self.vault = adapter, vault

    def send(self, address: str, subject: str, body: str) -> None:
        try:
            chat = self.vault.decrypt(address)
        except AddressDecryptionError:
            raise DeliveryError("telegram chat cannot be decrypted", permanent=True) from None
        outbound = Outbound(message_id=0, channel="telegram", address=chat, body=body,
                            kind="staff_alert", language="", reference=None)
        try:
            self.adapter.send(outbound)
        except PermanentSendError as error:
            raise DeliveryError(str(error), permanent=True) from None
        except SendError as error:
            raise DeliveryError(str(error)) from None


# --- leadership and the scheduler -----------------------------------------------------------


class Leadership(Protocol):
    def refresh(self) -> None:
        """Try to become (or stay) the worker that runs the jobs."""

    def holds(self) -> bool:
        """Whether this worker runs the jobs right now."""

    def release(self) -> None:
        """Step down (the worker stops)."""


class SoleWorker:
    """No Redis: there is one worker, and it runs the jobs."""

    def refresh(self) -> None:
        pass

    def holds(self) -> bool:
        return True

    def release(self) -> None:
        pass


class RedisLease:
    """A Redis lock with a time-out, renewed while held: a worker that dies loses it within
    ``ttl`` seconds and another one takes over."""

    def __init__(self, client: Redis, key: str = LOCK_KEY, ttl: float = LOCK_TTL_SECONDS
                 ) -> None:
        self._lock = client.lock(key, timeout=ttl, thread_local=False)
        self._held = False
        self._mutex = threading.Lock()

    def refresh(self) -> None:
        from redis.exceptions import LockError, RedisError

        with self._mutex:
            try:
                if self._held:
                    self._lock.reacquire()
                else:
                    self._held = bool(self._lock.acquire(blocking=False))
                    if self._held:
                        log.info("this worker now runs the scheduled jobs")
            except LockError:
                self._held = False
                log.warning("the scheduler lock was lost; another worker runs the jobs")
            except RedisError as error:
                self._held = False
                log.warning("redis unreachable; scheduled jobs paused on this worker",
                            extra={"error": type(error).__name__})

    def holds(self) -> bool:
        from redis.exceptions import RedisError

        if not self._held:
            return False
        try:
            return bool(self._lock.owned())
        except RedisError:
            return False

    def release(self) -> None:
        from redis.exceptions import LockError, RedisError

        with self._mutex:
            if self._held:
                # Expired or unreachable: the lock frees itself when its time-out passes.
                with contextlib.suppress(LockError, RedisError):
                    self._lock.release()
            self._held = False


def leadership_for(redis_url: str | None, key: str = LOCK_KEY) -> Leadership:
    if not redis_url:
        return SoleWorker()
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    return RedisLease(client, key)


class Scheduler:
    """APScheduler in the background of ``flask worker``: triggers the jobs while this
    worker holds the leadership, each in its own application context and session."""

    def __init__(self, app: Flask, leadership: Leadership, jobs: Sequence[Job] = JOBS, *,
                 renew_seconds: float = LOCK_TTL_SECONDS / 3,
                 retry_delays: Sequence[float] = RETRY_DELAYS_SECONDS) -> None:
        self.app, self.leadership, self.jobs = app, leadership, tuple(jobs)
        self.renew_seconds, self.retry_delays = renew_seconds, tuple(retry_delays)
        self._stop = threading.Event()
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run else

    def start(self) -> None:
        self.leadership.refresh()
        first = datetime.now(UTC)
        self._scheduler.add_job(self.leadership.refresh,
                                IntervalTrigger(seconds=self.renew_seconds, timezone=UTC),
                                id="leadership")
        for job in self.jobs:
            self._scheduler.add_job(self.run, IntervalTrigger(
                seconds=job.every.total_seconds(), timezone=UTC), args=[job], id=job.name,
                next_run_time=first)
        self._scheduler.start()
        log.info("scheduler started", extra={"jobs": [job.name for job in self.jobs],
                                             "leader": self.leadership.holds()})

    def shutdown(self) -> None:
        self._stop.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self.leadership.release()

    def run(self, job: Job) -> bool:
        """Run one job now if this worker leads; retried with back-off when it fails."""
        delays = (*self.retry_delays, None)
        for attempt, delay in enumerate(delays, start=1):
            if self._stop.is_set() or not self.leadership.holds():
                return False
            try:
                with self.app.app_context():
                    from extensions import db
                    from services import services

                    job.run(db.session, services(), utcnow())
                return True
            except Exception:
                log.exception("scheduled job failed", extra={"job": job.name,
                                                             "attempt": attempt})
                if delay is None or self._stop.wait(delay):
                    break
        log.error("scheduled job failed on every attempt; it runs again at its next time",
                  extra={"job": job.name})
        return False

