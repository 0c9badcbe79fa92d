"""Identity protection: pseudonyms and encrypted contact addresses.

Two independent keys are derived with HKDF: one keys the HMAC that turns (channel, address)
into a pseudonym, the other encrypts the address with Fernet. The plain address exists only
in memory while a message is received or sent.

Key rotation (``flask keys rotate``, ``casework.keys``). Encryption keys rotate; the pseudonym
key does not:

- ``SAWTI_DATA_KEY`` encrypts; ``SAWTI_DATA_KEY_PREVIOUS`` (older keys) still decrypt
  (``MultiFernet``), so web and worker keep working while the rotation re-encrypts rows, and
  the old key is dropped once it has finished.
- Pseudonyms are looked up on every inbound message. Re-keying them would need every process
  to look a person up under two pseudonyms until the rotation ends, and cannot be done at all
  for a contact whose address retention has erased — that person would be split into two
  contacts. So the pseudonym HMAC is keyed from a separate, stable secret,
  ``SAWTI_PSEUDONYM_KEY``; unset, it is ``SAWTI_DATA_KEY`` (as it always was). Settings refuse
  ``SAWTI_DATA_KEY_PREVIOUS`` without ``SAWTI_PSEUDONYM_KEY``, and the rotation checks that the
  configured pseudonym key reproduces the stored pseudonyms before it changes anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from config.settings import Settings


class AddressDecryptionError(RuntimeError):
    """A stored address cannot be decrypted with the configured key."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sawti", info=purpose).derive(
        secret.encode("utf-8")
    )


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret, b"address-v1")))


class Vault:
    """Pseudonymises and encrypts contact addresses.

    ``data_key`` encrypts; ``previous`` keys (newest first) only decrypt; ``pseudonym_key``
    keys pseudonyms (default: ``data_key``).
    """

    def __init__(self, data_key: str, previous: Sequence[str] = (),
                 pseudonym_key: str | None = None) -> None:
        self._hmac_key = _derive(pseudonym_key or data_key, b"pseudonym-v1")
        self._current = _fernet(data_key)
        self._all = MultiFernet([self._current, *(_fernet(key) for key in previous)])
        self.rotating = bool(previous)

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        assert settings.sawti_data_key is not None  # filled by Settings.with_local_secrets
        return cls(settings.sawti_data_key, settings.previous_data_keys,
                   settings.sawti_pseudonym_key)

    def pseudonym(self, channel: str, address: str) -> str:
        message = f"{channel}\x00{normalize_address(address)}".encode()
        return hmac.new(self._hmac_key, message, hashlib.sha256).hexdigest()

    def encrypt(self, address: str) -> str:
        return self._current.encrypt(normalize_address(address).encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._all.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as error:
            raise AddressDecryptionError("contact address cannot be decrypted") from error

    def is_current(self, token: str) -> bool:
        """Whether the token is encrypted with the current key already."""
        try:
            self._current.decrypt(token.encode("ascii"))
        except (InvalidToken, ValueError):
            return False
        return True

    def rotate(self, token: str) -> str:
        """The same plaintext, encrypted with the current key."""
        try:
            return self._all.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError) as error:
            raise AddressDecryptionError("value cannot be decrypted with any key") from error

    def seal(self, data: bytes) -> bytes:
        """Encrypt arbitrary bytes (the inbound spool) with the current key."""
        return self._current.encrypt(data)

    def unseal(self, token: bytes) -> bytes:
        try:
            return self._all.decrypt(token)
        except (InvalidToken, ValueError) as error:
            raise AddressDecryptionError("sealed data cannot be decrypted") from error


def normalize_address(address: str) -> str:
    """One spelling per address: no spaces or dashes in phone numbers, no whatsapp: prefix."""
    address = address.strip()
    if address.lower().startswith("whatsapp:"):
        address = address[len("whatsapp:"):]
    if address.startswith("+") or address.replace(" ", "").replace("-", "").isdigit():
        address = address.replace(" ", "").replace("-", "")
    return address
