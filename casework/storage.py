"""Attachment storage: files on disk under the instance folder, named by content hash.

A stored file is only ever served through an authorised route; its name reveals nothing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, content: bytes) -> str:
        """Store the bytes (durably) and return their key."""
        key = hashlib.sha256(content).hexdigest()
        path = self.path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            with partial.open("wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(path)
        return key

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def path(self, key: str) -> Path:
        if len(key) != 64 or not all(char in "0123456789abcdef" for char in key):
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key
