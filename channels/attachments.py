"""Downloads inbound attachments (voice notes, photos, documents) in the worker.

The webhook only records what the provider sent (a file id or media URL); the worker fetches
the bytes through the channel's adapter, with retries, and stores them. An attachment that
cannot be fetched after the allowed attempts is marked failed — the case shows it, and the
message itself was never at risk.

Only audio, images and PDF are kept, decided by the file's first bytes (``sniff``), never by
the type or name the sender declared; anything else, or a file over
``SAWTI_MAX_ATTACHMENT_BYTES``, is not stored and the attachment is marked ``refused`` with the
reason. The message it came with is stored and answered like any other.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.documents import sniff
from casework.models import Attachment, Message, utcnow
from casework.storage import AttachmentStore
from channels.base import ChannelAdapter, PermanentSendError, SendError

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(seconds=30)
TOO_LARGE, TYPE_REFUSED = "too_large", "type_not_accepted"
# Types phones send that casework.documents.sniff does not know (it serves staff uploads).
_MORE_AUDIO_FTYP = {b"3gp4": "audio/3gpp", b"3gp5": "audio/3gpp", b"3gp6": "audio/3gpp",
                    b"3gr6": "audio/3gpp"}
_IMAGE_FTYP = {b"heic": "image/heic", b"heix": "image/heic", b"mif1": "image/heif",
               b"msf1": "image/heif"}


def accepted_type(content: bytes) -> str | None:
    """The real type of an inbound file if it is audio, an image or a PDF; else None."""
    known = sniff(content)
    if known is not None:
        return known
    if content.startswith(b"#!AMR"):
        return "audio/amr"
    if content[4:8] == b"ftyp":
        brand = content[8:12]
        return _MORE_AUDIO_FTYP.get(brand) or _IMAGE_FTYP.get(brand)
    return None


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
        if attachment.size_bytes is not None and attachment.size_bytes > self.max_bytes:
            self._refuse(attachment, TOO_LARGE)  # declared by the provider: not even fetched
            return
        try:
            if adapter is None or not attachment.external_id:
                raise PermanentSendError("no channel can fetch this attachment")
            download = adapter.download(message.channel, attachment.external_id, self.max_bytes)
        except PermanentSendError as error:
            if "larger than" in str(error):  # the adapters' size cap (channels.twilio_http...)
                self._refuse(attachment, TOO_LARGE)
            else:
                self._failed_attempt(attachment, error, now)
            return
        except SendError as error:
            self._failed_attempt(attachment, error, now)
            return
        content_type = accepted_type(download.content)
        if content_type is None:
            self._refuse(attachment, TYPE_REFUSED)
            return
        attachment.storage_key = self.store.save(download.content)
        attachment.size_bytes = len(download.content)
        attachment.content_type = content_type
        attachment.fetch_status, attachment.fetch_error = "stored", None

    def _refuse(self, attachment: Attachment, reason: str) -> None:
        """Keep the row (the case shows it) but never the file."""
        attachment.fetch_status, attachment.fetch_error = "refused", reason
        attachment.storage_key = None
        audit.record(self.session, "attachment.refused", case=attachment.message.case,
                     attachment_id=attachment.id, reason=reason)
        log.info("attachment refused", extra={"attachment_id": attachment.id, "reason": reason})

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
