"""The awareness poster: one A4 page printing the configured channels of a location."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
import segno

from casework.poster import (
    UnknownLocation,
    configured_channels,
    format_number,
    poster_channels,
    render_poster,
)
from casework.report_files import translations
from config.settings import Settings, load_settings

VOICE, WHATSAPP, SMS = "+963944123456", "+963955000111", "+9647701234567"
ALL = ("voice", "whatsapp", "sms", "telegram")
CALL_BACK = "Ring and hang up — we call you back for free"
TWILIO = {"twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": "token"}
EVERY_CHANNEL = {**TWILIO, "twilio_voice_number": VOICE, "twilio_whatsapp_number": WHATSAPP,
                 "twilio_sms_number": SMS, "telegram_bot_token": "1:abc",
                 "telegram_bot_username": "sawti_bot"}


def _settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings(sawti_env="test", sawti_instance_path=tmp_path,
                         secret_key="s" * 40, sawti_data_key="d" * 40, **values)


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


@pytest.mark.parametrize(("values", "wanted", "present", "absent"), [
    pytest.param(EVERY_CHANNEL, ALL, [VOICE, WHATSAPP, SMS, "@sawti_bot", CALL_BACK], [],
                 id="every-channel"),
    pytest.param({**EVERY_CHANNEL, "twilio_whatsapp_number": None}, ALL,
                 [VOICE, SMS, CALL_BACK], [WHATSAPP, "WhatsApp"], id="no-whatsapp-configured"),
    pytest.param(EVERY_CHANNEL, ("voice", "sms"), [VOICE, SMS, CALL_BACK],
                 [WHATSAPP, "@sawti_bot", "Telegram"], id="location-offers-two"),
    pytest.param({**EVERY_CHANNEL, "twilio_voice_number": None}, ALL,
                 [WHATSAPP, SMS, "@sawti_bot"], [VOICE, CALL_BACK], id="no-call-back"),
    pytest.param({**EVERY_CHANNEL, "telegram_bot_username": None}, ALL,
                 [VOICE, WHATSAPP, SMS], ["@sawti_bot", "Telegram"], id="telegram-without-name"),
    pytest.param({"twilio_voice_number": VOICE, "twilio_sms_number": SMS}, ALL,
                 ["No channel is configured for this location yet."], [VOICE, SMS],
                 id="twilio-without-credentials"),
])
def test_poster_prints_the_configured_channels(
    tmp_path: Path, values: dict[str, object], wanted: tuple[str, ...], present: list[str],
    absent: list[str],
) -> None:
    text = _flat(_text(render_poster(_settings(tmp_path, **values), "SY-ID", channels=wanted)))
    for expected in present:
        assert _flat(expected) in text
    for unexpected in absent:
        assert _flat(unexpected) not in text
    assert _flat("What you share is confidential") in text
    assert "Idlib" in text and "صوتي" in text


def test_poster_is_a4_with_arabic_first(tmp_path: Path) -> None:
    pdf = render_poster(_settings(tmp_path, **EVERY_CHANNEL), "SY-ID-01", channels=ALL)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = _text(pdf)
    arabic = translations("ar").gettext(CALL_BACK)
    assert arabic != CALL_BACK, "the call-back sentence is not translated into Arabic yet"
    assert arabic in text and "إدلب" in text
    assert text.index(arabic) < text.index(CALL_BACK)


@pytest.mark.parametrize(("code", "link"), [
    pytest.param("telegram", "https://t.me/sawti_bot", id="telegram"),
    pytest.param("whatsapp", "https://wa.me/963955000111", id="whatsapp"),
    pytest.param("sms", "sms:+9647701234567", id="sms"),
])
def test_qr_codes_carry_the_channel_links(tmp_path: Path, code: str, link: str) -> None:
    found = {item.code: item for item in
             poster_channels(_settings(tmp_path, **EVERY_CHANNEL), ALL)}
    expected = segno.make(link, error="m").svg_inline(dark="#000000", border=2, omitsize=True)
    assert found[code].qr_svg == expected
    assert found["voice"].qr_svg is None


@pytest.mark.parametrize(("number", "shown"), [
    pytest.param("+963944123456", "+963 944 123 456", id="syria"),
    pytest.param("+9647701234567", "+964 770 123 4567", id="iraq"),
    pytest.param("whatsapp:+447700900123", "+44 770 090 0123", id="uk-whatsapp-prefix"),
    pytest.param("+12025550123", "+1 202 555 0123", id="one-digit-code"),
])
def test_numbers_are_grouped_for_reading(number: str, shown: str) -> None:
    assert format_number(number) == shown


def test_channels_are_configured_only_with_their_credentials(tmp_path: Path) -> None:
    assert configured_channels(_settings(tmp_path, **EVERY_CHANNEL)) == \
        ("voice", "whatsapp", "sms", "telegram")
    assert configured_channels(_settings(tmp_path, twilio_sms_number=SMS)) == ()


def test_unknown_location_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownLocation):
        render_poster(_settings(tmp_path, **EVERY_CHANNEL), "XX-00", channels=ALL)
