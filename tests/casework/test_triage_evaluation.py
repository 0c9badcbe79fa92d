"""The triage assistant on the labelled sets in tests/data: the issue's targets must hold
(recall >= 0.95 sensitive, >= 0.90 urgent; precision >= 0.80). ``make eval-triage`` prints the
same figures with the messages it got wrong."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETS = ["triage_eval.csv", "triage_holdout.csv"]


def _evaluation() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_triage", ROOT / "scripts/eval_triage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SETS)
def test_the_targets_hold_on_the_labelled_set(name: str) -> None:
    evaluation = _evaluation()
    examples = evaluation.read_examples(ROOT / "tests" / "data" / name)
    assert len(examples) >= (300 if name == "triage_eval.csv" else 100)
    lexicon = evaluation.load_lexicon(ROOT / "config" / "triage.yaml")
    scores, _categories, misses = evaluation.evaluate(lexicon, examples)
    for flag, (recall, precision) in evaluation.TARGETS.items():
        assert scores[flag].recall >= recall, (flag, [m[0].id for m in misses])
        assert scores[flag].precision >= precision, (flag, [m[0].id for m in misses])
