"""Per-channel send rates (``SAWTI_SEND_RATE``: messages per second), shared by every worker
through Redis when ``REDIS_URL`` is set.

Each channel keeps a sliding one-second log of its sends — in Redis a sorted set, checked and
added to by one Lua script on Redis's own clock, so all workers count together; without Redis
(or while it cannot be reached) a log in this process with the same rule. ``acquire`` says
either "send now" (0) or how many seconds to wait; the dispatcher then puts the message back in
the queue for that long without using an attempt. Redis failing never fails a send: the
in-process log takes over (each worker then keeps the rate on its own).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING

from channels.redis_link import RETRY_SECONDS, RedisLink, RedisUnavailable

if TYPE_CHECKING:
    from redis.commands.core import Script

KEY_PREFIX = "sawti:send_rate:"
WINDOW_SECONDS = 1.0

# KEYS[1] the channel's log; ARGV: limit, window (µs), a unique member. Returns 0 (sent now,
# recorded) or the microseconds until the oldest send in the window leaves it.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
"""


class LocalSendRate:
    """The per-channel limit kept in this process."""

    def __init__(self, limits: Mapping[str, int], window: float = WINDOW_SECONDS) -> None:
        self.limits = {channel: rate for channel, rate in limits.items() if rate > 0}
        self.window = window
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, channel: str) -> float:
        """0 if a message may go out on ``channel`` now (counted), else seconds to wait."""
        limit = self.limits.get(channel)
        if limit is None:
            return 0.0
        with self._lock:
            now = time.monotonic()
            sent = self._sent.setdefault(channel, deque())
            while sent and sent[0] <= now - self.window:
                sent.popleft()
            if len(sent) < limit:
                sent.append(now)
                return 0.0
            return max(0.001, sent[0] + self.window - now)


class SendRate:
    """The per-channel limit, in Redis when given a URL, else (and while Redis is down) in
    this process."""

    def __init__(self, limits: Mapping[str, int], redis_url: str | None = None, *,
                 window: float = WINDOW_SECONDS, retry_seconds: float = RETRY_SECONDS) -> None:
        self.local = LocalSendRate(limits, window)
        self.window = window
        self._link: RedisLink | None = None
        self._script: Script | None = None
        if redis_url:
            self._link = RedisLink(redis_url, degraded="send rates kept by this worker alone",
                                   retry_seconds=retry_seconds)
            self._script = self._link.client.register_script(_SLIDING_WINDOW)

    @property
    def shared(self) -> bool:
        """Whether the limit is kept in Redis right now (shared by all workers)."""
        return self._link is not None and self._link.available

    def acquire(self, channel: str) -> float:
        """0 if a message may go out on ``channel`` now (counted), else seconds to wait."""
        limit = self.local.limits.get(channel)
        if limit is None:
            return 0.0
        if self._link is None or self._script is None:
            return self.local.acquire(channel)
        try:
            with self._link.connection():
                wait = self._script(keys=[KEY_PREFIX + channel],
                                    args=[limit, int(self.window * 1_000_000), uuid.uuid4().hex])
        except RedisUnavailable:
            return self.local.acquire(channel)
        return int(wait) / 1_000_000

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
