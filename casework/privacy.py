"""Identity protection: pseudonyms and encrypted contact addresses.

Two independent keys are derived from ``SAWTI_DATA_KEY`` with HKDF: one keys the HMAC that
turns (channel, address) into a pseudonym, the other encrypts the address with Fernet. The
plain address exists only in memory while a message is received or sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class AddressDecryptionError(RuntimeError):
    """A stored address cannot be decrypted with the configured key."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sawti", info=purpose).derive(
        secret.encode("utf-8")
    )


class Vault:
    """Pseudonymises and encrypts contact addresses with keys derived from one secret."""

    def __init__(self, data_key: str) -> None:
        self._hmac_key = _derive(data_key, b"pseudonym-v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(data_key, b"address-v1")))

    def pseudonym(self, channel: str, address: str) -> str:
        message = f"{channel}\x00{normalize_address(address)}".encode()
        return hmac.new(self._hmac_key, message, hashlib.sha256).hexdigest()

    def encrypt(self, address: str) -> str:
        return self._fernet.encrypt(normalize_address(address).encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as error:
            raise AddressDecryptionError("contact address cannot be decrypted") from error


def normalize_address(address: str) -> str:
    """One spelling per address: no spaces or dashes in phone numbers, no whatsapp: prefix."""
    address = address.strip()
    if address.lower().startswith("whatsapp:"):
        address = address[len("whatsapp:"):]
    if address.startswith("+") or address.replace(" ", "").replace("-", "").isdigit():
        address = address.replace(" ", "").replace("-", "")
    return address
