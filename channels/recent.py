"""The de-duplication fast path: provider retries answered from Redis, not the database.

Providers re-send a webhook they think failed (Telegram for a day, Twilio on a time-out), and
during an outage or a slow spell the retries come in bursts. The database path is always
right — intake looks the delivery up by (channel, external id) under a unique constraint —
but each retry costs a transaction, and on SQLite the write lock. With ``REDIS_URL`` set,
each stored delivery is remembered in Redis for ``SAWTI_DEDUP_SECONDS``, and a retry within
that time is answered at once.

It can only ever skip work, never lose a message: a delivery is remembered only after the
transaction that stored it has committed (``handle_inbound`` returns after its commit), so a
key in Redis always names a committed row. A key that is missing (expired, Redis restarted,
Redis down) sends the retry down the database path, which finds the first copy. Keys are a
keyed hash of the channel and the provider's id, so Redis holds no provider ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.conversation import Handled
from casework.intake import Inbound
from casework.privacy import Vault
from channels.redis_link import RedisLink, RedisUnavailable

KEY_PREFIX = "sawti:delivered:"


class RecentDeliveries:
    """Deliveries stored in the last ``seconds``, kept in Redis."""

    def __init__(self, link: RedisLink, vault: Vault, seconds: int) -> None:
        self.link = link
        self.vault = vault
        self.seconds = seconds

    def key(self, inbound: Inbound) -> str:
        return KEY_PREFIX + self.vault.pseudonym(inbound.channel, "delivery:"
                                                 + inbound.external_id)

    def find(self, inbound: Inbound) -> Handled | None:
        """How a delivery already stored was handled, as a duplicate; None if not known."""
        try:
            with self.link.connection() as client:
                stored = client.get(self.key(inbound))
        except RedisUnavailable:
            return None
        if stored is None:
            return None
        try:
            record = json.loads(stored)
            return Handled(message_id=int(record["message"]), duplicate=True,
                           case_reference=record["case"], replies=())
        except (ValueError, KeyError, TypeError):  # not ours: the database decides
            return None

    def remember(self, inbound: Inbound, handled: Handled) -> None:
        """Call only once the delivery's transaction has committed."""
        record = json.dumps({"message": handled.message_id, "case": handled.case_reference})
        try:
            with self.link.connection() as client:
                client.set(self.key(inbound), record, ex=self.seconds)
        except RedisUnavailable:
            pass  # the next retry takes the database path

    def handle(self, inbound: Inbound, handle: Callable[[Inbound], Handled]) -> Handled:
        """A retry from Redis; else ``handle`` it (store and answer, committed) and remember."""
        seen = self.find(inbound)
        if seen is not None:
            return seen
        handled = handle(inbound)
        self.remember(inbound, handled)
        return handled

    def close(self) -> None:
        self.link.close()


def recent_deliveries(redis_url: str | None, vault: Vault, seconds: int
                      ) -> RecentDeliveries | None:
    if not redis_url or seconds <= 0:
        return None
    link = RedisLink(redis_url, degraded="provider retries are found in the database")
    return RecentDeliveries(link, vault, seconds)
