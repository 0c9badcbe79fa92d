"""Text hygiene and Arabic normalisation shared by intake, dialogue, search and triage.

``normalize_for_matching`` makes the forms people type alike: hamza forms of alef (أ إ آ ٱ → ا),
taa marbuta (ة → ه), alef maqsura (ى → ي), hamza on waw/yaa (ؤ → و, ئ → ي), diacritics and
tatweel removed, letters repeated for emphasis collapsed («كتيييير» → «كتير»), Arabic-Indic and
Eastern Arabic-Indic digits made ASCII, Latin lower-cased, punctuation turned into spaces. The
zero-width non-joiner and joiner that Kurdish and Persian put inside a word («بە‌ڕێوەبەر») are
dropped, so the word stays one; Kurdish letters (ە ێ ۆ ڵ ڕ ڤ) become the Arabic letters an
Arabic keyboard offers for them (ه ي و ل ر ف), as Kurds without a Kurdish keyboard write them.
Latin letters lose their accents, as people without the letters on their keyboard write them
(Kurdish and Turkish "Kerkûk", "Hewlêr", "Şengal", "Qamişlo" → kerkuk, hewler, sengal,
qamislo); letters of other scripts keep theirs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Kurdish letters as the Arabic ones people type for them on an Arabic keyboard (ە ه, ێ ي,
# ۆ و, ڵ ل, ڕ ر, ڤ ف): «سکالا» finds «سکاڵا». Language detection reads the text as written.
_LETTER_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي",
                               "ؤ": "و", "ئ": "ي", "ک": "ك", "ی": "ي", "ە": "ه", "ێ": "ي",
                               "ۆ": "و", "ڵ": "ل", "ڕ": "ر", "ڤ": "ف"})
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_NOT_WORD = re.compile(r"[^\w]+")
_JOINERS = re.compile("[\u200c\u200d]")
# Latin letters that have no decomposition to a plain letter and an accent: Turkish and Kurdish
# dotless ı, and a stroke or bar through the letter.
_LATIN_WITHOUT_DECOMPOSITION = {"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t"}
# An accent that no precomposed letter holds, left behind a plain one: "İ".lower() is "i̇".
_MARKS_AFTER_LATIN = re.compile("(?<=[a-z])[\u0300-\u036f]+")
# C0/C1 controls and format characters except tab and newline (and ZWJ/ZWNJ used in scripts).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _latin_letters_unaccented() -> dict[str, str]:
    """Each accented Latin letter (Latin-1 Supplement to Extended-B, Latin Extended Additional:
    «ê», «ş», «ẍ», «ḧ») as its plain letter, by its decomposition without the accents."""
    table = {}
    for codepoint in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        char = chr(codepoint)
        plain = "".join(part for part in unicodedata.normalize("NFKD", char)
                        if not unicodedata.combining(part))
        if plain != char and plain.isascii() and plain.isalpha() \
                and unicodedata.name(char, "").startswith("LATIN "):
            table[char] = plain
    return table | _LATIN_WITHOUT_DECOMPOSITION


_UNACCENTED = _latin_letters_unaccented()
_ACCENTED = re.compile("[" + "".join(_UNACCENTED) + "]")


def _unaccented(letter: re.Match[str]) -> str:
    return _UNACCENTED[letter.group()]


def ascii_digits(text: str) -> str:
    """Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹) digits as ASCII."""
    return text.translate(ARABIC_DIGITS)


def fits_a_column(value: str, length: int) -> bool:
    """Whether a provider's id can be stored as it is: no control character (PostgreSQL
    refuses a NUL byte in text) and no longer than its column."""
    return len(value) <= length and value.isprintable()


def clean_text(text: str | None) -> str:
    """What we store: control characters removed, unpaired surrogates replaced, trimmed."""
    if not text:
        return ""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()


def normalize_for_matching(text: str) -> str:
    """A key that treats spelling variants alike; for matching and search, never for display."""
    text = unicodedata.normalize("NFKC", ascii_digits(text)).lower()
    text = _MARKS_AFTER_LATIN.sub("", _ACCENTED.sub(_unaccented, text))
    text = _JOINERS.sub("", _DIACRITICS.sub("", text)).translate(_LETTER_FORMS)
    text = _REPEATS.sub(r"\1", text)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def as_written(text: str, keys: Iterable[str],
               spelling: Callable[[str], str] | None = None) -> list[str]:
    """The words of ``text`` as its writer spelt them, for matching keys («السله» → «السلة»);
    ``spelling``: what the keys were made with before normalising (Arabizi's letters). A key
    the text does not hold stays as it is."""
    written: dict[str, str] = {}
    for token in text.split():
        for key in normalize_for_matching(spelling(token) if spelling else token).split():
            written.setdefault(key, _without_punctuation(token))
    return [written.get(key, key) for key in keys]


def _without_punctuation(token: str) -> str:
    """The token without the punctuation around it; its diacritics («مالاً») kept."""
    marks = [index for index, char in enumerate(token)
             if unicodedata.category(char)[0] not in "PS"]
    return token[marks[0]:marks[-1] + 1] if marks else token


def has_words(text: str) -> bool:
    """Whether the text has any letter or digit (emoji and punctuation alone do not count)."""
    return any(char.isalnum() for char in text)
