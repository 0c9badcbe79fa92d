"""The lexicon alone on the probe set in data/triage_probe3.csv: urgent messages worded without
the obvious keywords, sensitive ones worded indirectly, and hard negatives (idioms, rude staff,
legitimate requests for an ID, a child with a cold, events long resolved) in Syrian, Iraqi, Gulf,
MSA, Arabizi and English. It lives here, not in tests/data, so that neither ``make eval-triage``
nor the model's training reads it (the model must be trained on every tests/data/triage_*.csv).
Rows h*: a second batch, measured once before the lexicon was tuned on it; rows o*: ordinary
messages written after the tuning, a check on false alarms."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from casework.triage import Lexicon, load_lexicon

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).parent / "data" / "triage_probe3.csv"


def _rows() -> list[dict[str, str]]:
    with PROBE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


ROWS = _rows()


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon(ROOT / "config" / "triage.yaml")


def test_the_probe_set_is_outside_the_training_sets() -> None:
    assert PROBE not in set((ROOT / "tests" / "data").glob("triage_*.csv"))
    assert len(ROWS) >= 250
    assert sum(row["sensitive"] == row["urgent"] == "0" for row in ROWS) >= 100


@pytest.mark.parametrize("row", ROWS, ids=[f"{row['id']}-{row['note']}" for row in ROWS])
def test_probe(lexicon: Lexicon, row: dict[str, str]) -> None:
    assessment = lexicon.assess(row["text"])
    said = (assessment.sensitive, assessment.urgent)
    assert said == (row["sensitive"] == "1", row["urgent"] == "1"), \
        [(hit.rule, hit.words) for hit in assessment.hits if hit.flag]
