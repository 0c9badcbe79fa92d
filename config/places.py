"""The organisation's places by the names people type for them, indexed once per org data.

A name is found as written (normalised by ``casework.text.normalize_for_matching``) or, failing
that, by its compact spelling: without spaces or the article («ال», "al") and with doubled
Arabic letters written once, so «دير الزور», «ديرالزور» and «دير زور» are one name and «ادلبب»
is «ادلب». Failing that, a misspelling is accepted when exactly one place has a name within
``tolerance`` of it, by a ``distance`` that counts the slips people make (a vowel, a dot, a
Kurdish «ە» typed into an Arabic name: «حلەب») less than those that make another word: an
everyday word near two places, or near none, names no place. A misspelt name may follow a
one-letter prefix («بادليب»), and Latin spellings are compared by the Arabic sounds they write
("kirkok", "arbeel", "raqqah"). Failing all that, a Kurdish ending is taken off a word: a
Kurmanji case ending off a Latin one ("li Kerkûkê"), a Sorani ending or a joined «لە» off an
Arabic-script one («لە هەولێرم», «ئەنبارم», «لەکەرکووک»), one that Arabic words end in too
(«ين», «ة») only after «لە» or «خەڵکی». A name that is also an everyday word («عنه», about him)
names its place only as the whole answer, after a word that introduces a place («قضاء عنه»,
Sorani «لە عنە») or beside its governorate's name («عنه الانبار»); one that is also a noun
written after a preposition («الباب», the door; «الصدر», the chest; «الثورة», the revolution)
after a preposition only where that says where someone is («في الباب», «انا من الباب», not
«عندي الم في الصدر» or «بعد الثورة»).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.data import Location

PLACE_PREFIXES = ("و", "ب", "ف", "ل")  # بحارم, بالباب: a prefix joined to the name
ARTICLES = frozenset({"ال", "al", "el"})  # as words of their own: «ال رقه», "al bab"
# Nouns whose everyday sense is written after a preposition, as a place's name is: «في الصدر»,
# "fi el sadr" (in the chest: Sadr City), «من الباب» (through the door: Al-Bab), «بعد الثورة»
# (after the revolution: «الثورة», Sadr City's old name). A preposition introduces them as a
# place only where it says where someone is: at the start of the answer or after one of
# ``SELF_WORDS`` («من الباب», «انا من الباب», «ساكنين بالصدر»; not «عندي الم في الصدر» or
# «طلعوا من الباب»).
EVERYDAY_NOUNS = frozenset({"الباب", "باب", "الصدر", "صدر", "الثوره", "ثوره", "bab", "al bab",
                            "el bab", "sadr", "al sadr", "el sadr", "thawra", "al thawra",
                            "el thawra"})
# Words people write in answers and complaints alike, that are a place's name or a slip from one:
# «عنه» (about him, Anah), "ana" (I in Arabizi, Anah), «خالص» and "khales" (at all, Al-Khalis),
# "halib" (milk, Aleppo's "haleb"), "haram" and "7aram" (forbidden, Harim's "harem" and
# "7arem"), "hit" (English, Heet), "balad" (country, home town: Balad), and the nouns above.
EVERYDAY_WORDS = EVERYDAY_NOUNS | {"عنه", "ana", "خالص", "khales", "halib", "haram", "7aram",
                                   "hit", "balad"}
# Words that introduce the name after them as a place: «في عنه», «قضاء عنه», "in ana", Sorani
# «لە عنە», «شاری» (the city of), «پارێزگای» (the governorate of), «خەڵکی» (from; people of);
# the prepositions among them, also joined to the name («بالصدر»), may begin an everyday
# sentence.
SORANI_PREPOSITION = "له"  # «لە», in or from; also Arabic «له», to him: see ``_introduces``
SORANI_PLACE_WORDS = frozenset({SORANI_PREPOSITION, "شاري", "پاريزگاي", "خهلكي"})
PREPOSITIONS = frozenset({"في", "ب", "من", SORANI_PREPOSITION, "in", "fi", "bi", "from", "min",
                          "mn", "men"})
JOINED_PREPOSITION = "ب"
PLACE_WORDS = PREPOSITIONS | SORANI_PLACE_WORDS | {"قضاء", "قضا", "ناحيه", "مدينه", "منطقه",
                                                   "محافظه", "مخيم", "بلده", "قريه"}
# Words after which a preposition tells where someone is: who («انا», "we"; "i'm" is "i m";
# Sorani «ئێمە», we), living or displaced («ساكنين», «نازحين»), here.
SELF_WORDS = frozenset({
    "انا", "اني", "احنا", "نحنا", "نحن", "ييمه", "ساكن", "ساكنه", "ساكنين", "نازح", "نازحه",
    "نازحين", "مقيم", "مقيمه", "مقيمين", "عايش", "عايشه", "عايشين", "موجود", "موجوده", "موجودين",
    "هون", "هنا", "ana", "e7na", "ehna", "n7na", "ni7na", "i", "im", "m", "we", "am", "are", "live",
    "living", "here", "sakin", "saken", "sakna", "saknin", "sakneen", "hon", "hone"})
_ARABIC_SCRIPT = re.compile(r"[\u0620-\u06ff]+")
_DOUBLED_ARABIC = re.compile(r"([\u0620-\u06ff])\1+")  # Latin doubles are real: "marra", "3anna"
# Letters people put for one another: the same shape but for its dots, sounds that dialects
# merge; in Latin, letters that stand for the same Arabic one (vowels too: «و» is o or u, «ي» i
# or e, a fatha a or e), and "p" for «ب», as Arabic has no "p".
_CONFUSED = ("بتثني", "جحخ", "دذض", "رز", "سشصث", "طظت", "ذزظ", "عغ", "فق", "قكگ",
             "ckq", "sz", "h7", "bp", "ou", "ei", "ae")
_SIMILAR = frozenset((a, b) for group in _CONFUSED for a in group for b in group)
_LONG_VOWELS = "اوي"
_VOWELS = _LONG_VOWELS + "aeiouy"
_SHORT_VOWEL_WRITTEN_LONG = re.compile(f"[^{_LONG_VOWELS}][{_LONG_VOWELS}][^{_LONG_VOWELS}]")
# Kurdish «ە» (ه once normalised), a short vowel Kurdish writes and Arabic leaves out, typed into
# an Arabic name between two consonants («حلەب», «بەغداد»); not beside a long vowel or another
# «ه», where it is Arabic's own («دهور», ages; «شهور», months).
_KURDISH_VOWEL = "ه"
_KURDISH_VOWEL_WRITTEN = re.compile(f"[^{_LONG_VOWELS}{_KURDISH_VOWEL}]{_KURDISH_VOWEL}"
                                    f"[^{_LONG_VOWELS}{_KURDISH_VOWEL}]")
# Latin long vowels written with two letters, as English and French spellings do ("arbeel",
# "kirkouk"), and the "h" of a final taa marbuta ("raqqah"). Not "aa", which often writes «ع»
# ("maarra", «معرة»).
_LATIN_LONG_VOWELS = ((re.compile("ee|ii"), "i"), (re.compile("oo|ou|uu"), "u"))
_LATIN_FINAL_H = re.compile("(?<=[ae])h$")
# Kurmanji endings on a name, accents dropped, longest first: the oblique -ê, -yê after a vowel
# ("li Kerkûkê", in Kirkuk; "Zaxoyê"), and the -a, -ya that join it to a word after it.
_CASE_ENDINGS = ("ye", "ya", "e", "a")
_SHORTEST_STEM = 3  # "ye" is not a stem of nothing, nor "the" of "th"
# Sorani endings on a name, as normalised (ە ه, ێ and ی ي): the copula, -م (I am: «لە هەولێرم»),
# -ین (we are), -یت (you are), -ە (is), -ن (they are), after a vowel -یم and -یە («بەغدایە»);
# -دا, in («لە هەولێردا»), perhaps with the copula («لە هەولێرداین»); -ەوە, -وە after a vowel,
# from («لە هەولێرەوە»). Sorani «لە», in or from, may be joined to the name («لەکەرکووک»).
_COPULA_AFTER_A_VOWEL = ("م", "يم", "ين", "يت", "يه", "ن")
_IN = "دا"
_IN_AND_COPULA = (_IN, *(_IN + copula for copula in _COPULA_AFTER_A_VOWEL))
_AFTER_A_CONSONANT = ("م", "ين", "يت", "ه", "ن", "هوه", *_IN_AND_COPULA)
_AFTER_A_VOWEL = (*_COPULA_AFTER_A_VOWEL, "وه", *_IN_AND_COPULA)
_SORANI_ENDINGS = tuple(dict.fromkeys((*_AFTER_A_CONSONANT, *_AFTER_A_VOWEL)))
_SORANI_VOWELS = "اويه"
# How Arabic words end too: a Sorani ending is taken off them only after «لە» or another
# Sorani word that says where (``_after_sorani_place_word``). The plurals and the dual («سجون»,
# prisons: «سجو»; «قائمين», standing: «القائم»), «ية» («رمادية», grey: «الرمادي»), «هم», their
# («حديثهم», their talk: «حديثة»), and «ة» or «ه», his, which normalised are «ە» («دورة», a
# course: «الدور»). «ە» is also taken only off a stem of five letters or more, as Arabic puts
# «له» (to him, he has) before a noun with «ة» or «ه» («له دوره», he has his turn; «له قائمة»,
# he has a list).
_ARABIC_WORD_ENDS = ("ين", "ون", "ان", "يه", "هم", "ه")
_COPULA_E = "ه"
_SHORTEST_STEM_BEFORE_E = 5


def spellings(key: str) -> set[str]:
    """A normalised name's compact spellings, which name it as surely as its words do: joined,
    with and without its articles, doubled Arabic letters written once."""
    return {_DOUBLED_ARABIC.sub(r"\1", spelling) for spelling in ("".join(key.split()), _bare(key))}


def _bare(key: str) -> str:
    """The words without their articles, but for a short first word's («البلد» is not «بلد»)."""
    kept: list[str] = []
    article = ""
    for word in key.split():
        if word in ARTICLES:
            article = word
            continue
        if not article and word.startswith("ال"):
            article, word = "ال", word[2:]
        short = len(word) < 4 or word.isascii()  # Latin names are listed with their article
        kept.append(article + word if not kept and short else word)
        article = ""
    return "".join(kept)


def core(key: str) -> str:
    """What misspellings are measured on: the words joined without any article, doubled
    Arabic letters written once, Latin long vowels as one letter and without a final "h"."""
    joined = _DOUBLED_ARABIC.sub(r"\1", "".join(word.removeprefix("ال") for word in key.split()
                                                if word not in ARTICLES))
    return _as_sounded(joined) if joined.isascii() else joined


def _as_sounded(latin: str) -> str:
    for pattern, vowel in _LATIN_LONG_VOWELS:
        latin = pattern.sub(vowel, latin)
    return _LATIN_FINAL_H.sub("", latin)


def tolerance(spelling: str) -> int:
    """How far (``distance``) a word of this length may be from a name: not at all when short,
    where a letter turns a place into an everyday word («عانه», «اعانه»); see also
    ``_long_vowel_between``."""
    return 2 if len(spelling) >= 8 else 1 if len(spelling) >= 5 else 0


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment) weighed by how people misspell:
    a swap of two neighbouring consonants, a letter put for one it is confused with, a long
    vowel or a Kurdish «ە» between consonants added or left out count one; any other letter
    put, added or left out, two."""
    previous2: list[int] = []
    previous = [0]
    for j in range(len(b)):
        previous.append(previous[-1] + _indel(b, j))
    for i, char_a in enumerate(a, start=1):
        current = [previous[0] + _indel(a, i - 1)] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            substitution = 0 if char_a == char_b else 1 if (char_a, char_b) in _SIMILAR else 2
            current[j] = min(previous[j] + _indel(a, i - 1), current[j - 1] + _indel(b, j - 1),
                             previous[j - 1] + substitution)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + _swap(char_a, char_b))
        previous2, previous = previous, current
    return previous[-1]


def _swap(a: str, b: str) -> int:
    """What swapping two neighbouring letters counts: moving a vowel changes the word's
    pattern, often into another word («صوران», «صورنا»)."""
    return 2 if a in _VOWELS or b in _VOWELS else 1


def _indel(word: str, index: int) -> int:
    """What adding or leaving out ``word[index]`` counts: one for an Arabic long vowel, a
    Kurdish «ە» between consonants («حلهب») or a doubled Latin consonant ("mossul"); Latin
    vowels vary with each writer ("maarra", "marra") and count two, as any other letter does."""
    char = word[index]
    if char.isascii():
        return 1 if index > 0 and word[index - 1] == char and char not in _VOWELS else 2
    return 1 if char in _LONG_VOWELS or _kurdish_vowel_at(word, index) else 2


def _kurdish_vowel_at(word: str, index: int) -> bool:
    return 0 < index < len(word) - 1 and word[index] == _KURDISH_VOWEL \
        and _KURDISH_VOWEL_WRITTEN.fullmatch(word, index - 1, index + 2) is not None


def _long_vowel_between(a: str, b: str) -> bool:
    """Whether a four- and a five-letter Arabic word differ by a long vowel between two
    consonants («ادليب» and «ادلب», «سنجر» and «سنجار»), the way short names are most often
    misspelt. Not at either end («اعانه», aid, is not «عانه»), nor beside another vowel
    («قوايم», lists, is not «قايم»; «حوجه», need, is not «حويجه»)."""
    short, long = sorted((a, b), key=len)
    return len(short) == 4 and len(long) == 5 and not short.isascii() and any(
        long[:i] + long[i + 1:] == short
        and _SHORT_VOWEL_WRITTEN_LONG.fullmatch(long, i - 1, i + 2) is not None
        for i in range(1, 4))


def _kurdish_vowel_between(a: str, b: str) -> bool:
    """Whether two short Arabic words differ by a Kurdish «ە» between two consonants of the
    longer («حلهب» and «حلب»), a three-letter name's too: Arabic words are seldom a name with
    «ه» put between its consonants (those that are have it beside a long vowel: «دهور», ages,
    is «دور» and «ه»)."""
    short, long = sorted((a, b), key=len)
    return len(short) >= 3 and len(long) == len(short) + 1 and not short.isascii() and any(
        long[:i] + long[i + 1:] == short and _kurdish_vowel_at(long, i)
        for i in range(1, len(long) - 1))


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` with up to ``depth`` letters left out: two words within ``depth`` edits share
    one of these (the candidates a misspelling is checked against)."""
    found = layer = {word}
    for _ in range(depth):
        layer = {shorter[:i] + shorter[i + 1:] for shorter in layer for i in range(len(shorter))}
        found = found | layer
    return found


class PlaceNames:
    """Every governorate and district by all its names, for matching answers fast. Places are
    listed in the order given (governorates first), each once."""

    def __init__(self, places: Sequence[Location]) -> None:
        self._rank = {place.code: rank for rank, place in enumerate(places)}
        self._exact: dict[str, Location] = {}
        self._by_first_word: dict[str, list[tuple[tuple[str, ...], Location]]] = {}
        # names that are also everyday words, by their first word, as ``_by_first_word``
        self._everyday: dict[str, list[tuple[tuple[str, ...], Location]]] = {}
        self._names_of: dict[str, list[tuple[str, ...]]] = {}  # a place's code → its names' words
        self._by_spelling: dict[str, list[Location]] = {}
        self._by_core: dict[str, list[Location]] = {}
        self._word_counts: dict[str, int] = {}  # a core → the most words it was written in
        self._near: dict[str, set[str]] = {}  # a core less a letter or two → the cores
        self._longest = 1  # words in a name
        self._longest_core = 0
        for place in places:
            for key in place.match_keys():
                self._add(key, place)

    def _add(self, key: str, place: Location) -> None:
        self._exact.setdefault(key, place)
        self._names_of.setdefault(place.code, []).append(tuple(key.split()))
        first, *rest = key.split()
        if key in EVERYDAY_WORDS:
            self._everyday.setdefault(first, []).append((tuple(rest), place))
            return
        self._by_first_word.setdefault(first, []).append((tuple(rest), place))
        self._longest = max(self._longest, 1 + len(rest))
        for spelling in spellings(key):
            self._by_spelling.setdefault(spelling, []).append(place)
        name = core(key)
        self._by_core.setdefault(name, []).append(place)
        self._word_counts[name] = max(self._word_counts.get(name, 0), _word_count(key))
        self._longest_core = max(self._longest_core, len(name))
        for variant in _deletions(name, _reach(name)):
            self._near.setdefault(variant, set()).add(name)

    def exactly(self, key: str) -> Location | None:
        """The place whose name is the whole of ``key``."""
        return self._exact.get(key)

    def named_in(self, words: Sequence[str]) -> list[Location]:
        """The places named in ``words`` as whole words, the first perhaps prefixed; by a name
        that is also an everyday word, only after a place word or beside its governorate's."""
        found = []
        for start, word in enumerate(words):
            for first in _unprefixed(word):
                for rest, place in self._by_first_word.get(first, ()):
                    if tuple(words[start + 1:start + 1 + len(rest)]) == rest:
                        found.append(place)
            found += self._everyday_name_in(words, start)
        return self._in_order(found)

    def _everyday_name_in(self, words: Sequence[str], index: int) -> list[Location]:
        """The places named from ``words[index]`` on by a name that is also an everyday word:
        after a word that introduces a place («في عنه», and joined, «بالصدر», for the
        ``EVERYDAY_NOUNS``), or next to its governorate's name as written («عنه الانبار»;
        «حكيت عنه بالانبار», I spoke of him in Anbar, is Anbar alone)."""
        word = words[index]
        joined = word.startswith(JOINED_PREPOSITION) and word not in self._everyday
        first = word.removeprefix(JOINED_PREPOSITION) if joined else word
        found = []
        for rest, place in self._everyday.get(first, ()):
            end = index + 1 + len(rest)
            if tuple(words[index + 1:end]) != rest:
                continue
            noun = " ".join((first, *rest)) in EVERYDAY_NOUNS
            if joined:
                introduced = noun and _says_where(words, index)  # «بعنه» names no place
            else:
                introduced = _introduces(words, index - 1, noun)
            if introduced or any(tuple(words[end:end + len(name)]) == name
                                 or tuple(words[max(index - len(name), 0):index]) == name
                                 for name in self._names_of.get(place.parent or "", ())):
                found.append(place)
        return found

    def closely_named(self, key: str) -> list[Location]:
        """The places ``key`` as a whole names in a compact spelling, or else misspells."""
        first, _, rest = key.partition(" ")
        return self._closely_named([f"{word} {rest}" if rest else word
                                    for word in _unprefixed(first)], [key])

    def closely_named_in(self, words: Sequence[str]) -> list[Location]:
        """The places some run of ``words`` names in a compact spelling, or else misspells."""
        return self._closely_named(list(self._runs(words, _unprefixed)),
                                   list(self._runs(words, _as_written)))

    def named_without_kurdish_endings(self, words: Sequence[str]) -> list[Location]:
        """The places named, as written or else misspelt, once a Kurmanji case ending is taken
        off a Latin word ("li kerkuke": Kirkuk, "zaxoye": Zakho), or a Sorani ending, «لە»
        joined or both off an Arabic-script one («لە هەولێرم», «لەکەرکووک», «ئەنبارم»: Erbil,
        Kirkuk, Anbar); for words that name no place as they are written."""
        variants = [[*words[:index], stem, *words[index + 1:]]
                    for index, word in enumerate(words) for stem in _kurdish_stems(words, index)]
        named = [place for variant in variants for place in self.named_in(variant)]
        return self._in_order(named or [place for variant in variants
                                        for place in self.closely_named_in(variant)])

    def _closely_named(self, runs: list[str], written: list[str]) -> list[Location]:
        """The places one of ``runs`` names in a compact spelling, or else one of the
        ``written`` runs misspells, or else one of the others (after a prefix: «بادليب»); not
        with a word more («sar bil», "arbil"), which would bring too many everyday words near a
        place, nor by an everyday word («خالص», at all, is «الخالص» without its article)."""
        runs = [run for run in runs if not _everyday(run)]
        written = [run for run in written if not _everyday(run)]
        named = [place for run in runs for spelling in spellings(run)
                 for place in self._by_spelling.get(spelling, ())]
        misspelt = [place for run in written for place in self._misspelt_by(run)]
        prefixed = [run for run in runs if run not in written]
        return self._in_order(named or misspelt or [place for run in prefixed for place
                                                    in self._misspelt_by(run, prefixed=True)])

    def _runs(self, words: Sequence[str], firsts: Callable[[str], tuple[str, ...]]
              ) -> Iterator[str]:
        """Every run of as many words as a name has at most, its first as ``firsts`` has it."""
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + self._longest) + 1):
                for first in firsts(words[start]):
                    yield " ".join((first, *words[start + 1:end]))

    def _misspelt_by(self, run: str, prefixed: bool = False) -> Iterator[Location]:
        """The places ``run`` misspells; after a prefix, not by leaving a letter out, as «ب»
        and a verb without its vowels («بحدثه», I tell him) come near too many names."""
        words, spelling = _word_count(run), core(run)
        if len(spelling) > self._longest_core + 2:
            return
        names = {name for variant in _deletions(spelling, _reach(spelling))
                 for name in self._near.get(variant, ())}
        for name in names:
            if words <= self._word_counts[name] and _close(spelling, name) \
                    and not (prefixed and len(spelling) < len(name)):
                yield from self._by_core[name]

    def _in_order(self, places: Iterable[Location]) -> list[Location]:
        unique = {place.code: place for place in places}
        return sorted(unique.values(), key=lambda place: self._rank[place.code])


def _reach(spelling: str) -> int:
    """How many letters to leave out of a word to find the names it may misspell: one at
    least, as a four-letter word may lack or have a vowel more than a name."""
    return max(tolerance(spelling), 1)


def _close(spelling: str, name: str) -> bool:
    allowed = min(tolerance(spelling), tolerance(name))
    if allowed:
        return distance(spelling, name) <= allowed
    return _long_vowel_between(spelling, name) or _kurdish_vowel_between(spelling, name)


def _everyday(run: str) -> bool:
    """Whether ``run`` is an everyday word, perhaps with its Latin long vowel in two letters
    ("haleeb")."""
    return _as_sounded(run) in EVERYDAY_WORDS


def _introduces(words: Sequence[str], index: int, noun: bool) -> bool:
    """Whether ``words[index]`` introduces the everyday name after it as a place: any place
    word, but before one of the ``EVERYDAY_NOUNS`` a preposition only where it says where
    someone is, and so Sorani «لە» before any, as it is Arabic «له» too («حكيت له عنه», I told
    him about it)."""
    if index < 0 or words[index] not in PLACE_WORDS:
        return False
    if words[index] == SORANI_PREPOSITION or (noun and words[index] in PREPOSITIONS):
        return _says_where(words, index)
    return True


def _says_where(words: Sequence[str], preposition: int) -> bool:
    """Whether the preposition at ``words[preposition]`` says where someone is: it begins the
    answer («في الباب», «بالصدر») or follows a word of ``SELF_WORDS`` («انا من الباب»)."""
    return preposition == 0 or words[preposition - 1] in SELF_WORDS


def _kurdish_stems(words: Sequence[str], index: int) -> list[str]:
    """``words[index]`` without each Kurdish ending it may have: Kurmanji's on a Latin word,
    Sorani's on an Arabic-script one. What is left is matched as a word of the answer, so an
    everyday word left ("babe", "bab") names no place alone, and none is left of an Arabic-
    script word (an Arabic ending is likelier: «من عنهم», from them); a place word left would
    name one with the word after it ("mine hit", not "min hit"), and is not left."""
    word = words[index]
    if word.isascii():
        stems = _without_case_ending(word) if word.isalpha() else []
    elif _ARABIC_SCRIPT.fullmatch(word):
        stems = [stem for stem in _without_sorani_affixes(words, index) if not _everyday(stem)]
    else:
        stems = []
    return [stem for stem in stems if len(stem) >= _SHORTEST_STEM and stem not in PLACE_WORDS]


def _without_case_ending(word: str) -> list[str]:
    return [word.removesuffix(ending) for ending in _CASE_ENDINGS if word.endswith(ending)]


def _without_sorani_affixes(words: Sequence[str], index: int) -> list[str]:
    """``words[index]`` without a joined «لە», a Sorani ending or both; the ending of a word
    that ends as Arabic words do only after «لە», joined or a word that says where."""
    word = words[index]
    joined = word.removeprefix(SORANI_PREPOSITION) if word.startswith(SORANI_PREPOSITION) \
        else None
    introduced = joined is not None or _after_sorani_place_word(words, index)
    stems = [joined] if joined else []
    for start in filter(None, (word, joined)):
        stems += [start.removesuffix(ending) for ending in _SORANI_ENDINGS
                  if _sorani_ending_of(start, ending, introduced)]
    return stems


def _sorani_ending_of(word: str, ending: str, introduced: bool) -> bool:
    """Whether ``word`` may end in the Sorani ``ending``: it ends so, the ending may follow
    the letter before it, and where the word ends as Arabic words do (``_ARABIC_WORD_ENDS``),
    it is ``introduced``."""
    stem = word.removesuffix(ending)
    if stem == word or not stem:
        return False
    arabic = any(word.endswith(end) and end.endswith(ending) for end in _ARABIC_WORD_ENDS)
    if arabic and not introduced:
        return False
    if ending == _COPULA_E and len(stem) < _SHORTEST_STEM_BEFORE_E:
        return False
    return ending in (_AFTER_A_VOWEL if stem[-1] in _SORANI_VOWELS else _AFTER_A_CONSONANT)


def _after_sorani_place_word(words: Sequence[str], index: int) -> bool:
    """Whether ``words[index]`` follows «خەڵکی», «شاری», «پارێزگای», or «لە» where it says
    where someone is (``_says_where``: «لە دهۆکین», «ئێمە لە دهۆکین»)."""
    before = index - 1
    if before < 0 or words[before] not in SORANI_PLACE_WORDS:
        return False
    return words[before] != SORANI_PREPOSITION or _says_where(words, before)


def _word_count(key: str) -> int:
    return sum(word not in ARTICLES for word in key.split())


def _as_written(word: str) -> tuple[str, ...]:
    return (word,)


def _unprefixed(word: str) -> tuple[str, ...]:
    """The word, and the name it may be with a one-letter prefix: «بحارم» → «حارم», «بالموصل»
    → «الموصل» or «موصل», «بموصل» → «الموصل»; a short word keeps its article («بالبلد», at
    home, is not «بلد»), as in ``spellings``."""
    rest = word[1:]
    if word[:1] not in PLACE_PREFIXES or len(rest) < 2:
        return (word,)
    bare = rest.removeprefix("ال")
    return tuple(dict.fromkeys((word, rest, "ال" + rest, bare if len(bare) >= 4 else rest)))
