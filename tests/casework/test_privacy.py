from __future__ import annotations

import pytest

from casework.privacy import AddressDecryptionError, Vault, normalize_address

KEY = "k" * 48


def test_pseudonym_is_stable_and_keyed() -> None:
    vault = Vault(KEY)
    first = vault.pseudonym("telegram", "123456789")
    assert first == Vault(KEY).pseudonym("telegram", "123456789")
    assert first != Vault("z" * 48).pseudonym("telegram", "123456789")
    assert "123456789" not in first and len(first) == 64


def test_same_address_on_two_channels_is_two_pseudonyms() -> None:
    vault = Vault(KEY)
    assert vault.pseudonym("sms", "+963944000111") != vault.pseudonym("whatsapp", "+963944000111")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("+963 944-000 111", "+963944000111", id="spaces-dashes"),
        pytest.param("whatsapp:+963944000111", "+963944000111", id="whatsapp-prefix"),
        pytest.param(" 123456789 ", "123456789", id="telegram-id"),
        pytest.param("tab-abc", "tab-abc", id="simulator-tab"),
    ],
)
def test_normalize_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


def test_address_encryption_round_trip_hides_the_number() -> None:
    vault = Vault(KEY)
    token = vault.encrypt("+963944000111")
    assert "963944000111" not in token
    assert vault.decrypt(token) == "+963944000111"
    assert vault.encrypt("+963944000111") != token  # fresh IV every time


def test_wrong_key_cannot_decrypt() -> None:
    token = Vault(KEY).encrypt("+963944000111")
    with pytest.raises(AddressDecryptionError):
        Vault("z" * 48).decrypt(token)
