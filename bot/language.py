"""Pick the language (Arabic or English) to answer a beneficiary's message in.

Sawti answers in Arabic or English only, and Arabic is the default. The rules:

1. Normalise: only the first 2000 characters are read; control characters become
   spaces, other invisible ones (format marks, lone surrogates) are dropped,
   references in capitals with digits ("AB7K", "SY-2024-7A") are ignored; the
   text is stripped and lower-cased. Non-``str`` input gives ``None``.
2. Arabic script: when Arabic letters (not Arabic-Indic digits nor ، ؟) are at
   least 30% of all letters, the text is Arabic.
3. The Latin words are then read (pure numbers and number+unit tokens such as
   "24h", "3pm", "10kg", "2nd" are not words; "ok" and place or agency names are
   neutral and ignored):
   - Arabizi, Arabic typed in Latin letters, is Arabic: any word that mixes
     letters with the digits used for Arabic sounds ("3ndi", "sa7", "2ana"), or
     common Arabizi words ("salam", "shlonak", "mafi", ...) making at least a
     third of the words and outnumbering known English words.
   - Longer text (3+ words, 12+ letters) that ``langdetect`` finds English with
     probability >= 0.80 is English.
   - Otherwise the text is English when most of its words are common English
     words; any other language gives ``None``.
4. A message with some Arabic letters and no English verdict is Arabic.
5. Anything else (empty, digits, emoji, punctuation, other languages) is
   ``None``: no clear signal, so ``choose_language`` keeps the previous reply
   language, or falls back to Arabic.

Message text is never logged.
"""

from __future__ import annotations

import re
import unicodedata

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

SUPPORTED = ("ar", "en")
DEFAULT = "ar"

MAX_CHARS = 2000
ARABIC_SHARE = 0.30
ENGLISH_PROBABILITY = 0.80
LONG_MIN_WORDS = 3
LONG_MIN_LETTERS = 12

DetectorFactory.seed = 0  # langdetect is random unless seeded

_ARABIC_RANGES = (
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
)

_LATIN = "a-z0-9\u00c0-\u024f"
_TOKEN = re.compile(rf"[{_LATIN}]+(?:'[{_LATIN}]*)*")
_NUMBER = re.compile(
    r"[0-9]+(?:st|nd|rd|th|am|pm|h|hr|hrs|min|mins|m|s|sec|secs|d|y|yr|yrs|x|k|kg|g|gr"
    r"|km|cm|mm|l|ml|lb|lbs|mb|gb|usd|iqd|syp|tl)?"
)
_ARABIZI_DIGITS = frozenset("2356789")
_ALNUM_RUN = re.compile(r"[A-Za-z0-9-]+")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that carry no language signal.
_NEUTRAL = _word_set(
    """
    ok okay k kk sms whatsapp telegram viber id unhcr wfp unicef iom ngo un covid
    syria iraq aleppo damascus homs hama idlib latakia raqqa deir ezzor baghdad
    mosul basra erbil duhok kirkuk anbar najaf sulaymaniyah min mins h2o mp3 mp4 3g 4g 5g
    """
)

_ARABIZI_WORDS = _word_set(
    """
    salam salaam slam salamu salamo assalamu asalamu alaykum alaikum aleikum alekum
    marhaba marhabtein shukran shokran shukrun shokrn ana ani enta inta enti
    inti ento intu e7na ehna ahna mafi mafy mafish mafeesh fi fee fih ma mish msh
    mesh mu wallah walla wallahi inshallah inshalla insha yalla yallah habibi habibti
    shu shou sho shoo lesh leish laish leh kif keef kifak kifik keefak kifkon shlonak
    shlonich shlonkum shlon shlonik aku maku shaku hay hayda hayde hadi hada hadol
    bas kteer ktir kter kthir ahlan ahla akh akhi akhou ukhti okhti mnih mniha mneeh
    mni7 tamam la laa aywa eywa eh ee lissa lesa lessa baddi biddi bidi badi bade
    akel akl mai moya wein wen wayn ween weyn wain shi shay ya3ni yani ala
    3ala mn mani ezayak izzayak kwayes kwayyes heik hek hayk lyom lyoum elyom
    halla hallaq hassa hessa hesa halla2 agdar nigdar hwaya hwaye kulish zein zain
    shgad shkad minu mnu shako ghada baish ammi ammo khalto khalti sallah
    el w wala walaw 3anjad ya rab rabbi alhamdulillah hamdillah hamdulillah
    mashallah allah hala halla yislamo yislamu yeslamo teslam tislam tislamo
    """
)

_ENGLISH_WORDS = _word_set(
    """
    i i'm im me my mine you your you're u we our us he his him she her they their them
    it it's its is am are was were be been being do does did didn't didnt don't dont
    doesn't doesnt not no yes yeah yep nope hello hi hey dear thanks thank thx please pls
    plz sorry help need needs needed want wanted have has had haven't havent get got
    getting receive received recieved receiving give given gave send sent take took
    food basket baskets water money cash aid assistance support case status number
    the a an and or but to for of in on at by with from about into this that these
    those month months week weeks day days today yesterday tomorrow yet still when
    where what why how who which whom can can't cant could couldn't will won't would
    should must any some all there here family children child kids son daughter
    mother father wife husband baby sick ill medicine medical doctor hospital rent
    house home tent camp name phone card voucher distribution registered register
    registration complaint complain problem issue again nothing anyone someone
    anything something good morning evening night afternoon information info
    delivery delivered answer reply waiting wait long time more much many very so too
    just only also now urgent new address change update know tell call called contact
    english arabic speak understand bye goodbye fine well done check last next since
    before after never payment paid pay office staff list one two three four five
    six seven eight nine ten as if then than because people person center centre
    school work job electricity winter kit blanket blankets clothes shelter
    question answer agent please where's what's there's nobody one's let go went
    come came see told said say ask asked same other another back out up down off
    stop cancel start menu gr8 l8r l8er w8 m8 2day 2nite 2moro 2morrow me2 b4 4u
    """
)


def detect_language(text: str) -> str | None:
    """The language the text is clearly written in ('ar' or 'en'), or None when there is
    no clear signal."""
    if not isinstance(text, str):
        return None
    text = _normalise(text)
    letters = [ch for ch in text if ch.isalpha()]
    arabic = sum(_is_arabic(ch) for ch in letters)
    if arabic and arabic >= ARABIC_SHARE * len(letters):
        return "ar"
    language = _latin_language(text)
    if language is None and arabic:
        return "ar"
    return language


def choose_language(text: str, previous: str | None = None) -> str:
    """Reply language: detect_language(text) if it gives one, else previous if it is
    supported, else 'ar'."""
    detected = detect_language(text)
    if detected is not None:
        return detected
    return previous if previous in SUPPORTED else DEFAULT


def _normalise(text: str) -> str:
    text = text[:MAX_CHARS].replace("\u2019", "'").replace("\u2018", "'")
    text = _ALNUM_RUN.sub(_mask_code, text)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc":
            kept.append(" ")
        elif not category.startswith("C"):
            kept.append(ch)
    return "".join(kept).strip().lower()


def _mask_code(match: re.Match[str]) -> str:
    """Blank out references like "AB7K" or "SY-2024-7A": capitals with digits, not Arabizi."""
    token = match.group()
    is_code = token.isupper() and any(ch.isdigit() for ch in token)
    return " " if is_code else token


def _is_arabic(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _ARABIC_RANGES)


def _latin_words(text: str) -> list[str]:
    tokens = (token.strip("'") for token in _TOKEN.findall(text))
    return [t for t in tokens if t and not _NUMBER.fullmatch(t) and t not in _NEUTRAL]


def _latin_language(text: str) -> str | None:
    words = _latin_words(text)
    if not words:
        return None
    if any(_is_arabizi_digit_word(word) for word in words):
        return "ar"
    arabizi = sum(word in _ARABIZI_WORDS for word in words)
    english = sum(word in _ENGLISH_WORDS for word in words)
    if arabizi > english and 3 * arabizi >= len(words):
        return "ar"
    if _is_long(words) and _langdetect_says_english(" ".join(words)):
        return "en"
    return "en" if 2 * english > len(words) else None


def _is_arabizi_digit_word(word: str) -> bool:
    """A word like "3ndi", "sa7" or "2ana": letters with Arabizi digits, not a number or
    English shorthand."""
    digits = [ch for ch in word if ch.isdigit()]
    letters = sum(ch.isalpha() for ch in word)
    return (
        bool(digits)
        and all(d in _ARABIZI_DIGITS for d in digits)
        and letters >= 2
        and letters > len(digits)
        and not re.search(r"[0-9]{2}", word)
        and word not in _ENGLISH_WORDS
        and not _is_english_with_digits(word)
    )


def _is_english_with_digits(word: str) -> bool:
    """Like "2day" or "room7": an English word of 3+ letters with digits around it."""
    core = word.strip("0123456789'")
    return len(core) >= 3 and core in _ENGLISH_WORDS


def _is_long(words: list[str]) -> bool:
    letters = sum(ch.isalpha() for word in words for ch in word)
    return len(words) >= LONG_MIN_WORDS and letters >= LONG_MIN_LETTERS


def _langdetect_says_english(text: str) -> bool:
    try:
        guesses = detect_langs(text)
    except LangDetectException:
        return False
    return any(g.lang == "en" and g.prob >= ENGLISH_PROBABILITY for g in guesses)
