"""The triage assistant's statistical model: features, scoring, explanations, loading, training."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from bot.engine import NO_WORDS, YES_WORDS
from casework.survey import ANSWER_WORDS
from casework.triage import MODEL_RULE, load_lexicon
from casework.triage_model import (
    ModelError,
    TriageModel,
    features,
    load_model,
    word_pieces,
)
from config.data import load_org_data

ROOT = Path(__file__).resolve().parents[2]
LEXICON = ROOT / "config" / "triage.yaml"
SHIPPED_MODEL = ROOT / "config" / "triage_model.json"


def test_word_pieces_mark_the_edges_and_keep_the_word() -> None:
    assert word_pieces("abc") == {
        " a", "ab", "bc", "c ",  # 2 letters
        " ab", "abc", "bc ",  # 3
        " abc", "abc ",  # 4
        " abc ",  # 5
        "w:abc",
    }


def test_features_weigh_one_over_the_root_of_their_number() -> None:
    found = features(["ab", "ab"])  # a repeated word counts once
    assert set(found) == {" a", "ab", "b ", " ab", "ab ", " ab ", "w:ab"}
    assert all(value == pytest.approx(1 / math.sqrt(7)) for value in found.values())
    assert features([]) == {}


def _write_model(path: Path, weights: dict[str, dict[str, float]], *, bias: float = -2.0,
                 threshold: float = 0.5) -> Path:
    pieces = sorted({piece for flag in weights.values() for piece in flag})
    content = {"features": pieces, "trained_on": ["hand.csv"], "flags": {
        flag: {"bias": bias, "threshold": threshold,
               "weights": [weights[flag].get(piece, 0.0) for piece in pieces]}
        for flag in weights}}
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


@pytest.fixture
def hand_model(tmp_path: Path) -> TriageModel:
    model = load_model(_write_model(tmp_path / "model.json", {
        "sensitive": {"w:xyzzy": 20.0, "w:plugh": 4.0, "w:calm": -20.0},
        "urgent": {"w:fire": 20.0},
    }))
    assert model is not None
    return model


@pytest.mark.parametrize(("words", "probability"), [
    # " xyzzy " has 6 + 5 + 4 + 3 runs of 2–5 letters, and the word: 19 pieces, each worth
    # 1/sqrt(19); only the word weighs 20: score -2 + 20/sqrt(19) = 2.588
    pytest.param(["xyzzy"], 1 / (1 + math.exp(-(-2 + 20 / math.sqrt(19)))),
                 id="one-heavy-word"),
    # nothing known: the bias alone
    pytest.param(["hello"], 1 / (1 + math.exp(2)), id="unknown-words"),
    # xyzzy (19 pieces) and calm (15, none shared): (20 - 20) / sqrt(34) = 0
    pytest.param(["xyzzy", "calm"], 1 / (1 + math.exp(2)), id="weights-cancel"),
])
def test_probability_is_the_logistic_of_the_weighted_pieces(
        hand_model: TriageModel, words: list[str], probability: float) -> None:
    opinion = hand_model.flags["sensitive"].opinion(words)
    assert opinion.probability == pytest.approx(probability, abs=1e-4)
    assert opinion.flagged == (probability >= 0.5)


def test_a_flag_names_the_words_that_weighed_most(hand_model: TriageModel) -> None:
    opinion = hand_model.flags["sensitive"].opinion(["the", "plugh", "xyzzy", "calm", "man"])
    # calm cancels xyzzy: -2 + (20 + 4 - 20) / sqrt(about 75 pieces) < 0, so no flag, no words
    assert not opinion.flagged and opinion.words == ()
    opinion = hand_model.flags["sensitive"].opinion(["the", "plugh", "xyzzy"])
    assert opinion.flagged
    assert opinion.words == ("xyzzy", "plugh")  # heaviest first; "the" weighs nothing


@pytest.mark.parametrize(("text", "flags", "rules"), [
    pytest.param("xyzzy is here", {"sensitive"}, [MODEL_RULE], id="model-only"),
    pytest.param("fire xyzzy here", {"sensitive", "urgent"}, [MODEL_RULE, MODEL_RULE],
                 id="both"),
    # Fewer than MODEL_MIN_WORDS: the dialogue's answers, which the lexicon judges alone.
    pytest.param("xyzzy", set(), [], id="one-word-too-short-for-the-model"),
    pytest.param("fire xyzzy", set(), [], id="two-words-too-short-for-the-model"),
    pytest.param("he harassed me xyzzy", {"sensitive"}, None, id="rule-first-no-model-hit"),
    pytest.param("hello there", set(), [], id="nothing"),
])
def test_the_model_adds_flags_the_rules_did_not_raise(
        tmp_path: Path, hand_model: TriageModel, text: str, flags: set[str],
        rules: list[str] | None) -> None:
    lexicon = load_lexicon(LEXICON, hand_model)
    assessment = lexicon.assess(text)
    assert {flag for flag in ("sensitive", "urgent") if getattr(assessment, flag)} == flags
    model_hits = [hit for hit in assessment.hits if hit.rule == MODEL_RULE]
    if rules is None:  # a rule flagged it: the model does not repeat the flag
        assert assessment.hits and not model_hits
    else:
        assert [hit.rule for hit in model_hits] == rules
        assert all(hit.words and hit.category is None for hit in model_hits)


def test_without_a_model_the_lexicon_works_alone(tmp_path: Path) -> None:
    assert load_model(tmp_path / "absent.json") is None
    assert not load_lexicon(LEXICON, None).assess("xyzzy").flagged


@pytest.mark.parametrize("content", [
    pytest.param("not json", id="not-json"),
    pytest.param('{"flags": {}}', id="no-features"),
    pytest.param('{"features": ["a"], "flags": {"sensitive": {"bias": 0, "threshold": 0.5, '
                 '"weights": [1, 2]}}}', id="weights-do-not-fit"),
    pytest.param('{"features": ["a"], "flags": {"sensitive": {"bias": 0, "weights": [1]}}}',
                 id="no-threshold"),
])
def test_a_bad_model_file_is_refused_with_its_name(tmp_path: Path, content: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=r"model\.json"):
        load_model(path)


# --- the shipped model ----------------------------------------------------------------------

def test_the_shipped_model_loads_and_says_what_it_learnt_from() -> None:
    model = load_model(SHIPPED_MODEL)
    assert model is not None and set(model.flags) == {"sensitive", "urgent"}
    assert set(model.trained_on) == {path.name for path in (ROOT / "tests" / "data").glob(
        "triage_*.csv")}  # retrained after every set was measured unseen (README)
    for flag in model.flags.values():
        assert 0.2 <= flag.threshold <= 0.9 and len(flag.weights) > 1000


def _dialogue_answers() -> list[object]:
    """What people send between the dialogue's questions: yes, no, a survey answer, a place."""
    org = load_org_data(ROOT / "config")
    places = [name for governorate in org.governorates
              for name in (governorate.name_ar, governorate.name_en)]
    answers = sorted(YES_WORDS | NO_WORDS | set().union(*ANSWER_WORDS.values()))
    return ([pytest.param(word, id=f"answer-{word}") for word in answers]
            + [pytest.param(place, id=f"place-{place}") for place in places]
            + [pytest.param(f"انا من {place}", id=f"from-{place}") for place in places])


@pytest.mark.parametrize("text", _dialogue_answers())
def test_the_dialogues_answers_raise_no_flag(text: str) -> None:
    # The shipped model once said "urgent" to نعم: every consenting person's case was flagged.
    assessment = load_lexicon(LEXICON, load_model(SHIPPED_MODEL)).assess(text)
    assert not assessment.sensitive and not assessment.urgent, assessment.hits


# --- training -------------------------------------------------------------------------------

ROWS = [("the guard asked me for a night visit for the basket", 1, 0),
        ("the guard wants a night visit before he gives the coupon", 1, 0),
        ("a night visit to his office or no aid he said", 1, 0),
        ("he said come for a night visit and you get the tent", 1, 0),
        ("my baby is burning with fever and not waking up", 0, 1),
        ("the baby is not waking up please come now", 0, 1),
        ("fever and the baby does not wake up", 0, 1),
        ("baby not waking up since the morning", 0, 1),
        ("thank you for the blankets", 0, 0), ("when is the next distribution", 0, 0),
        ("the bread was good this week", 0, 0), ("how do I change my address", 0, 0),
        ("thanks to the team", 0, 0), ("the queue was long but fine", 0, 0),
        ("we received the cash transfer", 0, 0), ("the water tank was cleaned", 0, 0)]


def test_training_writes_a_model_the_service_reads(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    lines = ["id,text,sensitive,urgent,category,note"]
    lines += [f"r{number},{text},{sensitive},{urgent},other," for number, (text, sensitive, urgent)
              in enumerate(ROWS * 3)]
    (data / "set.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    trainer = _import_trainer()
    monkeypatch.setattr(trainer, "DATA", data)
    out = tmp_path / "model.json"
    monkeypatch.setattr(sys, "argv", ["train", "--sets", "set.csv", "--out", str(out),
                                      "--folds", "3"])
    assert trainer.main() == 0
    model = load_model(out)
    assert model is not None and model.trained_on == ("set.csv",)
    assert model.flags["sensitive"].opinion(["night", "visit", "guard"]).flagged
    assert not model.flags["sensitive"].opinion(["thank", "you", "team"]).flagged
    assert model.flags["urgent"].opinion(["baby", "not", "waking"]).flagged


def _import_trainer():  # type: ignore[no-untyped-def]
    import importlib.util

    path = ROOT / "scripts" / "train_triage_model.py"
    spec = importlib.util.spec_from_file_location("train_triage_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_triage_model"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
