"""A statistical second opinion for the triage assistant, for the phrasings no rule lists.

The lexicon (``config/triage.yaml``) catches what its authors thought of; people write in more
ways than anyone lists. This model scores a message by the pieces of its words — every run of
2 to 5 letters of each normalised word, with the word's edges marked, and the word itself — so
a misspelt, dialectal or unseen form still shares most of its pieces with the forms it was
trained on. One logistic regression per flag (sensitive, urgent), trained by
``scripts/train_triage_model.py`` (``make train-triage``) on the labelled sets in
``tests/data``; the weights live in ``config/triage_model.json`` and only they are needed here.

It stays explainable: a flag from the model names the words of the message whose pieces
weighed most towards it, and the console shows them like a rule's matched words.

A message's features each weigh 1/sqrt(n), n being how many distinct pieces it has, so that
long messages are not flagged for their length; the training script computes the same.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

SHORTEST_PIECE, LONGEST_PIECE = 2, 5
WORD_MARK = "w:"  # the feature of a whole word, beside its pieces
REASON_WORDS = 3  # how many words a model flag names


class ModelError(ValueError):
    """The model file cannot be used; the message names the file."""


def word_pieces(word: str) -> set[str]:
    """The pieces of one normalised word: its letter runs (edges marked by spaces), itself."""
    padded = f" {word} "
    pieces = {padded[start:start + size]
              for size in range(SHORTEST_PIECE, LONGEST_PIECE + 1)
              for start in range(len(padded) - size + 1)}
    pieces.add(WORD_MARK + word)
    return pieces


def features(words: Iterable[str]) -> dict[str, float]:
    """The message's features and their value (the same function trains the model)."""
    pieces = set().union(*(word_pieces(word) for word in words))
    value = 1 / math.sqrt(len(pieces)) if pieces else 0.0
    return dict.fromkeys(pieces, value)


@dataclass(frozen=True)
class Opinion:
    probability: float
    flagged: bool
    words: tuple[str, ...]  # the words that weighed most towards the flag


@dataclass(frozen=True)
class FlagModel:
    bias: float
    threshold: float
    weights: Mapping[str, float]

    def opinion(self, words: list[str]) -> Opinion:
        found = features(words)
        score = self.bias + sum(self.weights.get(piece, 0.0) * value
                                for piece, value in found.items())
        probability = 1 / (1 + math.exp(-max(-50.0, min(50.0, score))))
        flagged = probability >= self.threshold
        return Opinion(round(probability, 4), flagged, self._reasons(words) if flagged else ())

    def _reasons(self, words: list[str]) -> tuple[str, ...]:
        weight = {word: sum(self.weights.get(piece, 0.0) for piece in word_pieces(word))
                  for word in dict.fromkeys(words)}
        heaviest = sorted((word for word in weight if weight[word] > 0),
                          key=lambda word: weight[word], reverse=True)
        return tuple(heaviest[:REASON_WORDS])


@dataclass(frozen=True)
class TriageModel:
    flags: Mapping[str, FlagModel]
    trained_on: tuple[str, ...]

    def opinions(self, words: list[str]) -> dict[str, Opinion]:
        return {flag: model.opinion(words) for flag, model in self.flags.items()}


def load_model(path: Path) -> TriageModel | None:
    """The model in ``path``; None when there is no such file (the lexicon works alone)."""
    if not path.exists():
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        pieces = content["features"]
        flags = {flag: FlagModel(bias=float(part["bias"]), threshold=float(part["threshold"]),
                                 weights=dict(zip(pieces, part["weights"], strict=True)))
                 for flag, part in content["flags"].items()}
        return TriageModel(flags, tuple(content.get("trained_on", ())))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelError(f"{path}: {error}") from error
