"""Case references: 6 random digits and a Damm check digit, so one mistyped digit or one swap
of adjacent digits is detected. Input may use Arabic-Indic or Eastern Arabic-Indic digits."""

from __future__ import annotations

import re
import secrets
from enum import Enum

from casework.text import ascii_digits, normalize_for_matching

REFERENCE_LENGTH = 7

# The Damm quasigroup of order 10 (weakly totally anti-symmetric).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# Words people put around a reference when asking about their case («حالة 1234567», "status",
# «ما هي حالة شكواي رقم 1234567؟», «شو صار بشكواي 1234567»), in dialect and in English.
_QUERY_WORDS = {
    normalize_for_matching(word)
    for word in (
        "حالة", "حاله", "الحالة", "حالتي", "رقم", "الرقم", "رقمها", "شكوى", "شكواي", "الشكوى",
        "شكوتي", "طلب", "طلبي", "وضع", "وضعها", "متابعة", "مرجع", "المرجع", "استعلام", "شو",
        "وين", "صار", "صارت", "وصلت", "ما", "ماذا", "هي", "هو", "شنو", "ايش", "شلون", "كيف",
        "اخبار", "عن", "بخصوص", "الى", "لوين", "اريد", "بدي", "اعرف",
        "status", "case", "ref", "reference", "number", "no", "my", "check", "hala", "7ala",
        "what", "is", "the", "of", "about", "any", "news", "update", "on", "please",
        # The rest of how people ask: «شو صار فيها», «الشكوى تبعي», «لو سمحت», «معاملتي»,
        # «ليش ما حدا رد علي», "can you tell me what happened with my complaint".
        "فيها", "فيه", "تبعي", "تبعها", "تبع", "الي", "اللي", "لي", "عندي", "لو", "سمحت", "من",
        "فضلك", "ممكن", "السلام", "عليكم", "مرحبا", "اخي", "اخوي", "يا", "هل", "في", "اي",
        "شي", "جديد", "لسا", "لسه", "بعد", "هلق", "لهلق", "لحد", "الان", "ليش", "لماذا", "حدا",
        "احد", "رد", "الرد", "علي",
        "علينا", "اسال", "اسأل", "استفسر", "استفسار", "معاملة", "معاملتي", "المعاملة", "قضيتي",
        "موضوع", "موضوعي", "شكوتي", "بشكوتي", "اريد", "نريد", "بدنا", "نعرف", "تبعنا",
        "hi", "hello", "can", "you", "tell", "me", "i", "want", "to", "know", "happened",
        "with", "for", "has", "there", "been", "complaint", "request", "it", "s",
        # Kurdish (Sorani, Badini): «دۆخی سکاڵاکەم 1234567», «سکاڵاکەم چی لێهات؟»
        "دۆخ", "دۆخی", "سکاڵا", "سکاڵاکەم", "سکاڵاکەی", "سکاڵاکەمان", "سکالا", "سکالاکەم",
        "ژمارە", "ژمارەی", "ژمارا", "کەیس", "کەیسەکەم", "داواکاری", "داواکارییەکەم", "چی", "چ",
        "بوو", "لێهات", "بە", "لە", "بۆ", "من", "چۆنە", "چییە", "هەواڵ", "هەواڵی", "نوێ",
        "تکایە", "حاڵەت", "حاڵەتی", "کوا", "کا", "وەڵام", "وەڵامی", "نییە", "هیچ", "سڵاو",
        "سلاو", "دەمەوێت", "بزانم", "رەوش", "رەوشا", "ڕەوش",
    )
}
# «بشكواي», «والحالة»: a word with a clitic in front is the same query word.
_CLITICS = tuple(normalize_for_matching(prefix) for prefix in ("و", "ب", "ل", "ف", "وب", "ول"))
MAX_QUERY_WORDS = 10
_DIGIT_RUN = re.compile(r"\d+")


class ReferenceCheck(Enum):
    VALID = "valid"
    BAD_CHECK_DIGIT = "bad_check_digit"


def damm_check_digit(digits: str) -> int:
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return interim


def is_valid_reference(reference: str) -> bool:
    reference = ascii_digits(reference)
    return (
        len(reference) == REFERENCE_LENGTH
        and reference.isascii()
        and reference.isdigit()
        and damm_check_digit(reference) == 0
    )


def new_reference() -> str:
    """A random reference; uniqueness is the caller's job (the database enforces it)."""
    body = f"{secrets.randbelow(10 ** (REFERENCE_LENGTH - 1)):0{REFERENCE_LENGTH - 1}d}"
    return body + str(damm_check_digit(body))


def find_reference_query(text: str) -> tuple[str, ReferenceCheck] | None:
    """If the whole message is a reference, alone or with a few query words, return it.

    A 7-digit number inside a longer complaint is not a query; only a message made of the
    number and words such as «حالة» or "status" is.
    """
    words = normalize_for_matching(text).split()
    numbers = [word for word in words if _DIGIT_RUN.fullmatch(word)]
    others = [word for word in words if not _DIGIT_RUN.fullmatch(word)]
    reference = "".join(numbers)  # people split long numbers: «123 45 67»
    if len(reference) != REFERENCE_LENGTH or len(numbers) > 3:
        return None
    if len(others) > MAX_QUERY_WORDS or not all(_is_query_word(word) for word in others):
        return None
    if is_valid_reference(reference):
        return reference, ReferenceCheck.VALID
    return reference, ReferenceCheck.BAD_CHECK_DIGIT


# Of the query words, those that ask about a case's progress: a message of query words with one
# of these and no number asks about the person's own case («شو صار؟», "any news?").
_ASKING_WORDS = {
    normalize_for_matching(word)
    for word in ("حالة", "حاله", "الحالة", "حالتي", "وضع", "وضعها", "متابعة", "استعلام", "صار",
                 "صارت", "اخبار", "جديد", "رد", "الرد", "status", "news", "update", "happened",
                 "دۆخ", "دۆخی", "حاڵەت", "حاڵەتی", "هەواڵ", "هەواڵی", "نوێ", "لێهات", "چۆنە",
                 "وەڵام", "وەڵامی", "رەوش", "رەوشا", "ڕەوش")
}


def asks_about_status(text: str) -> bool:
    """Whether the message asks how the person's case is going without giving its number:
    only query words, one of them asking («ليش ما حدا رد علي؟», «شو صار بشكواي»)."""
    words = normalize_for_matching(text).split()
    if not words or len(words) > MAX_QUERY_WORDS or any(_DIGIT_RUN.search(w) for w in words):
        return False
    return all(_is_query_word(word) for word in words) and any(
        _is_one_of(word, _ASKING_WORDS) for word in words)


def _is_query_word(word: str) -> bool:
    return _is_one_of(word, _QUERY_WORDS)


def _is_one_of(word: str, words: set[str]) -> bool:
    return word in words or any(
        word.startswith(clitic) and word[len(clitic):] in words for clitic in _CLITICS)

