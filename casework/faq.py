"""The information line's matcher: which information entry, if any, answers a message.

A wrong answer is worse than none, so an entry answers a message only when all of these hold:
- one of its ``keywords`` (the topic: «توزيع», «صهريج», "lost card") occurs, using the same
  term syntax as the triage lexicon (``word*`` for any word it begins, words in a row for a
  phrase), and one of its ``also`` words too when it has any («ضاع» needs «كرت»);
- the message asks what the entry answers: one of the entry's ``asks`` kinds of question
  (when, where, how, how_much, why, what, can, who) — «متى التوزيع» is next_distribution,
  «وين التوزيع» distribution_place, and «ليش ما وصل التوزيع» neither; an entry with no
  ``asks`` answers a plain statement too («ضاع الكرت»);
- none of its ``unless`` words occurs («شلون اسجل ولدي بالمدرسة» is not our registration);
- no other entry answers it as well: the topic words are weighted by how rare they are across
  entries («بطانيات» says more than «توزيع»), ties go to an officer.
Entries outside their dates or for other locations are never considered. The caller makes
sure the triage assistant did not flag the message sensitive or urgent.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from casework.text import normalize_for_matching
from casework.triage import FirstWords, MessageIndex, Term, arabizi_letters, parse_terms
from config.data import read_yaml

MIN_MARGIN = 0.01  # a tie is not an answer

# Kinds of question and how people ask them: Arabic dialects, Arabizi, English and Kurdish
# (Sorani, and Badini's «کەنگی», «کیڤە», «چاوا»); not «کێ» (who), which reads as Arabic «كي»
# (so that) once Kurdish letters are normalised.
QUESTION_KINDS: dict[str, tuple[str, ...]] = {
    "when": ("متى", "ايمت", "ايمتى", "امتى", "امتي", "شوكت", "شقد وقت", "موعد*", "تاريخ", "اي يوم",
             "باي يوم", "اي وقت", "باي وقت", "باي تاريخ", "الصبح ولا", "when", "what time",
             "which day", "what day", "emta", "imta", "emta", "aymta", "shwakit", "shwaket",
             "کەی", "کەنگێ", "کەنگی", "چ کاتێک", "کام ڕۆژ"),
    "where": ("وين", "فين", "اين", "منين", "لوين", "باي مكان", "شو المكان", "وين مكان", "where",
              "which place", "wen", "wein", "wain", "ween", "mnen", "la wen",
              "کوێ", "لەکوێ", "کیڤە", "ل کیڤە"),
    "how": ("كيف", "كيفيه", "شلون", "شو اعمل", "شو بعمل", "شو لازم اعمل", "شو الحل", "شو الطريقه",
            "ما هي الخطوات", "الخطوات", "بدنا نتسجل", "بدي سجل", "بدي اتسجل", "how",
            "what should i do", "what do i do", "what to do", "kif", "kef", "shlon", "shu ba3mel",
            "sho ba3mel", "shu a3mel", "sho a3mel", "اعاده تقييم", "ارغب",
            "چۆن", "چاوا", "چی بکەم", "چ بکەم"),
    "how_much": ("قديش", "قدي", "كم", "شكد", "شقد", "how much", "how many", "adesh", "2adesh",
                 "addesh", "shgad", "chem", "kam", "چەند", "بە چەند"),
    "why": ("ليش", "ليه", "لماذا", "لمادا", "شو السبب", "ما السبب", "شنو السبب", "why", "lesh",
            "leish", "laysh", "lech", "ليش ما", "بۆچی", "بۆچ"),
    "what": ("شو", "شنو", "ايش", "ماذا", "ما هي", "ما هو", "شو لازم", "what", "which", "sho",
             "shu", "shinu", "esh", "چی", "چییە", "چیە"),
    "can": ("هل", "ممكن", "بقدر", "بيقدر", "بتقدر", "يقدر", "تقدر", "اقدر", "يمكن", "يگدر",
            "اگدر", "لازم", "رح", "راح", "بيعرف", "يعرف", "can", "could", "may", "is", "are",
            "will", "do", "does", "should", "must", "hal", "fini", "b2dar", "lazem", "ra7",
            "ئایا", "دەتوانم", "دەتوانین", "دەکرێت", "دەبێت"),
    "who": ("مين", "منو", "من يشوف", "who", "min", "meen"),
}


@dataclass(frozen=True)
class Terms:
    """Some terms, with their first words: a message that holds none of those is passed over
    without looking for any term in it (most messages, for most entries)."""

    terms: tuple[Term, ...]
    first_words: FirstWords

    @classmethod
    def of(cls, terms: Iterable[Term]) -> Terms:
        kept = tuple(terms)
        return cls(kept, FirstWords.of(kept))

    def occur_in(self, index: MessageIndex) -> bool:
        return bool(self.terms) and self.first_words.found_in(index) \
            and any(index.term_positions(term) for term in self.terms)


@cache
def _question_kinds() -> dict[str, Terms]:
    return {kind: Terms.of(parse_terms(Path("faq.py"), kind, list(words)))
            for kind, words in QUESTION_KINDS.items()}


def reads_as_question(text: str | None) -> bool:
    """Whether a message asks something: a question mark, or a question word other than the
    loose yes-or-no ones («لازم», "is") — for keeping the questions nothing answered."""
    if not text:
        return False
    if "?" in text or "؟" in text:
        return True
    index = MessageIndex.of_tokens(normalize_for_matching(arabizi_letters(text)).split())
    return any(terms.occur_in(index) for kind, terms in _question_kinds().items()
               if kind != "can")


@dataclass(frozen=True)
class Entry:
    code: str
    keywords: tuple[Term, ...]
    examples: tuple[str, ...] = ()
    also: tuple[Term, ...] = ()
    asks: tuple[str, ...] = ()
    unless: tuple[Term, ...] = ()
    question_ar: str = ""
    question_en: str = ""
    answer_ar: str = ""
    answer_en: str = ""
    locations: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    ref: object = field(default=None, compare=False)  # the database row it came from, if any

    def applies(self, location: str | None, today: date) -> bool:
        if self.valid_from and today < self.valid_from:
            return False
        if self.valid_to and today > self.valid_to:
            return False
        return not self.locations or location is None or any(
            location == code or location.startswith(code + "-") for code in self.locations)


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float
    words: tuple[str, ...]  # the message's words that matched the entry's keywords


def parse_keywords(values: Iterable[str]) -> tuple[Term, ...]:
    wanted = [value for value in values if value.strip()]
    return tuple(parse_terms(Path("keywords"), "entry", wanted))


def load_entries(path: Path) -> list[Entry]:
    """Entries from a YAML file (config/info_entries.yaml: the evaluation's and the demo's)."""
    content = read_yaml(path)
    return [Entry(code=str(item["code"]), keywords=parse_keywords(item.get("keywords") or []),
                  examples=tuple(item.get("examples") or ()),
                  also=parse_keywords(item.get("also") or []),
                  asks=tuple(item.get("asks") or ()),
                  unless=parse_keywords(item.get("unless") or []),
                  question_ar=item.get("question_ar", ""), question_en=item.get("question_en", ""),
                  answer_ar=item.get("answer_ar", ""), answer_en=item.get("answer_en", ""),
                  locations=tuple(item.get("locations") or ()))
            for item in content["entries"]]


class Matcher:
    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        self._kinds = _question_kinds()
        self._conditions = [_Conditions.of(entry) for entry in self.entries]
        # How many entries use each topic word: a word many share says less.
        counts = Counter(_term_key(term) for entry in self.entries
                         for term in set(entry.keywords))
        total = len(self.entries) or 1
        self._weight = {key: math.log(1 + total / count) for key, count in counts.items()}

    def match(self, text: str | None, location: str | None = None,
              today: date | None = None) -> Match | None:
        tokens = normalize_for_matching(arabizi_letters(text or "")).split()
        if not tokens:
            return None
        index = MessageIndex.of_tokens(tokens)
        asked = {kind for kind, terms in self._kinds.items() if terms.occur_in(index)}
        if text and ("?" in text or "؟" in text):
            asked.add("can")  # a bare question mark: at least a yes-or-no question
        today = today or date.today()
        found = [match for entry, conditions in zip(self.entries, self._conditions, strict=True)
                 if conditions.topic.first_words.found_in(index)
                 and entry.applies(location, today)
                 and (match := self._answers(entry, conditions, tokens, index, asked))
                 is not None]
        found.sort(key=lambda match: match.score, reverse=True)
        if not found or (len(found) > 1 and found[0].score - found[1].score < MIN_MARGIN):
            return None
        return found[0]

    def _answers(self, entry: Entry, conditions: _Conditions, tokens: Sequence[str],
                 index: MessageIndex, asked: set[str]) -> Match | None:
        if entry.asks and not asked.intersection(entry.asks):
            return None
        if conditions.unless.occur_in(index):
            return None
        if entry.also and not conditions.also.occur_in(index):
            return None
        hits = [(term, start) for term in entry.keywords for start in index.term_positions(term)]
        if not hits:
            return None
        score = sum(self._weight.get(_term_key(term), 1.0) for term in {term for term, _ in hits})
        words = tuple(dict.fromkeys(word for term, start in hits
                                    for word in tokens[start:start + len(term)]))
        return Match(entry, round(score, 4), words)


@dataclass(frozen=True)
class _Conditions:
    """An entry's word conditions, each with the first words that let most messages skip it."""

    topic: Terms
    also: Terms
    unless: Terms

    @classmethod
    def of(cls, entry: Entry) -> _Conditions:
        return cls(Terms.of(entry.keywords), Terms.of(entry.also), Terms.of(entry.unless))


def _term_key(term: Term) -> str:
    return " ".join(word.text + ("*" if word.prefix else "") for word in term)
