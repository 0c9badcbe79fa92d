"""The triage assistant: flags a message as possibly sensitive or urgent, suggests a category,
and says why.

It is first a lexicon, so that every flag can be explained by the words that raised it and
organisations can extend it without code (``config/triage.yaml``, one commented rule per
entry). A statistical second opinion (``casework.triage_model``, weights in
``config/triage_model.json``) flags what no rule lists — misspelt, dialectal, indirect
phrasings — and names the words that weighed most; it only adds flags, never removes one.
Text is compared after ``normalize_for_matching`` (hamza forms, taa marbuta, alef maqsura,
diacritics, tatweel, repeated letters, Arabic-Indic digits), and each word is also tried
without the clitics Arabic writes onto it («والمصاري» → «مصاري», «بالقائمه» → «قائمه»).

A rule matches when any of its ``terms`` occurs (a term is one or more consecutive words; a
word ending in ``*`` matches any word it begins), or when every slot of its ``near`` list has
a term within ``window`` words of the others, in any order. A ``negatable`` rule is ignored
when a negation («ما», «ما حدا», "nobody", ...) stands just before what it matched; rules where
the negation is the meaning («ما في اكل») are not negatable. ``unless`` terms anywhere in the
message cancel a rule (where ``unless_negatable``, not when negated themselves: «محد لگاها» —
nobody found her — does not cancel a missing person as «لگاها» does); ``unless_near`` terms
cancel only a match they stand within a few words of («قتلونا بالانتظار» is an idiom,
«قتلونا» alone is not). The rules are tuned for recall: a false alarm costs an officer a
minute, a missed case can cost a life.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from casework import audit, deadlines, notifications
from casework.models import Case, Message, TriageSuggestion
from casework.text import normalize_for_matching
from casework.triage_model import TriageModel
from config.data import Grid, OrgData, read_yaml

ACTOR = "triage-assistant"
SENSITIVE = "sensitive"
URGENT = "urgent"
FLAGS = frozenset({SENSITIVE, URGENT})
ASSESSMENTS_KEPT = 64
MODEL_RULE = "model"  # the rule id of a flag raised by the statistical model
# The model judges messages of at least this many words. Shorter ones are mostly the
# dialogue's answers (نعم, no, a governorate's name), which no training message resembles:
# their few pieces each weigh heavily and gave "urgent" to نعم. The lexicon judges them alone.
MODEL_MIN_WORDS = 3
DEFAULT_WINDOW = 4
# A flagged rule counts this much more than a plain category hint when choosing the category.
FLAG_WEIGHT = 3.0
NEGATION_REACH = 2  # how many words before a match a negation may stand

# Clitics written onto the front of a word: conjunctions, prepositions, the article, the
# dialects' «ع» (على) and «د» (Iraqi progressive: «ديموت»), and «ان» of the passive
# («انخطف»). Longest first.
_PREFIXES = ("وبال", "فبال", "وال", "بال", "فال", "كال", "ولل", "فلل", "لل", "عال", "ال",
             "ان", "و", "ف", "ب", "ل", "ك", "ع", "د")
_MIN_STEM = 3
# Two-letter words that begin the lexicon's phrases, often written after «و» or «ف»: «وما في
# حليب» is «ما في حليب», «وعم ينزف» is «عم ينزف». Only these are short enough to be let off.
_SHORT_STEMS = frozenset({"ما", "عم", "لا", "مو", "مش", "في", "رح"})
_SHORT_STEM_PREFIXES = frozenset({"و", "ف"})  # not «ل», «ب», «ك», «ع»: «لما», «بما», «كما», «عما»
# Prefixes of the present tense, with the dialects' «ب»: «نقتلكم» → «قتلكم», «بيضرب» → «ضرب».
_VERB_PREFIXES = ("بي", "بت", "بن", "ي", "ت", "ن", "ا")
_MIN_VERB_STEM = 3
# The same for Arabizi: articles and conjunctions, then "by"/"b"/"y"/"t"/"n" of the verb.
_LATIN_PREFIXES = ("wel", "bel", "bil", "3al", "el", "il", "al", "w", "l")
_LATIN_VERB_PREFIXES = ("bi", "by", "bt", "bn", "b", "y", "t", "n", "a", "i")
# English words those prefixes would turn into other words the lexicon holds: "block" into
# "lock" (a harm), "aid" into "id" (a cancelling word), "this car" into "his car", "told" into
# "old", "white" into "hit". They are English, not Arabizi, and are kept whole.
_ENGLISH_WORDS = frozenset({
    "aid", "ago", "alive", "alone", "always", "away", "ball", "band", "beat", "beaten", "bill",
    "bless", "block", "blocked", "blocking", "blocks", "bold", "bone", "bones", "land", "late",
    "later", "tall", "task", "tasks", "this", "told", "tone", "wall", "walls", "ward", "warm",
    "white", "whole", "will", "yard", "your", "yours",
})
# Arabizi writes غ خ ظ ض as a digit and an apostrophe: one letter pair each, before matching.
_ARABIZI_LETTERS = (("3'", "gh"), ("7'", "kh"), ("6'", "z"), ("9'", "d"))
_CURRENCY_SIGNS = (("$", "dollar"), ("€", "euro"), ("£", "pound"))
NEGATORS = frozenset({
    "ما", "مو", "مش", "مب", "لا", "لم", "لن", "ليس", "ماكو", "محدا", "محد", "ولا", "مافي",
    "not", "no", "never", "nobody", "didnt", "didn", "dont", "nothing", "none",
    "ma", "mo", "mush", "msh", "la2", "mahada", "ma7ada",
})
_MA_CONJUNCTIONS = frozenset({"قبل", "بعد", "كل", "لحد", "حتى", "لحتى", "مثل", "متل", "زي", "طول",
                              "طالما", "بقدر", "عند", "من"})
_NEGATION_PHRASES = (("ما", "حدا"), ("ما", "احد"), ("لا", "احد"), ("ما", "حد"), ("no", "one"),
                     ("ولا", "حدا"), ("ma", "7ada"), ("did", "not"), ("do", "not"))


class LexiconError(ValueError):
    """The lexicon file cannot be used; the message names the file and the rule."""


UNLESS_NEAR_WINDOW = 3  # how far an unless_near term may stand from what it cancels
NUMBER = "#"  # a word of the lexicon that matches any number («٢٠», "100$"); "#<18" below 18
_NUMBER_WORD = re.compile(r"#(?:[<>]\d+)?")


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool  # "word*": matches any word that begins with it


Term = tuple[Word, ...]  # consecutive words


@dataclass(frozen=True)
class Rule:
    id: str
    flag: str | None
    category: str | None
    why: str
    terms: tuple[Term, ...]
    near: tuple[tuple[Term, ...], ...]
    window: int
    negatable: bool
    unless: tuple[Term, ...] = ()  # any of these anywhere in the message cancels the rule
    unless_negatable: bool = False  # ... but not when a negation stands right before it
    unless_near: tuple[Term, ...] = ()  # any of these within unless_window words cancels a match
    unless_window: int = 0


@dataclass(frozen=True)
class Hit:
    """One rule that matched, and the words (as written, after normalisation) that made it."""

    rule: str
    flag: str | None
    category: str | None
    words: tuple[str, ...]
    conditions: int = 1  # how many separate conditions were met (the slots of a "near" rule)


@dataclass(frozen=True)
class Assessment:
    sensitive: bool
    urgent: bool
    category: str | None
    hits: tuple[Hit, ...]

    @property
    def flagged(self) -> bool:
        return self.sensitive or self.urgent

    @property
    def flagged_by_a_rule(self) -> bool:
        """A rule of the lexicon named the danger (not only the model's hunch)."""
        return any(hit.flag and hit.rule != MODEL_RULE for hit in self.hits)

    @property
    def urgent_by_a_rule(self) -> bool:
        return any(hit.flag == URGENT and hit.rule != MODEL_RULE for hit in self.hits)

    @property
    def sensitive_by_a_rule(self) -> bool:
        return any(hit.flag == SENSITIVE and hit.rule != MODEL_RULE for hit in self.hits)

    def words(self, flag: str | None = None) -> list[str]:
        """The matched words, in order of first appearance, for one flag or for all."""
        seen: dict[str, None] = {}
        for hit in self.hits:
            if flag is None or hit.flag == flag:
                seen.update(dict.fromkeys(hit.words))
        return list(seen)


@dataclass(frozen=True)
class Lexicon:
    rules: tuple[Rule, ...]
    model: TriageModel | None = None
    _starts: tuple[_RuleStarts, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(_RuleStarts.of(rule) for rule in self.rules))
        # Intake asks twice about one message (the dialogue, then the case's flags); an
        # assessment is immutable, so the second answer is the first one's.
        object.__setattr__(self, "assess", lru_cache(maxsize=ASSESSMENTS_KEPT)(self._assess))

    def assess(self, text: str | None) -> Assessment:  # replaced per instance, cached
        return self._assess(text)

    def _assess(self, text: str | None) -> Assessment:
        written = arabizi_letters(text or "")
        tokens = normalize_for_matching(currency_words(written)).split()
        index = MessageIndex.of_tokens(tokens)
        hits = [hit for rule, starts in zip(self.rules, self._starts, strict=True)
                if starts.found_in(index)
                and (hit := _match(rule, tokens, index, starts.terms_in(rule, index))) is not None]
        # The model reads the words it was trained on, without the currency words.
        hits.extend(self._model_hits(normalize_for_matching(written).split(), hits))
        return Assessment(
            sensitive=any(hit.flag == SENSITIVE for hit in hits),
            urgent=any(hit.flag == URGENT for hit in hits),
            category=_best_category(hits),
            hits=tuple(hits),
        )


    def _model_hits(self, tokens: list[str], hits: Sequence[Hit]) -> list[Hit]:
        """The model's flags that no rule raised, with the words that weighed most."""
        if self.model is None or len(tokens) < MODEL_MIN_WORDS:
            return []
        flagged = {hit.flag for hit in hits}
        return [Hit(rule=MODEL_RULE, flag=flag, category=None, words=opinion.words)
                for flag, opinion in self.model.opinions(tokens).items()
                if opinion.flagged and flag not in flagged]


def load_lexicon(path: Path, model: TriageModel | None = None) -> Lexicon:
    try:
        content = read_yaml(path)
    except (OSError, yaml.YAMLError) as error:
        raise LexiconError(f"{path}: {error}") from error
    if not isinstance(content, dict) or not isinstance(content.get("rules"), list):
        raise LexiconError(f"{path}: expected a mapping with a list of 'rules'")
    rules = [_rule(path, item) for item in content["rules"]]
    ids = [rule.id for rule in rules]
    duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if duplicates:
        raise LexiconError(f"{path}: duplicate rule ids {', '.join(duplicates)}")
    return Lexicon(tuple(rules), model)


# --- loading --------------------------------------------------------------------------------

def _rule(path: Path, item: object) -> Rule:
    if not isinstance(item, dict) or not item.get("id"):
        raise LexiconError(f"{path}: every rule needs an 'id'")
    rule_id = str(item["id"])
    flag = item.get("flag")
    if flag is not None and flag not in FLAGS:
        raise LexiconError(f"{path}: rule {rule_id}: flag must be sensitive or urgent")
    terms = tuple(parse_terms(path, rule_id, item.get("terms") or []))
    near = tuple(tuple(parse_terms(path, rule_id, slot)) for slot in item.get("near") or [])
    if not terms and len(near) < 2:
        raise LexiconError(f"{path}: rule {rule_id}: give 'terms' or at least two 'near' slots")
    if flag is None and not item.get("category"):
        raise LexiconError(f"{path}: rule {rule_id}: give a 'flag', a 'category' or both")
    return Rule(id=rule_id, flag=flag, category=item.get("category"),
                why=str(item.get("why") or ""), terms=terms, near=near,
                window=int(item.get("window") or DEFAULT_WINDOW),
                negatable=bool(item.get("negatable", False)),
                unless=tuple(parse_terms(path, rule_id, item.get("unless") or [])),
                unless_negatable=bool(item.get("unless_negatable", False)),
                unless_near=tuple(parse_terms(path, rule_id, item.get("unless_near") or [])),
                unless_window=int(item.get("unless_window") or UNLESS_NEAR_WINDOW))


def parse_terms(path: Path, rule_id: str, values: object) -> Iterable[Term]:
    if not isinstance(values, list):
        raise LexiconError(f"{path}: rule {rule_id}: terms must be a list")
    for value in values:
        if isinstance(value, list):  # a shared list reused inside another: [*money, نص]
            yield from parse_terms(path, rule_id, value)
            continue
        words = tuple(word for raw in str(value).split() for word in _words(raw))
        if not words:
            raise LexiconError(f"{path}: rule {rule_id}: empty term {value!r}")
        yield words


def _words(raw: str) -> list[Word]:
    """One word of a term as the message's words will be: "can't" is "can t" there, as
    «self-harm» is "self harm", so it is two words here; a final ``*`` applies to the last."""
    if _NUMBER_WORD.fullmatch(raw):
        return [Word(raw, False)]
    prefix = raw.endswith("*")
    pieces = normalize_for_matching(arabizi_letters(raw.rstrip("*"))).split()
    return [Word(piece, prefix and last) for last, piece in
            ((index == len(pieces) - 1, piece) for index, piece in enumerate(pieces))]


# --- matching -------------------------------------------------------------------------------

class MessageIndex:
    """Where each word form of one message stands, so a term's positions come from a few set
    lookups instead of a scan of the message per term; a rule whose first words are absent
    is skipped at once (most rules are)."""

    def __init__(self, forms: Sequence[Sequence[str]]) -> None:
        self.size = len(forms)
        self._exact: dict[str, set[int]] = defaultdict(set)
        self._beginnings: dict[str, set[int]] = defaultdict(set)
        for position, token_forms in enumerate(forms):
            for form in token_forms:
                self._exact[form].add(position)
                for end in range(1, len(form) + 1):
                    self._beginnings[form[:end]].add(position)
        self._first = [token_forms[0] if token_forms else "" for token_forms in forms]
        self.forms = frozenset(self._exact)
        self.beginnings = frozenset(self._beginnings)
        self.has_number = any(token.isdigit() for token in self._first)
        self._cache: dict[Word, frozenset[int]] = {}

    @classmethod
    def of_tokens(cls, tokens: Sequence[str]) -> MessageIndex:
        return cls([word_forms(token) for token in tokens])

    def positions(self, word: Word) -> frozenset[int]:
        found = self._cache.get(word)
        if found is None:
            if word.text.startswith(NUMBER):
                found = frozenset(position for position, token in enumerate(self._first)
                                  if _number_matches(word.text, token))
            else:
                table = self._beginnings if word.prefix else self._exact
                found = frozenset(table.get(word.text, ()))
            self._cache[word] = found
        return found

    def term_positions(self, term: Term) -> list[int]:
        starts = self.positions(term[0])
        for offset, word in enumerate(term[1:], start=1):
            if not starts:
                break
            following = self.positions(word)
            starts = frozenset(start for start in starts if start + offset in following)
        return sorted(starts)



@dataclass(frozen=True)
class FirstWords:
    """The first words of some terms, as sets a message's index is checked against in C: a
    message holding none of them matches none of the terms, whatever follows."""

    exact: frozenset[str]
    prefixes: frozenset[str]
    number: bool

    @classmethod
    def of(cls, terms: Sequence[Term]) -> FirstWords:
        firsts = [term[0] for term in terms]
        return cls(frozenset(word.text for word in firsts if not word.prefix),
                   frozenset(word.text for word in firsts if word.prefix),
                   any(word.text.startswith(NUMBER) for word in firsts))

    def found_in(self, index: MessageIndex) -> bool:
        return (not self.exact.isdisjoint(index.forms)
                or not self.prefixes.isdisjoint(index.beginnings)
                or (self.number and index.has_number))


@dataclass(frozen=True)
class _RuleStarts:
    """A rule cannot match a message holding none of its terms' first words (most cannot),
    nor a "near" rule one where some slot's first words are all absent. Of a long list of
    terms only those whose first word the message holds are tried, in the list's order."""

    terms: FirstWords
    slots: tuple[FirstWords, ...]
    by_word: dict[str, tuple[int, ...]]  # a term's place in the rule, by its exact first word
    by_beginning: dict[str, tuple[int, ...]]  # by its first word, when that ends in "*"
    numbered: tuple[int, ...]  # the terms that begin with a number

    @classmethod
    def of(cls, rule: Rule) -> _RuleStarts:
        by_word: dict[str, list[int]] = defaultdict(list)
        by_beginning: dict[str, list[int]] = defaultdict(list)
        numbered = []
        for place, term in enumerate(rule.terms):
            first = term[0]
            if first.text.startswith(NUMBER):
                numbered.append(place)
            else:
                (by_beginning if first.prefix else by_word)[first.text].append(place)
        return cls(FirstWords.of(rule.terms), tuple(FirstWords.of(slot) for slot in rule.near),
                   {word: tuple(places) for word, places in by_word.items()},
                   {word: tuple(places) for word, places in by_beginning.items()},
                   tuple(numbered))

    def found_in(self, index: MessageIndex) -> bool:
        if self.terms.found_in(index):
            return True
        return bool(self.slots) and all(slot.found_in(index) for slot in self.slots)

    def terms_in(self, rule: Rule, index: MessageIndex) -> list[Term]:
        """The rule's terms whose first word the message holds, in the rule's order."""
        places = [place for word in self.terms.exact & index.forms
                  for place in self.by_word.get(word, ())]
        places += [place for word in self.terms.prefixes & index.beginnings
                   for place in self.by_beginning[word]]
        if index.has_number:
            places += self.numbered
        return [rule.terms[place] for place in sorted(places)]


def _number_matches(word: str, token: str) -> bool:
    if not token.isdigit():
        return False
    if len(word) == 1:
        return True
    limit = int(word[2:])
    return int(token) < limit if word[1] == "<" else int(token) > limit


def arabizi_letters(text: str) -> str:
    for written, letters in _ARABIZI_LETTERS:
        text = text.replace(written, letters).replace(written.replace("'", "’"), letters)
    return text


def currency_words(text: str) -> str:
    """Currency signs as words, which normalising would drop: "30$" is "30 dollar", money
    however small, where a bare «30» may be an age."""
    for sign, word in _CURRENCY_SIGNS:
        text = text.replace(sign, f" {word} ")
    return text


def word_forms(token: str) -> tuple[str, ...]:
    """The token and the stems left when a clitic, then a verb prefix, is taken off its front
    («وبيضربو» → «بيضربو» → «ضربو»; Arabizi "byshtghlo" → "shtghlo")."""
    latin = token.isascii()
    if latin and token in _ENGLISH_WORDS:
        return (token,)
    clitics, verbs = (_LATIN_PREFIXES, _LATIN_VERB_PREFIXES) if latin else (
        _PREFIXES, _VERB_PREFIXES)
    stems = [token] + [token[len(prefix):] for prefix in clitics
                       if token.startswith(prefix) and (len(token) - len(prefix) >= _MIN_STEM
                                                        or (prefix in _SHORT_STEM_PREFIXES
                                                            and token[len(prefix):]
                                                            in _SHORT_STEMS))]
    forms = dict.fromkeys(stems)
    for stem in stems:
        forms.update(dict.fromkeys(stem[len(prefix):] for prefix in verbs
                                   if stem.startswith(prefix)
                                   and len(stem) - len(prefix) >= _MIN_VERB_STEM))
    return tuple(forms)


def _match(rule: Rule, tokens: Sequence[str], index: MessageIndex,
           terms: Sequence[Term]) -> Hit | None:
    """Whether the rule matches; ``terms``: those of its terms that may (see _RuleStarts)."""
    if any(_cancels(term, tokens, index, rule.unless_negatable) for term in rule.unless):
        return None
    for term in terms:
        for start in index.term_positions(term):
            end = start + len(term)
            if not (rule.negatable and _negated(tokens, start)) \
                    and not _idiom(rule, index, start, end):
                return _hit(rule, tokens[start:end])
    if rule.near:
        spans = _near(rule, index)
        for start, words in spans:
            if not (rule.negatable and _negated(tokens, start)) \
                    and not _idiom(rule, index, start, words[-1] + 1):
                return _hit(rule, [tokens[index] for index in words])
    return None


def _cancels(term: Term, tokens: Sequence[str], index: MessageIndex, negatable: bool) -> bool:
    """Whether an ``unless`` term stands in the message; where ``negatable``, not negated («ما
    لقيناه» is not «لقيناه»), though a term that is itself a negation («ما حدا طلب») cancels
    wherever it stands. Most rules want the negated form too: «ما وصلني الخبز» is a delivery."""
    positions = index.term_positions(term)
    if not negatable or term[0].text in NEGATORS:
        return bool(positions)
    return any(not _just_negated(tokens, position) for position in positions)


def _idiom(rule: Rule, index: MessageIndex, start: int, end: int) -> bool:
    """Whether an ``unless_near`` term stands within the rule's reach of words [start, end)."""
    reach = rule.unless_window
    return any(position < end + reach and position + len(term) > start - reach
               for term in rule.unless_near for position in index.term_positions(term))


def _near(rule: Rule, index: MessageIndex) -> list[tuple[int, list[int]]]:
    """Where every slot has a term within the window: (first position, matched positions)."""
    slots = [sorted({(start, len(term)) for term in slot for start in index.term_positions(term)})
             for slot in rule.near]
    if any(not found for found in slots):
        return []
    found: list[tuple[int, list[int]]] = []
    for anchor, _length in slots[0]:
        chosen = [anchor]
        for others in slots[1:]:
            close = [start for start, _ in others if abs(start - anchor) <= rule.window]
            if not close:
                break
            chosen.append(min(close, key=lambda start: abs(start - anchor)))
        else:
            found.append((min(chosen), sorted(chosen)))
    return found


def _negated(tokens: Sequence[str], start: int) -> bool:
    first = max(0, start - NEGATION_REACH)
    if any(_negates(tokens, position) for position in range(first, start)):
        return True
    wider = tokens[max(0, start - NEGATION_REACH - 2):start]
    return any(pair in _NEGATION_PHRASES for pair in pairwise(wider))


def _just_negated(tokens: Sequence[str], start: int) -> bool:
    """A negation right before ``start`` («ما لقيناه», «ومحد لگاها», «ما حدا لقاها»), nothing
    further off: «مش الضهر، الشوب بيقتل» has a comma between, which matching no longer sees."""
    if start >= 1:
        word = tokens[start - 1]
        if _negates(tokens, start - 1) or (word[:1] in _SHORT_STEM_PREFIXES
                                           and word[1:] in NEGATORS):
            return True
    return start >= 2 and (tokens[start - 2], tokens[start - 1]) in _NEGATION_PHRASES


def _negates(tokens: Sequence[str], position: int) -> bool:
    """Whether the word at ``position`` is a negation: «ما» after «قبل», «بعد», «كل» ... is
    not one («قبل ما نبيض وجهو» is "before we", «كل ما يشوفني» "whenever he sees me")."""
    word = tokens[position]
    if word == "ما" and position and tokens[position - 1] in _MA_CONJUNCTIONS:
        return False
    return word in NEGATORS


def _hit(rule: Rule, words: Sequence[str]) -> Hit:
    return Hit(rule=rule.id, flag=rule.flag, category=rule.category, words=tuple(words),
               conditions=max(1, len(rule.near)) if not rule.terms or len(words) > 1 else 1)


def _best_category(hits: Sequence[Hit]) -> str | None:
    scores: dict[str, float] = defaultdict(float)
    for order, hit in enumerate(hits):
        if hit.category:
            # Earlier rules win ties: the file lists the more specific ones first.
            weight = (FLAG_WEIGHT if hit.flag else 1.0) * hit.conditions
            scores[hit.category] += weight - order * 1e-6
    return max(scores, key=lambda code: scores[code]) if scores else None


# --- acting on an assessment ----------------------------------------------------------------

def flag_inbound(session: Session, case: Case, message: Message, lexicon: Lexicon,
                 org_data: OrgData, now: datetime) -> TriageSuggestion | None:
    """Assess an inbound message and act on it in the caller's transaction (caller commits).

    Possibly sensitive: the case is restricted at once (its deadline becomes the sensitive
    level's) and every PSEA user is alerted; an officer confirms or corrects by grading it.
    Possibly urgent: the case is marked urgent and those who may handle it are alerted (its
    officers; the PSEA focal points when it is sensitive). The suggestion is kept either way.
    """
    assessment = lexicon.assess(message.body)
    if not assessment.hits:
        return None
    suggestion = TriageSuggestion(
        case=case, message=message, sensitive=assessment.sensitive,
        urgent=assessment.urgent, category=assessment.category,
        level=suggested_level(assessment, org_data), created_at=now,
        hits=[{"rule": hit.rule, "flag": hit.flag, "words": list(hit.words)}
              for hit in assessment.hits])
    session.add(suggestion)
    newly_urgent = assessment.urgent and not case.urgent
    if newly_urgent:
        case.urgent = True
        audit.record(session, "case.flagged_urgent", case=case, actor=ACTOR,
                     rules=_rules(assessment, URGENT))
    if assessment.sensitive and not case.sensitive:
        _restrict(session, case, assessment, org_data.grid, now)
    if newly_urgent:
        notifications.alert_urgent(session, case, now)
    return suggestion


def suggested_level(assessment: Assessment, org_data: OrgData) -> int | None:
    if assessment.sensitive:
        return sensitive_level(org_data.grid)
    category = org_data.category(assessment.category)
    return category.default_level if category is not None else None


def sensitive_level(grid: Grid) -> int | None:
    levels = [level.level for level in grid.levels if level.sensitive]
    return max(levels) if levels else None


def _restrict(session: Session, case: Case, assessment: Assessment, grid: Grid,
              now: datetime) -> None:
    case.sensitive = True
    level = sensitive_level(grid)
    if level is not None:
        case.due_at = min(case.due_at, deadlines.due_at(case.created_at, level, grid))
    # The rule ids say why; the words stay in the suggestion, with the case's content.
    audit.record(session, "case.flagged_sensitive", case=case, actor=ACTOR,
                 rules=_rules(assessment, SENSITIVE), suggested_level=level)
    session.flush()
    alerts = notifications.alert_sensitive(session, case, now)
    session.flush()
    audit.record(session, "psea.notified", case=case, actor=ACTOR,
                 user_ids=[alert.user_id for alert in alerts],
                 notification_ids=[alert.id for alert in alerts])


def _rules(assessment: Assessment, flag: str) -> list[str]:
    return [hit.rule for hit in assessment.hits if hit.flag == flag]


def suggestions_for(session: Session, case: Case) -> list[TriageSuggestion]:
    return list(session.scalars(select(TriageSuggestion).where(
        TriageSuggestion.case_id == case.id).order_by(TriageSuggestion.id)))


# --- how good the assistant is, against officers' decisions ---------------------------------

@dataclass(frozen=True)
class FlagQuality:
    """Confusion counts of one flag over graded cases; None where there is nothing to divide."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        flagged = self.true_positives + self.false_positives
        return round(self.true_positives / flagged, 4) if flagged else None

    @property
    def recall(self) -> float | None:
        actual = self.true_positives + self.false_negatives
        return round(self.true_positives / actual, 4) if actual else None


def quality(session: Session, begin: datetime, end: datetime) -> dict[str, FlagQuality]:
    """Sensitive and urgent flags against the final decision, for cases created in
    [begin, end) that an officer has graded (``level`` set): the grading is the decision.
    Counted in SQL: a year holds a few hundred thousand cases, and only four booleans each
    matter."""
    graded = (Case.created_at >= begin) & (Case.created_at < end) & Case.level.is_not(None)

    def suggested(column: Any) -> Any:
        return exists().where(TriageSuggestion.case_id == Case.id, column.is_(True))

    pairs = select(
        suggested(TriageSuggestion.sensitive).label("said_sensitive"),
        Case.sensitive.label("sensitive"),
        suggested(TriageSuggestion.urgent).label("said_urgent"),
        Case.urgent.label("urgent"),
    ).where(graded).subquery()
    columns = (pairs.c.said_sensitive, pairs.c.sensitive, pairs.c.said_urgent, pairs.c.urgent)
    counts = session.execute(select(*columns, func.count()).group_by(*columns)).all()
    return {SENSITIVE: _confusion((said, decided, n) for said, decided, _, _, n in counts),
            URGENT: _confusion((said, decided, n) for _, _, said, decided, n in counts)}


def _confusion(rows: Iterable[tuple[Any, Any, int]]) -> FlagQuality:
    tp = fp = fn = 0
    for said, decided, count in rows:
        tp += count if said and decided else 0
        fp += count if said and not decided else 0
        fn += count if not said and decided else 0
    return FlagQuality(true_positives=tp, false_positives=fp, false_negatives=fn)
