"""Dispatcher wake-ups through Redis (on when ``REDIS_URL`` is set).

A transaction that queued outbound messages (``casework.outbox`` marks the session) pushes a
wake-up on a Redis list once it has committed; an idle dispatcher waits on that list (BLPOP)
instead of polling the database every ``SAWTI_WORKER_POLL_SECONDS``, and still looks at the
database when the next queued message is due and at least every
``SAWTI_WORKER_REDIS_POLL_SECONDS``.

Redis is never needed for correctness: the rows are in the database. When Redis cannot be
reached, publishing logs a warning and is skipped (the request that queued the message never
fails), the dispatcher polls as without Redis, and neither side tries Redis again for
``RETRY_SECONDS``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from casework.outbox import QUEUED_INFO

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)

WAKEUP_KEY = "sawti:outbox:wakeup"
EXTENSION = "sawti_wakeup"
KEEP = 64  # wake-ups kept while no worker listens: enough to wake every worker
WAIT_SLICE_SECONDS = 1.0  # longest single BLPOP, so that a stopping worker stops promptly
RETRY_SECONDS = 5.0  # after a failure, Redis is left alone this long
TIMEOUT_SECONDS = 1.0  # connect and command time-out (a BLPOP gets its wait on top)


class Wakeups:
    """Publish and wait for dispatcher wake-ups on one Redis list."""

    def __init__(self, url: str, *, key: str = WAKEUP_KEY,
                 retry_seconds: float = RETRY_SECONDS) -> None:
        import redis  # only needed when configured

        self.key = key
        self.retry_seconds = retry_seconds
        self._client: Redis = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
        self._blocking: Redis = redis.Redis.from_url(
            url, socket_timeout=WAIT_SLICE_SECONDS + TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS)
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """False while Redis is left alone after a failure."""
        return time.monotonic() >= self._down_until

    def publish(self) -> bool:
        """Wake one idle dispatcher; False (never an exception) if Redis is unavailable."""
        from redis.exceptions import RedisError

        if not self.available:
            return False
        try:
            with self._client.pipeline(transaction=False) as pipe:
                pipe.lpush(self.key, "1")
                pipe.ltrim(self.key, 0, KEEP - 1)
                pipe.execute()
        except RedisError as error:
            self._failed(error, "redis unreachable; dispatcher wake-up skipped")
            return False
        self._recovered()
        return True

    def wait(self, timeout: float, stop: threading.Event) -> bool | None:
        """Block until a wake-up (True), ``timeout`` seconds or ``stop`` (False); None when
        Redis is unavailable and the caller should poll instead."""
        from redis.exceptions import RedisError

        if not self.available:
            return None
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining < 0.01:  # BLPOP with a zero time-out would block for ever
                return False
            try:
                popped = self._blocking.blpop([self.key], timeout=min(WAIT_SLICE_SECONDS,
                                                                       remaining))
            except RedisError as error:
                self._failed(error, "redis unreachable; the dispatcher polls the database")
                return None
            self._recovered()
            if popped is not None:
                return True
        return False

    def close(self) -> None:
        self._client.close()
        self._blocking.close()

    def _failed(self, error: Exception, message: str) -> None:
        with self._lock:
            first = self._down_until == 0.0
            self._down_until = time.monotonic() + self.retry_seconds
        if first:  # once per outage, not once per message
            log.warning(message, extra={"error": type(error).__name__})

    def _recovered(self) -> None:
        with self._lock:
            was_down, self._down_until = self._down_until != 0.0, 0.0
        if was_down:
            log.info("redis reachable again; dispatcher wake-ups resumed")


def wakeups_for(redis_url: str | None) -> Wakeups | None:
    return Wakeups(redis_url) if redis_url else None


def install(app: Flask, redis_url: str | None) -> None:
    """Publish a wake-up after each of this application's commits that queued messages."""
    wakeups = wakeups_for(redis_url)
    if wakeups is not None:
        app.extensions[EXTENSION] = wakeups


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    if not session.info.pop(QUEUED_INFO, False) or not has_app_context():
        return
    wakeups = current_app.extensions.get(EXTENSION)
    if wakeups is not None:
        wakeups.publish()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(QUEUED_INFO, None)
