"""Every sentence the bot says, looked up in the gettext catalogues under ``translations/``.

The msgids are English; the Arabic catalogue is the one most people read. A ``Speaker`` is
bound to one language so the same code speaks Arabic, English or Sorani Kurdish.

The Kurdish catalogue holds only what a person reads in the text dialogue (the console is in
Arabic and English): a sentence it lacks is said in Arabic, never in the English of its msgid
(``tests/test_translations.py`` checks that the dialogue's sentences are all there).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"
FALLBACK = "ar"
# The msgids are English: an English catalogue needs no fallback.
WITHOUT_FALLBACK = frozenset({FALLBACK, "en"})


@cache
def _translations(language: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS_DIR), [language], domain=DOMAIN)


class Speaker:
    """Looks up and fills in sentences in one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._catalogue = _translations(language)
        self._fallback = None if language in WITHOUT_FALLBACK else _translations(FALLBACK)

    def _(self, message: str, **values: object) -> str:
        text = self._catalogue.gettext(message)
        if text == message and self._fallback is not None:
            text = self._fallback.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, count: int, **values: object) -> str:
        text = self._catalogue.ngettext(singular, plural, count)
        # A compiled catalogue fills an untranslated plural with the English msgids.
        if text in (singular, plural) and self._fallback is not None:
            text = self._fallback.ngettext(singular, plural, count)
        return text % {"count": count, **values}

    def deadline(self, deadline: timedelta) -> str:
        hours = round(deadline.total_seconds() / 3600)
        if hours < 24 * 7:
            return self.ngettext("We will answer you within %(count)s hour.",
                                 "We will answer you within %(count)s hours.", hours)
        days = round(hours / 24)
        return self.ngettext("We will answer you within %(count)s day.",
                             "We will answer you within %(count)s days.", days)

    def survey_question(self, reference: str) -> str:
        """The one question sent after a case is closed with an answer."""
        return self._("We closed your case %(reference)s. Are you satisfied with how we "
                      "handled it? Reply 1 if you are satisfied, 2 if partly, 3 if you are "
                      "not satisfied.", reference=reference)

    def status_name(self, status: str) -> str:
        names = {
            "new": self._("received, waiting to be reviewed by our team"),
            "open": self._("being reviewed by our team"),
            "referred": self._("passed to the responsible team, who are following it up"),
            "closed": self._("closed"),
        }
        return names.get(status, status)
