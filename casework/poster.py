"""The awareness poster: one printable A4 page telling a community how to reach the CRM.

Arabic first with English beneath, large type and drawn pictograms for people who read little,
a QR code for each channel that has a link (Telegram, WhatsApp, SMS), the free call-back number
with "ring and hang up, we call you back", and the confidentiality promise. It shows the
channels configured in the settings among those asked for (the channels available in the
location). Numbers are printed in ASCII digits, left-to-right isolated, so they read the same
in both languages and text extraction finds them.

Laid out by WeasyPrint like the monthly report (Pango and HarfBuzz shape the Arabic).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape

from casework.report_files import TEMPLATES, translations
from config.data import OrgData, load_org_data
from config.settings import Settings

CHANNEL_ORDER = ("voice", "whatsapp", "sms", "telegram")
# Two-digit country calling codes (ITU-T E.164); +1 and +7 have one digit, the rest three.
_TWO_DIGIT_CODES = frozenset({
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55,
    56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98})
_USERNAME = re.compile(r"[A-Za-z0-9_]{3,64}")
_ENVIRONMENT = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                           autoescape=select_autoescape(["html"]))


class UnknownLocation(LookupError):
    """The location code is not in config/locations.yaml."""


@dataclass(frozen=True)
class PosterChannel:
    code: str  # telegram, whatsapp, sms, voice
    shown: str  # what is printed: a grouped number or @username
    qr_svg: str | None  # inline SVG of the QR code, when the channel has a link


def configured_channels(settings: Settings) -> tuple[str, ...]:
    """The channels the settings make reachable for the public, in poster order."""
    twilio = bool(settings.twilio_account_sid and settings.twilio_auth_token)
    present = {
        "voice": twilio and bool(settings.twilio_voice_number),
        "whatsapp": twilio and bool(settings.twilio_whatsapp_number),
        "sms": twilio and bool(settings.twilio_sms_number),
        "telegram": bool(settings.telegram_bot_token and _username(settings)),
    }
    return tuple(code for code in CHANNEL_ORDER if present[code])


def poster_channels(settings: Settings, channels: Iterable[str]) -> list[PosterChannel]:
    """The wanted channels that are configured, with what the poster prints for each."""
    wanted = set(channels)
    return [_channel(settings, code) for code in configured_channels(settings)
            if code in wanted]


def render_poster(settings: Settings, location_code: str, *, channels: Iterable[str],
                  org: OrgData | None = None) -> bytes:
    """The poster of a location as a one-page A4 PDF."""
    from weasyprint import HTML

    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    html = render_poster_html(settings, location_code, channels=channels, org=org)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def render_poster_html(settings: Settings, location_code: str, *, channels: Iterable[str],
                       org: OrgData | None = None) -> str:
    org = org or load_org_data(settings.sawti_config_dir)
    location = org.location(location_code)
    if location is None:
        raise UnknownLocation(location_code)
    return _ENVIRONMENT.get_template("poster.html").render(
        org_name=settings.sawti_org_name, location_ar=location.name("ar"),
        location_en=location.name("en"), channels=poster_channels(settings, channels),
        ar=poster_texts("ar"), en=poster_texts("en"))


def poster_texts(lang: str) -> dict[str, str]:
    """The poster's sentences in one language (the poster prints Arabic and English)."""
    _: Callable[[str], str] = translations(lang).gettext
    return {
        "title": _("Your voice matters. Tell us."),
        "intro": _("Questions, complaints, suggestions or thanks about our aid: contact us "
                   "for free."),
        "voice": _("Free call-back"),
        "callback": _("Ring and hang up — we call you back for free"),
        "whatsapp": _("WhatsApp"),
        "sms": _("SMS"),
        "telegram": _("Telegram"),
        "scan": _("Scan the code with your phone"),
        "confidential": _("What you share is confidential: we never share your name or "
                          "number without your permission."),
        "free": _("Using this service is free of charge. Nobody may ask you for money or "
                  "favours in return for aid."),
        "none": _("No channel is configured for this location yet."),
    }


def format_number(number: str) -> str:
    """An E.164 number grouped for reading: +963 944 123 456."""
    digits = re.sub(r"\D", "", number)
    two = int(digits[:2] or 0)
    code_length = 1 if digits[:1] in ("1", "7") else 2 if two in _TWO_DIGIT_CODES else 3
    code, rest = digits[:code_length], digits[code_length:]
    groups = [rest[start:start + 3] for start in range(0, len(rest), 3)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2:] = [groups[-2] + groups[-1]]
    return " ".join([f"+{code}", *groups])


def _channel(settings: Settings, code: str) -> PosterChannel:
    if code == "telegram":
        username = _username(settings) or ""
        return PosterChannel(code, f"@{username}", _qr(f"https://t.me/{username}"))
    raw = {"voice": settings.twilio_voice_number, "whatsapp": settings.twilio_whatsapp_number,
           "sms": settings.twilio_sms_number}[code] or ""
    digits = re.sub(r"\D", "", raw)
    links = {"whatsapp": f"https://wa.me/{digits}", "sms": f"sms:+{digits}"}
    link = links.get(code)
    return PosterChannel(code, format_number(raw), _qr(link) if link else None)


def _username(settings: Settings) -> str | None:
    name = (settings.telegram_bot_username or "").strip().removeprefix("@")
    return name if _USERNAME.fullmatch(name) else None


def _qr(link: str) -> str:
    return segno.make(link, error="m").svg_inline(dark="#000000", border=2, omitsize=True)
