"""The names people read for the ways a case can reach Sawti; cases store only the codes.

One table for the console, the API's exports and the report files: each translates the name
in its own reader's language (the request's, or the report's), so the names are marked for
the catalogues here (``N_``) and translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Callable


def N_(message: str) -> str:
    return message


CHANNEL_NAMES = {
    "telegram": N_("Telegram"),
    "whatsapp": N_("WhatsApp"),
    "sms": N_("SMS"),
    "voice": N_("Voice call-back"),
    "simulator": N_("Web simulator"),
    "in_person": N_("In person (field visit, distribution, help desk)"),
    "box": N_("Complaint box"),
    "staff": N_("Through a colleague"),
    "phone": N_("Staffed phone line"),
}


def channel_name(code: str | None, gettext: Callable[[str], str]) -> str:
    """The channel's name in ``gettext``'s language; an unknown code is shown as it is."""
    name = CHANNEL_NAMES.get(code or "")
    return gettext(name) if name else (code or "")
