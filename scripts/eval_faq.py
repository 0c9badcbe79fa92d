"""``make eval-faq``: precision and recall of the information line's matching.

tests/data/faq_eval.csv (id, text, entry) labels each message with the entry that answers it,
or ``none``; the entries are config/info_entries.yaml. Precision: of the answers given, how
many were the right entry. Recall: of the messages an entry answers, how many got it.
``--misses`` lists the wrong and the missed ones.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casework.faq import Matcher, load_entries  # noqa: E402
from casework.triage import load_lexicon  # noqa: E402
from casework.triage_model import load_model  # noqa: E402

DATA = ROOT / "tests" / "data"
TARGET_PRECISION, TARGET_RECALL = 0.95, 0.80
# faq_eval: the entries' keywords were tuned on it; faq_blind: written afterwards by someone who
# saw only the entries' questions and answers, measured once — the honest figure.
SETS = ("faq_eval.csv", "faq_blind.csv")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def evaluate(rows: list[dict[str, str]], matcher: Matcher, lexicon: object
             ) -> tuple[int, int, int, list[tuple[dict[str, str], str]]]:
    """(right answers, answers given, answerable messages, mistakes)."""
    right = given = answerable = 0
    mistakes = []
    for row in rows:
        flagged = lexicon.assess(row["text"]).flagged_by_a_rule  # type: ignore[attr-defined]
        found = None if flagged else matcher.match(row["text"])
        said = found.entry.code if found else "none"
        answerable += row["entry"] != "none"
        given += said != "none"
        right += said != "none" and said == row["entry"]
        if said != row["entry"]:
            mistakes.append((row, said))
    return right, given, answerable, mistakes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    matcher = Matcher(load_entries(ROOT / "config" / "info_entries.yaml"))
    lexicon = load_lexicon(ROOT / "config" / "triage.yaml",  # as the service reads it
                           load_model(ROOT / "config" / "triage_model.json"))
    results = [report(name, read_rows(DATA / name), matcher, lexicon, args.misses)
               for name in SETS if (DATA / name).exists()]
    return 0 if results and results[0] else 1


def report(name: str, rows: list[dict[str, str]], matcher: Matcher, lexicon: object,
           show_misses: bool) -> bool:
    right, given, answerable, mistakes = evaluate(rows, matcher, lexicon)
    precision = right / given if given else 1.0
    recall = right / answerable if answerable else 1.0
    met = precision >= TARGET_PRECISION and recall >= TARGET_RECALL
    print(f"{name}: {len(rows)} messages, {answerable} answerable by an entry")
    print(f"  precision {precision:.3f} ({right}/{given})   recall {recall:.3f} "
          f"({right}/{answerable})   target precision>={TARGET_PRECISION} "
          f"recall>={TARGET_RECALL}: {'met' if met else 'NOT met'}")
    if show_misses:
        for row, said in mistakes:
            print(f"  - {row['id']} said {said} truth {row['entry']} | {row['text']}")
    return met


if __name__ == "__main__":
    sys.exit(main())
