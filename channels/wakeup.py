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

import threading
import time
from typing import TYPE_CHECKING

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from casework.outbox import QUEUED_INFO
from channels.redis_link import RETRY_SECONDS, TIMEOUT_SECONDS, RedisLink, RedisUnavailable

if TYPE_CHECKING:
    from redis import Redis


WAKEUP_KEY = "sawti:outbox:wakeup"
EXTENSION = "sawti_wakeup"
KEEP = 64  # wake-ups kept while no worker listens: enough to wake every worker
WAIT_SLICE_SECONDS = 1.0  # longest single BLPOP, so that a stopping worker stops promptly


class Wakeups:
    """Publish and wait for dispatcher wake-ups on one Redis list."""

    def __init__(self, url: str, *, key: str = WAKEUP_KEY,
                 retry_seconds: float = RETRY_SECONDS) -> None:
        import redis  # only needed when configured

        self.key = key
        self.link = RedisLink(url, degraded="dispatcher wake-ups skipped; workers poll the "
                              "database", retry_seconds=retry_seconds)
        self._blocking: Redis = redis.Redis.from_url(
            url, socket_timeout=WAIT_SLICE_SECONDS + TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS)

    @property
    def available(self) -> bool:
        """False while Redis is left alone after a failure."""
        return self.link.available

    def publish(self) -> bool:
        """Wake one idle dispatcher; False (never an exception) if Redis is unavailable."""
        try:
            with self.link.connection() as client, client.pipeline(transaction=False) as pipe:
                pipe.lpush(self.key, "1")
                pipe.ltrim(self.key, 0, KEEP - 1)
                pipe.execute()
        except RedisUnavailable:
            return False
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
                self.link.failed(error)
                return None
            self.link.recovered()
            if popped is not None:
                return True
        return False

    def close(self) -> None:
        self.link.close()
        self._blocking.close()


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
