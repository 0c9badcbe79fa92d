"""One Redis connection with a breaker, for the optional Redis paths (``REDIS_URL``).

Redis is never needed for correctness: every user of this link has a database or in-process
path to fall back on. After a failure the link is left alone for ``retry_seconds`` (callers
take their fallback at once instead of waiting for a time-out on every message), and the
outage and the recovery are each logged once, with the error's class and nothing else.

    link = RedisLink(url, degraded="duplicates are looked up in the database")
    try:
        with link.connection() as client:
            client.set(key, value)
    except RedisUnavailable:
        ...  # the fallback
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
TIMEOUT_SECONDS = 1.0


class RedisUnavailable(Exception):
    """Redis could not be reached now (or recently): take the fallback path."""


class RedisLink:
    """A Redis client, and whether to use it right now."""

    def __init__(self, url: str, *, degraded: str, retry_seconds: float = RETRY_SECONDS,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        import redis  # only needed when configured

        self.degraded = degraded  # what the service does instead, for the log
        self.retry_seconds = retry_seconds
        self.client: Redis = redis.Redis.from_url(url, socket_timeout=timeout,
                                                  socket_connect_timeout=timeout)
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """False while Redis is left alone after a failure."""
        return time.monotonic() >= self._down_until

    @contextmanager
    def connection(self) -> Iterator[Redis]:
        """The client; a Redis error inside the block becomes ``RedisUnavailable``."""
        from redis.exceptions import RedisError

        if not self.available:
            raise RedisUnavailable
        try:
            yield self.client
        except RedisError as error:
            self.failed(error)
            raise RedisUnavailable from error
        self.recovered()

    def failed(self, error: Exception) -> None:
        with self._lock:
            first = self._down_until == 0.0
            self._down_until = time.monotonic() + self.retry_seconds
        if first:  # once per outage, not once per message
            log.warning("redis unreachable; %s", self.degraded,
                        extra={"error": type(error).__name__})

    def recovered(self) -> None:
        with self._lock:
            was_down, self._down_until = self._down_until != 0.0, 0.0
        if was_down:
            log.info("redis reachable again (it had been: %s)", self.degraded)

    def close(self) -> None:
        self.client.close()
