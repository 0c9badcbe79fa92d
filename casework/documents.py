"""Documents officers attach to a case: an investigation report, a photo of a paper complaint,
a recording. The type is decided by the file's first bytes, never by its name; the stored file
is named by its hash (``casework.storage``) and served only through an authorised route.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.orm import Session

from casework import audit
from casework.models import Case, CaseDocument, User
from casework.storage import AttachmentStore

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_FILENAME_LENGTH = 120

# content type -> (canonical extension, other extensions people use for it)
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg", "jpe"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "audio/ogg": ("ogg", "oga", "opus"),
    "audio/mpeg": ("mp3",),
    "audio/wav": ("wav",),
    "audio/mp4": ("m4a", "mp4", "aac"),
}
ALLOWED_TYPES = frozenset(EXTENSIONS)

# ISO base media ("ftyp") brands of audio files phones and recorders write.
_M4A_BRANDS = frozenset({b"M4A ", b"M4B ", b"mp42", b"mp41", b"isom", b"iso2", b"dash"})
_UNSAFE_NAME_CHARS = re.compile(r"[^\w\u064b-\u065f\u0670 .()+-]")  # Arabic marks kept
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class DocumentRefused(ValueError):
    """The file cannot be attached; ``reason`` is a stable code for the caller's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sniff(content: bytes) -> str | None:
    """The content type the bytes really are, if it is one we accept; else None."""
    head = content[:16]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(head[8:12])
    if head.startswith(b"OggS"):
        return "audio/ogg"  # Vorbis or Opus (WhatsApp and Telegram voice notes)
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return "audio/mpeg"
    if head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return "audio/mp4"
    return None


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MP3 without ID3 tag starts with a frame: 11 sync bits, a valid version and layer."""
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    return version != 0b01 and layer != 0b00


def safe_filename(name: str | None, content_type: str) -> str:
    """A name that is safe to show and to put in a download header, ending as the type does.

    Directories, control and direction characters and shell-unfriendly punctuation go; Arabic
    letters stay. An extension that does not match the sniffed type is replaced.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name)
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    allowed = EXTENSIONS.get(content_type, ("bin",))
    if extension.lower() not in allowed:
        extension = allowed[0]  # a wrong one is replaced: "scan.html" holding a PDF -> "scan.pdf"
    stem = stem[: MAX_FILENAME_LENGTH - len(extension) - 1].strip(" .")
    return f"{stem or 'document'}.{extension.lower()}"


@dataclass(frozen=True)
class Checked:
    content_type: str
    filename: str


def check(content: bytes, filename: str | None, max_bytes: int = MAX_DOCUMENT_BYTES) -> Checked:
    """Whether the bytes may be attached; raises DocumentRefused(empty|too_large|type)."""
    if not content:
        raise DocumentRefused("empty")
    if len(content) > max_bytes:
        raise DocumentRefused("too_large")
    content_type = sniff(content)
    if content_type is None:
        raise DocumentRefused("type")
    return Checked(content_type, safe_filename(filename, content_type))


def attach_document(session: Session, store: AttachmentStore, case: Case, uploader: User,
                    filename: str | None, content: bytes, *, actor: str) -> CaseDocument:
    """Check, store and record a document on the case (the caller commits)."""
    checked = check(content, filename)
    key = store.save(content)
    document = CaseDocument(case=case, uploaded_by_id=uploader.id, filename=checked.filename,
                            content_type=checked.content_type, size_bytes=len(content),
                            storage_key=key)
    session.add(document)
    session.flush()
    # The name is left out: people name files after the person they are about.
    audit.record(session, "document.uploaded", case=case, actor=actor, document_id=document.id,
                 content_type=document.content_type, size_bytes=document.size_bytes)
    return document


def read_document(session: Session, store: AttachmentStore, document: CaseDocument, *,
                  actor: str) -> bytes:
    """The document's bytes; the download is recorded (the caller commits)."""
    content = store.read(document.storage_key)
    audit.record(session, "document.downloaded", case=document.case, actor=actor,
                 document_id=document.id)
    return content
