"""Downloads inbound attachments (voice notes, photos, documents) in the worker.

The webhook only records what the provider sent (a file id or media URL); the worker fetches
the bytes through the channel's adapter, with retries, and stores them. An attachment that
cannot be fetched after the allowed attempts is marked failed — the case shows it, and the
message itself was never at risk.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.models import Attachment, Message, utcnow
from casework.storage import AttachmentStore
from channels.base import ChannelAdapter, PermanentSendError, SendError

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(seconds=30)


class AttachmentFetcher:
    def __init__(self, session: Session, adapters: dict[str, ChannelAdapter],
                 store: AttachmentStore, max_bytes: int, max_attempts: int) -> None:
        self.session = session
        self.adapters = adapters
        self.store = store
        self.max_bytes = max_bytes
        self.max_attempts = max_attempts

    def run_once(self, batch: int = 10) -> int:
        now = utcnow()
        due = list(self.session.scalars(
            select(Attachment).where(Attachment.fetch_status == "pending",
                                     Attachment.next_fetch_at <= now)
            .order_by(Attachment.id).limit(batch)))
        for attachment in due:
            self._fetch(attachment, now)
            self.session.commit()
        return len(due)

    def _fetch(self, attachment: Attachment, now: datetime) -> None:
        message: Message = attachment.message
        adapter = self.adapters.get(message.channel)
        attachment.fetch_attempts += 1
        try:
            if adapter is None or not attachment.external_id:
                raise PermanentSendError("no channel can fetch this attachment")
            download = adapter.download(message.channel, attachment.external_id, self.max_bytes)
        except SendError as error:
            self._failed_attempt(attachment, error, now)
            return
        attachment.storage_key = self.store.save(download.content)
        attachment.size_bytes = len(download.content)
        attachment.content_type = attachment.content_type or download.content_type
        attachment.fetch_status, attachment.fetch_error = "stored", None

    def _failed_attempt(self, attachment: Attachment, error: SendError, now: datetime) -> None:
        attachment.fetch_error = str(error)[:255]
        final = isinstance(error, PermanentSendError) or \
            attachment.fetch_attempts >= self.max_attempts
        if not final:
            attachment.next_fetch_at = now + RETRY_BASE * 2 ** (attachment.fetch_attempts - 1)
            return
        attachment.fetch_status = "failed"
        audit.record(self.session, "attachment.fetch_failed", case=attachment.message.case,
                     attachment_id=attachment.id, error=attachment.fetch_error)
        log.warning("attachment could not be fetched", extra={"attachment_id": attachment.id})
