"""The information line's matcher: which entry answers a message, or none; and its precision
and recall on the labelled questions (``make eval-faq`` prints the same)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from casework.faq import Entry, Matcher, Terms, load_entries, parse_keywords
from casework.text import normalize_for_matching
from casework.triage import MessageIndex, parse_terms

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = ROOT / "config" / "info_entries.yaml"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_entries(ENTRIES))


MATCHES = [
    ("when-levantine", "ايمت التوزيع الجاي؟", "next_distribution"),
    ("when-iraqi-no-question-mark", "شوكت يوزعون السلات", "next_distribution"),
    ("where-beats-when", "وين نقطة التوزيع", "distribution_place"),
    ("arabizi", "emta el tawzi3", "next_distribution"),
    ("rarer-topic-wins", "شوكت توزيع البطانيات", "winter_items"),
    ("statement-lost-card", "ضاع الكرت تبعي", "lost_card"),
    ("english-register", "how can i register for help", "how_to_register"),
    ("arabic-indic-digits-ignored", "كم مبلغ المساعدة لعيلة من ٥ اشخاص؟", "cash_amount"),
    ("complaint-is-not-a-question", "لم أستلم السلة الغذائية هذا الشهر", None),
    ("why-is-not-when", "ليش ما عطيتونا مازوت", None),
    ("card-broken-not-lost", "الكرت انكسر", None),
    ("school-registration-excluded", "شلون اسجل ولدي بالمدرسة", None),
    ("empty", "", None),
]


@pytest.mark.parametrize(("label", "text", "code"), MATCHES, ids=[row[0] for row in MATCHES])
def test_match(matcher: Matcher, label: str, text: str, code: str | None) -> None:
    found = matcher.match(text)
    assert (found.entry.code if found else None) == code


def _entry(code: str, **fields: object) -> Entry:
    return Entry(code=code, keywords=parse_keywords(["توزيع*"]), asks=("when",), **fields)  # type: ignore[arg-type]


DATED = [
    ("before-it-starts", {"valid_from": date(2026, 12, 1)}, None, False),
    ("after-it-ends", {"valid_to": date(2026, 11, 1)}, None, False),
    ("within-its-dates", {"valid_from": date(2026, 11, 1), "valid_to": date(2026, 12, 31)},
     None, True),
    ("other-governorate", {"locations": ("IQ-NI",)}, "SY-ID-01", False),
    ("district-of-its-governorate", {"locations": ("SY-ID",)}, "SY-ID-01", True),
    ("place-not-known-yet", {"locations": ("SY-ID",)}, None, True),
]


@pytest.mark.parametrize(("label", "fields", "location", "answers"), DATED,
                         ids=[row[0] for row in DATED])
def test_dates_and_places(label: str, fields: dict[str, object], location: str | None,
                          answers: bool) -> None:
    found = Matcher([_entry("next", **fields)]).match("متى التوزيع", location, date(2026, 11, 29))
    assert (found is not None) == answers


# The first-word check that lets a message skip an entry must never skip one that matches.
TERMS = [
    ("exact-word", ["كرت"], "ضاع الكرت مني", True),
    ("prefix-word", ["توزيع*"], "متى التوزيعات", True),
    ("phrase", ["food basket*"], "where is the food baskets", True),
    ("phrase-out-of-order", ["food basket*"], "basket of food", False),
    ("number", ["#"], "بدي 3 بطانيات", True),
    ("absent", ["كرت", "بطاقه"], "وين التوزيع", False),
    ("none", [], "وين التوزيع", False),
]


@pytest.mark.parametrize(("label", "words", "text", "occurs"), TERMS,
                         ids=[row[0] for row in TERMS])
def test_terms_occur_exactly_when_a_term_matches(label: str, words: list[str], text: str,
                                                 occurs: bool) -> None:
    terms = Terms.of(parse_terms(Path("test"), label, words))  # a generator, as from a file
    index = MessageIndex.of_tokens(normalize_for_matching(text).split())
    assert terms.occur_in(index) is occurs
    assert any(index.term_positions(term) for term in terms.terms) is occurs


def test_two_entries_that_answer_alike_are_a_tie_for_an_officer() -> None:
    matcher = Matcher([_entry("one"), _entry("two")])
    assert matcher.match("متى التوزيع") is None


def _evaluation() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_faq", ROOT / "scripts/eval_faq.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_targets_hold_on_the_labelled_questions() -> None:
    evaluation = _evaluation()
    rows = evaluation.read_rows(ROOT / "tests" / "data" / "faq_eval.csv")
    assert len(rows) >= 100
    lexicon = evaluation.load_lexicon(ROOT / "config" / "triage.yaml")
    right, given, answerable, _mistakes = evaluation.evaluate(
        rows, Matcher(load_entries(ENTRIES)), lexicon)
    assert right / given >= evaluation.TARGET_PRECISION
    assert right / answerable >= evaluation.TARGET_RECALL
