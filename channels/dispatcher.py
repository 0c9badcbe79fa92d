"""The dispatcher: sends outbox messages through their channel's adapter.

Each round leases a batch of due messages (one short transaction), sends them outside any
transaction, and records each result. Retryable errors back off exponentially up to
``SAWTI_SEND_MAX_ATTEMPTS``; the final failure is recorded on the case. Each channel's
``SAWTI_SEND_RATE`` is kept (``channels.send_rate``): a message over it goes back in the queue
for a moment without using an attempt. An idle dispatcher waits for a Redis wake-up
(``channels.wakeup``) when REDIS_URL is set, else polls the database.
"""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from casework import audit, outbox
from casework.models import DeliveryStatus, Message, utcnow
from casework.privacy import AddressDecryptionError, Vault
from channels import delivery
from channels.attachments import AttachmentFetcher
from channels.base import (
    ChannelAdapter,
    Outbound,
    PermanentSendError,
    RetryableSendError,
    SendError,
    SendResult,
    WindowClosedError,
)
from channels.send_rate import SendRate
from channels.wakeup import Wakeups, wakeups_for
from config.settings import Settings

log = logging.getLogger(__name__)
# Sent even to a contact who opted out: the one confirmation that they did.
ALWAYS_SENT_KINDS = {"opt_out"}


class Dispatcher:
    def __init__(self, session: Session, adapters: dict[str, ChannelAdapter], vault: Vault,
                 settings: Settings, fetcher: AttachmentFetcher | None = None, *,
                 send_rate: SendRate | None = None, wakeups: Wakeups | None = None,
                 batch: int = 50) -> None:
        self.session = session
        self.adapters = adapters
        self.vault = vault
        self.settings = settings
        self.fetcher = fetcher
        self.send_rate = send_rate or SendRate(settings.sawti_send_rate, settings.redis_url)
        self.wakeups = wakeups if wakeups is not None else wakeups_for(settings.redis_url)
        self.batch = batch  # messages claimed per round by run_forever
        self.concurrency = settings.sawti_send_concurrency
        self._pool: ThreadPoolExecutor | None = None

    def run_once(self, batch: int = 50) -> int:
        """Send what is due now (and fetch due attachments); returns how much was done."""
        lease = timedelta(seconds=self.settings.sawti_send_lease_seconds)
        now = utcnow()
        messages = outbox.claim_due(self.session, now, limit=batch, lease=lease)
        held = outbox.held_up_by_earlier(self.session, messages, now)
        for message in messages:
            if message.id in held:
                self._put_back(message, held[message.id])
        self.session.commit()
        self._deliver_in_order(sorted((claimed for claimed in messages if claimed.id not in held),
                                      key=lambda claimed: claimed.id))
        delivery.apply_pending(self.session, utcnow())
        self.session.commit()
        fetched = self.fetcher.run_once() if self.fetcher else 0
        self.session.commit()  # never sleep inside a transaction: SQLite would stay locked
        return len(messages) + fetched

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                attempted = self.run_once(self.batch)
            except Exception:
                log.exception("dispatcher round failed; retrying")
                self.session.rollback()
                attempted = 0
            if not attempted:
                self._idle(stop)

    def close(self) -> None:
        """Release the Redis connections and the sending threads (the worker stops)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.send_rate.close()
        if self.wakeups is not None:
            self.wakeups.close()

    def _idle(self, stop: threading.Event) -> None:
        """Wait for a wake-up until the next message is due (at most the Redis poll interval);
        without Redis, or while it is unreachable, poll."""
        if self.wakeups is not None and self.wakeups.available:
            try:
                timeout = self._seconds_until_due()
            except Exception:
                log.exception("could not read the outbox; polling")
                self.session.rollback()
            else:
                if self.wakeups.wait(timeout, stop) is not None:
                    return
        stop.wait(self.settings.sawti_worker_poll_seconds)

    def _seconds_until_due(self) -> float:
        longest = self.settings.sawti_worker_redis_poll_seconds
        due = outbox.next_due_at(self.session)
        self.session.commit()  # never wait inside a transaction
        if due is None:
            return longest
        return min(longest, max(0.0, (due - utcnow()).total_seconds()))

    def _deliver_in_order(self, messages: list[Message]) -> None:
        """Send the claimed messages (in id order), each person's in order: up to
        ``SAWTI_SEND_CONCURRENCY`` at once, to different people. A message whose earlier one
        did not go out is put back behind it."""
        waiting: dict[tuple[int, str], datetime] = {}  # person and channel -> retry at
        while messages:
            wave, messages = _one_per_person(messages, self.concurrency)
            sending = []
            for message in wave:
                line = (message.contact_id, message.channel)
                if line in waiting:  # an earlier one did not go out: keep the order
                    self._put_back(message, waiting[line])
                    self.session.commit()
                else:
                    sending.append(message)
            self._deliver_together(sending)
            for message in sending:
                if message.status == DeliveryStatus.QUEUED and message.next_attempt_at:
                    waiting[(message.contact_id, message.channel)] = message.next_attempt_at

    def _deliver_together(self, messages: list[Message]) -> None:
        """The checks and the bookkeeping here, one message at a time, each committed; only
        the providers' calls run side by side (on threads that never touch the session)."""
        now = utcnow()
        ready: list[tuple[Message, Outbound]] = []
        for message in messages:
            if not self._ready(message, now):
                self.session.commit()
                continue
            try:
                ready.append((message, self._outbound(message)))
            except SendError as error:
                self._settle(message, error, now)
                self.session.commit()
        if not ready:
            return
        if len(ready) == 1:  # no thread for a single send
            outcomes = [self._attempt(*ready[0])]
        else:
            outcomes = list(self._threads().map(lambda pair: self._attempt(*pair), ready))
        for (message, _outbound), outcome in zip(ready, outcomes, strict=True):
            self._settle(message, outcome, utcnow())
            self.session.commit()

    def _threads(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency,
                                            thread_name_prefix="sawti-send")
        return self._pool

    def _ready(self, message: Message, now: datetime) -> bool:
        """Whether it may be sent now; if not, it is cancelled, put back or held."""
        skip_reason = self._skip_reason(message)
        if skip_reason:
            outbox.cancel(message, skip_reason)
            return False
        if self._postponed(message, now):
            return False
        if self._window_closed(message, now):
            delivery.hold_for_window(self.session, message, now)
            return False
        return not self._over_rate(message, now)

    def _attempt(self, message: Message, outbound: Outbound) -> SendResult | Exception:
        """The provider's call; on a sending thread, so it reads nothing from the session."""
        try:
            return self.adapters[outbound.channel].send(outbound)
        except Exception as error:  # settled by the caller, on the session's thread
            return error

    def _settle(self, message: Message, outcome: SendResult | Exception, now: datetime
                ) -> None:
        if isinstance(outcome, SendResult):
            self._record_sent(message, outcome, now)
        elif isinstance(outcome, WindowClosedError):
            if message.kind == delivery.NOTICE_KIND:  # the template itself cannot go out
                outbox.mark_failed(self.session, message, str(outcome), now)
            else:
                delivery.hold_for_window(self.session, message, now)
        elif isinstance(outcome, RetryableSendError):
            self._retry_or_fail(message, str(outcome), now, outcome.retry_after)
        elif isinstance(outcome, PermanentSendError):
            if outcome.opt_out and message.kind in ALWAYS_SENT_KINDS:
                # Twilio took the SMS "STOP" itself and sent its own confirmation: ours is
                # not needed, and no failure for an officer to act on.
                outbox.cancel(message, str(outcome))
            else:
                outbox.mark_failed(self.session, message, str(outcome), now)
            if outcome.opt_out:
                message.contact.opted_out = True
                message.contact.opted_out_at = now
        else:  # an adapter bug must not stop the outbox
            log.error("unexpected send error", exc_info=outcome,
                      extra={"channel": message.channel})
            self._retry_or_fail(message, f"unexpected error: {type(outcome).__name__}", now,
                                None)

    def _skip_reason(self, message: Message) -> str | None:
        if message.contact.opted_out and message.kind not in ALWAYS_SENT_KINDS:
            return "contact opted out"
        return None

    def _postponed(self, message: Message, now: datetime) -> bool:
        """Not now (outside calling hours): back in the queue, without using an attempt."""
        adapter = self.adapters.get(message.channel)
        later = adapter.not_before(message.channel, message.kind, now) if adapter else None
        if later is None or later <= now:
            return False
        self._put_back(message, later)
        return True

    def _over_rate(self, message: Message, now: datetime) -> bool:
        """The channel sent its SAWTI_SEND_RATE this second: back in the queue for the moment
        it may send again (with a little jitter), without using an attempt."""
        wait = self.send_rate.acquire(message.channel)
        if wait <= 0:
            return False
        jitter = random.uniform(0.0, 0.05)  # noqa: S311 - spreads workers, not security
        self._put_back(message, now + timedelta(seconds=wait + jitter))
        return True

    @staticmethod
    def _put_back(message: Message, later: datetime) -> None:
        message.status = DeliveryStatus.QUEUED
        message.next_attempt_at = later
        message.lease_until = None
        message.attempts = max(0, message.attempts - 1)  # claiming counted one

    def _window_closed(self, message: Message, now: datetime) -> bool:
        adapter = self.adapters.get(message.channel)
        if adapter is None or message.kind == delivery.NOTICE_KIND:
            return False
        return not adapter.freeform_allowed(message.channel, message.contact.last_inbound_at,
                                            now)

    def _outbound(self, message: Message) -> Outbound:
        """What the adapter sends, read from the session here (not on a sending thread)."""
        if message.channel not in self.adapters:
            raise RetryableSendError(f"channel {message.channel} is not configured")
        if message.contact.address_encrypted is None:
            raise PermanentSendError("contact address was erased")
        try:
            address = self.vault.decrypt(message.contact.address_encrypted)
        except AddressDecryptionError as error:
            raise PermanentSendError(str(error)) from error
        return Outbound(
            message_id=message.id, channel=message.channel, address=address,
            body=message.body or "", kind=message.kind, language=message.language or "ar",
            reference=message.case.reference if message.case else None,
        )

    def _retry_or_fail(self, message: Message, error: str, now: datetime,
                       retry_after: float | None) -> None:
        if message.attempts >= self.settings.sawti_send_max_attempts:
            outbox.mark_failed(self.session, message, error, now)
            return
        outbox.mark_retry(
            message, error, now, base_seconds=self.settings.sawti_send_backoff_seconds,
            max_seconds=self.settings.sawti_send_backoff_max_seconds, not_before=retry_after,
        )

    def _record_sent(self, message: Message, result: SendResult, now: datetime) -> None:
        outbox.mark_sent(message, result.external_id, now)
        if result.delivered:
            message.status = DeliveryStatus.DELIVERED
            message.delivered_at = now
        case = message.case
        if case is not None and message.kind == "ack" and case.acknowledged_at is None:
            case.acknowledged_at = now
            audit.record(self.session, "case.acknowledged", case=case)


def _one_per_person(messages: list[Message], most: int) -> tuple[list[Message], list[Message]]:
    """The first ``most`` messages with no two for the same person on the same channel, and
    the rest, in their order."""
    wave: list[Message] = []
    rest: list[Message] = []
    lines: set[tuple[int, str]] = set()
    for message in messages:
        line = (message.contact_id, message.channel)
        if len(wave) < most and line not in lines:
            wave.append(message)
            lines.add(line)
        else:
            rest.append(message)
    return wave, rest
