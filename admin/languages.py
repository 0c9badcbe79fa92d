"""The language of the texts the console shows that are not its own words (WCAG 3.1.2,
Language of Parts): a person's message on a page in the other language, an answer written in
the Arabic column, a name typed in English on an Arabic page.

Such a text is marked ``lang`` when its language is known and is not the page's, so that a
screen reader reads it with the right voice, and it gets a direction: ``dir="auto"`` for free
text (the browser takes it from the first strong letter), the script's own for a text known
by where it is stored (``question_ar``: right to left). A text of unknown language gets
``dir="auto"`` only.

What is known: a text's stored language when it was written by Sawti itself (its automatic
messages), the column a text was typed in, and for anything else what the text itself clearly
is (``bot.language.detect_language``: Arabic letters, Kurdish in the Kurdish alphabet, or plain
English). Arabic typed in Latin letters ("Arabizi") is left unmarked: read with an Arabic
voice, it would not be understood. Kurdish ("ckb") is never the page's language, so it is
always marked, and right to left: it is recognised only by its Arabic-script letters.

``language_name`` names a stored language code for the reader ("Kurdish (Sorani)").
"""

from __future__ import annotations

import re
from functools import lru_cache

from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from admin import bp
from bot.language import KURDISH, detect_language
from casework.channel_names import N_
from casework.models import Direction, Message

RTL_LANGUAGES = frozenset({"ar", KURDISH})
# Languages whose texts are marked with their script's direction even as free text: Kurdish
# is told only by its Arabic-script letters, so it is right to left.
SCRIPT_DIRECTION_LANGUAGES = frozenset({KURDISH})
LANGUAGE_NAMES = {"ar": N_("Arabic"), "en": N_("English"), KURDISH: N_("Kurdish (Sorani)")}
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_DIRECTIONS = frozenset({"auto", "rtl", "ltr"})


def page_language() -> str:
    return str(get_locale() or "ar")


def written_in(text: str | None) -> str | None:
    """"ar", "ckb" or "en" when the text is clearly written in that language (Arabic: in
    Arabic letters), else None."""
    if not text or not text.strip():
        return None
    return _written_in(text[:DETECTED_CHARACTERS])


# Telling English from other Latin-script text costs about 3 ms (langdetect); a queue page of
# fifty English previews would spend most of its time on it. The start of a text tells its
# language, and the same texts are shown again and again.
DETECTED_CHARACTERS = 300


@lru_cache(maxsize=4096)
def _written_in(text: str) -> str | None:
    found = detect_language(text)
    if found == "ar" and not _ARABIC_LETTER.search(text):
        return None  # Arabizi: Arabic in Latin letters
    return found


@bp.app_template_global("lang_attrs")
def lang_attrs(language: str | None, direction: str = "auto") -> Markup:
    """The attributes of an element holding a text in ``language`` (None: not known):
    ``lang`` when known and not the page's, and ``dir`` — "auto", "rtl", "ltr", or "script"
    for the direction of the language's script."""
    code = (language or "").strip().lower().split("-")[0]
    known = bool(_LANGUAGE_CODE.fullmatch(code))
    if direction == "script" or (direction == "auto" and code in SCRIPT_DIRECTION_LANGUAGES):
        direction = ("rtl" if code in RTL_LANGUAGES else "ltr") if known else "auto"
    if direction not in _DIRECTIONS:
        direction = "auto"
    marked = f' lang="{code}"' if known and code != page_language() else ""
    return Markup(f'{marked} dir="{direction}"')  # noqa: S704 (both values checked above)


@bp.app_template_global("text_attrs")
def text_attrs(text: str | None, language: str | None = None) -> Markup:
    """The attributes of an element holding free text: its language as given, else as the
    text shows it; ``dir="auto"``."""
    return lang_attrs(language or written_in(text))


@bp.app_template_global("message_attrs")
def message_attrs(message: Message) -> Markup:
    """A message's body: Sawti's own messages are in their stored language; what a person or
    a member of staff wrote is in the language the text shows (a staff reply is stored with
    the person's language, whatever it was written in)."""
    own = message.direction == Direction.OUTBOUND and message.kind != "reply"
    return text_attrs(message.body, message.language if own else None)


@bp.app_template_global("localised")
def localised(arabic: str | None, english: str | None) -> tuple[str, str]:
    """Of a text kept in both languages, the one in the page's language if there is one, else
    the other; with its language."""
    texts = [("ar", arabic or ""), ("en", english or "")]
    if page_language() == "en":
        texts.reverse()
    return next(((text, language) for language, text in texts if text.strip()), ("", ""))


@bp.app_template_global("language_name")
def language_name(code: str | None) -> str:
    """A stored language code's name in the page's language; an unknown code as it is."""
    name = LANGUAGE_NAMES.get(code or "")
    return _(name) if name else (code or "")
