"""Pick the language (Arabic, English or Central Kurdish) to answer a beneficiary's message in.

Sawti answers in Arabic, English or Sorani Kurdish ("ckb"), and Arabic is the default. The
rules:

1. Normalise: only the first 2000 characters are read; control characters become
   spaces, other invisible ones (format marks such as the zero-width non-joiner, lone
   surrogates) are dropped, references in capitals with digits ("AB7K", "SY-2024-7A") are
   ignored; the text is stripped and lower-cased. Non-``str`` input gives ``None``.
2. Arabic script: when Arabic letters (not Arabic-Indic digits nor ، ؟) are at
   least 30% of all letters, the text is Arabic, unless it reads as Kurdish (rule 6).
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
4. A message with some Arabic letters and no English verdict is Arabic, unless it reads as
   Kurdish (rule 6).
5. Anything else (empty, digits, emoji, punctuation, other languages) is
   ``None``: no clear signal, so ``choose_language`` keeps the previous reply
   language, or falls back to Arabic.
6. Kurdish in the Kurdish Arabic-based alphabet (Sorani, and Badini as written in Duhok) is
   "ckb". Each Arabic-script word says one thing, the first that applies:
   - nothing: a Kurdish place name written the Kurdish way («دهۆک», «هەولێر»: Arabic
     speakers write them so too) or an Arabic greeting or blessing Kurds use too
     («السلام عليكم», «الله»);
   - Kurdish: a letter only Kurdish has (ێ ڵ ڕ ۆ);
   - Arabic, Persian or Urdu: a mark Kurdish spelling never has (ة ى أ إ آ ؤ, tanween,
     Urdu's ے ں ٹ ڈ ڑ ہ), the article «ال», or a common Arabic or Persian word («في», «هذا»,
     «انا», «شنو», «است», «ممنون», ...), with «و ب ل ف» in front or not;
   - Kurdish: ە (Arabic typed on a Kurdish keyboard uses it for ة, but then has other Arabic
     words), a first letter ئ (Kurdish writes a word's first vowel so; Arabic and Persian
     never do), a common Sorani or Badini word that is neither Arabic nor Persian, as people
     also type it on an Arabic keyboard and with a Kurdish ending («سوپاس», «سلاو»,
     «هاوکاریم», «مانگە», «کوا», «سلاڤ», «ژ», ...), or a verb in «ـووە»;
   - a hint, counting half: ڤ (Arabic writes «ڤيزا» too) and short words Arabic or Persian
     share («له», «که», «به», «نه», «بو»);
   - nothing: every other word. ی ک گ چ پ ژ inside a word say nothing (Persian, Urdu and
     Iraqi Arabic — «گاع», «چا», «شلونچ» — have them), nor do «من» and «و» (Arabic words
     too).
   The text is Kurdish when at least one word is Kurdish and the Kurdish words (hints
   counting half) outnumber the Arabic, Persian and Urdu ones: Persian and Urdu stay Arabic,
   as before. Kurmanji in Latin letters ("silav, min alîkarî negirt") is not recognised: it
   gives no clear signal (rule 5).

Whether Sawti answers in every language it recognises is the caller's choice
(``choose_language``'s ``languages``; ``SAWTI_REPLY_LANGUAGES``): a language turned off is
answered in Arabic.

Message text is never logged.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection
from enum import Enum
from functools import lru_cache

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

SUPPORTED = ("ar", "en", "ckb")
DEFAULT = "ar"
KURDISH = "ckb"

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


# --- Kurdish in the Kurdish Arabic-based alphabet (rule 6) ----------------------------------

# Letters of the Kurdish alphabet that no Arabic, Persian or Urdu word has.
_KURDISH_LETTERS = frozenset("ێڵڕۆ")
_KURDISH_AE = "ە"  # Kurdish's vowel e; Arabic written on a Kurdish keyboard uses it for ة too
_VEH = "ڤ"  # Kurdish v; also in Arabic loans («ڤيزا», «ڤيديو»)
_HAMZA_YEH = "ئ"  # Kurdish writes a word's first vowel on it («ئەم», «ئاو»)
_TATWEEL = "\u0640"
# Arabic-script letters and the marks written on them; not digits, punctuation nor tatweel.
_ARABIC_WORD = re.compile("[\u0620-\u063f\u0641-\u065f\u066e-\u06d3\u06d5-\u06ef"
                          "\u06fa-\u06fc\u06ff\u0750-\u077f\u08a0-\u08ff]+")
# What Kurdish spelling never has: Arabic's ة ى أ إ آ ؤ and tanween, Urdu's letters.
_NOT_KURDISH_MARKS = frozenset("ةىأإآؤ\u064b\u064c\u064dےںٹڈڑہۃۓ")
_ARTICLE = ("ال", "وال", "بال", "فال", "كال", "لل")
_ARABIC_CLITICS = ("و", "ب", "ل", "ف")
# Kurdish letters as typed on an Arabic keyboard, and Arabic's ي ك ى as Persian's ی ک: the
# word lists below are kept in this plain spelling.
_PLAIN = str.maketrans({"ە": "ه", "ێ": "ی", "ۆ": "و", "ڵ": "ل", "ڕ": "ر", "ي": "ی", "ك": "ک",
                        "ى": "ی", "ھ": "ه"})
# Kurdish endings (my, our, the, the ... plural, Badini's «ـا»), longest first, taken off a
# word before it is looked up in the Kurdish words.
_KURDISH_SUFFIXES = ("هکانمان", "هکانم", "هکان", "هکهمان", "هکهم", "هکه", "کانم", "کان",
                     "مان", "تان", "یان", "م", "ت", "ی", "ه", "ا")
_KURDISH_STEM = 3  # letters a word keeps after its ending is taken off
_KURDISH_PERFECT = "ووه"  # «نەهاتووە», «وەرنەگرتووە» as typed on an Arabic keyboard


def _plain(word: str) -> str:
    return word.translate(_PLAIN)


def _plain_set(words: str) -> frozenset[str]:
    return frozenset(_plain(word) for word in words.split())


# Common Arabic (MSA, Syrian, Iraqi) and Persian words: each counts against Kurdish.
_ARABIC_OR_PERSIAN_WORDS = _plain_set(
    """
    في على عن الى الي هذا هذه هاي هاذا هذي ذلك التي الذي اللي لم لن لا ما انا اني احنا نحن
    انت انتم انتو هو هي هم عندي عندنا عدنا ليش شنو شلون اكو ماكو وين شو بدي بدنا اريد نريد
    كيف متى لماذا ليس لكن بس كل شي شيء حتى مع قبل بعد يعني والله مو مش هاد هيك هلق كتير كثير
    جدا صار وصل وصلت وصلني وصلتني وصلنا استلم استلمت استلمنا مساعده مساعدات شكرا مرحبا اهلا
    تمام ممكن اخي اخوي كان كانت اليوم شهر لحد لسه لسا ابدا هسه هواي هوايه جزيلا مشكور
    مشكورين ساعدونا توزيع سله
    است هست هستم هستیم نیست نیستم این برای را شما خیلی ممنون مرسی چطور کجا دریافت نکرده
    نکردم نشده کمک بله خوب اینجا چرا ولی باید ماه سپاس بود شد شده دارم ندارم میخواهم میخوام
    خواهش لطفا می نمی شود میشود نمیشود میدهید نمیدهید گفتم
    """
)
# Common Sorani and Badini words that are neither Arabic nor Persian, in the plain spelling
# (so also as typed on an Arabic keyboard: «سلاو» for «سڵاو»).
_KURDISH_WORDS = _plain_set(
    """
    سلاو سوپاس مانگ هاوکاری یارمهتی خواردن کهمپ نییه ههیه نهخیر بهلی تکایه کوا بوچی نازانم
    دهمهوی دهمهویت دهمانهوی دهمانهویت مندال خیزان ژن پیاو دایک باوک دابهشکردن وهلام سکالا
    ناوم ناوی نهخوش دهرمان خانوو چهند کهی
    سلاڤ هاریکاری ههیڤ نینه چاوا دڤیت دڤیم خوارن زاروک نهساخ کهنگی هاتیه نههاتیه ههوه ژ
    """
)
# Short words Kurdish shares with Arabic or Persian («له»: in / to him; «که»: that): a hint.
_KURDISH_HINTS = _plain_set("له که به نه بو دا کا مه ل ب")
# Words that say nothing: Kurdish place names as Kurds write them (Arabic speakers in the
# Kurdistan Region write them so too) and the Arabic greetings and blessings Kurds also use.
_NO_LANGUAGE_WORDS = _plain_set(
    """
    هەولێر دهۆک سلێمانی زاخۆ کەرکووک هەڵەبجە ئاکرێ ڕانیە سۆران کۆیە شێخان ئامێدی سیمێل
    دارەشەکران قوشتەپە کەورگۆسک دۆمیز بەحرکە باسرمە خانکێ شاریا بێرسڤێ چەمچەماڵ هەرشەم
    بەردەڕەش
    السلام سلام عليكم وعليكم الله الحمدلله الحمد لله انشاءالله انشالله ان شاء ماشاءالله
    بسم الرحمن الرحيم ورحمه وبركاته
    """
)


class _Reads(Enum):
    """What one word says about a text being Kurdish."""

    KURDISH = "kurdish"
    HINT = "hint"  # counts half
    OTHER = "other"  # Arabic, Persian or Urdu
    NOTHING = "nothing"


def _is_kurdish(text: str) -> bool:
    """Whether Arabic-script text reads as Kurdish (rule 6 of the module's docstring)."""
    said = Counter(_what_the_word_says(word) for word in _arabic_script_words(text))
    kurdish = said[_Reads.KURDISH]
    return kurdish >= 1 and 2 * kurdish + said[_Reads.HINT] > 2 * said[_Reads.OTHER]


@lru_cache(maxsize=8192)  # most words of most messages are the same few thousand
def _what_the_word_says(word: str) -> _Reads:
    plain = _plain("".join(ch for ch in word if not unicodedata.combining(ch)))
    if plain in _NO_LANGUAGE_WORDS:
        return _Reads.NOTHING
    if any(ch in _KURDISH_LETTERS for ch in word):
        return _Reads.KURDISH
    if _is_arabic_or_persian(word, plain):
        return _Reads.OTHER
    if _KURDISH_AE in word or (plain.startswith(_HAMZA_YEH) and len(plain) > 1) \
            or _is_kurdish_word(plain):
        return _Reads.KURDISH
    if _VEH in word or plain in _KURDISH_HINTS:
        return _Reads.HINT
    return _Reads.NOTHING


def _is_arabic_or_persian(word: str, plain: str) -> bool:
    if any(ch in _NOT_KURDISH_MARKS for ch in word):
        return True
    if any(plain.startswith(article) and len(plain) > len(article) + 1 for article in _ARTICLE):
        return True
    return plain in _ARABIC_OR_PERSIAN_WORDS or any(
        plain.startswith(clitic) and plain[len(clitic):] in _ARABIC_OR_PERSIAN_WORDS
        for clitic in _ARABIC_CLITICS)


def _is_kurdish_word(plain: str) -> bool:
    if plain in _KURDISH_WORDS:
        return True
    if len(plain) >= 5 and plain.endswith(_KURDISH_PERFECT):
        return True
    return any(plain.endswith(suffix) and len(plain) - len(suffix) >= _KURDISH_STEM
               and plain[:-len(suffix)] in _KURDISH_WORDS for suffix in _KURDISH_SUFFIXES)


def _arabic_script_words(text: str) -> list[str]:
    """The words written in Arabic letters (presentation forms as the letters they show),
    with their diacritics; digits and punctuation separate words."""
    return _ARABIC_WORD.findall(unicodedata.normalize("NFKC", text).replace(_TATWEEL, ""))


def detect_language(text: str) -> str | None:
    """The language the text is clearly written in ('ar', 'en' or 'ckb'), or None when
    there is no clear signal."""
    if not isinstance(text, str):
        return None
    text = _normalise(text)
    letters = [ch for ch in text if ch.isalpha()]
    arabic = sum(_is_arabic(ch) for ch in letters)
    if arabic and arabic >= ARABIC_SHARE * len(letters):
        return _arabic_or_kurdish(text)
    language = _latin_language(text)
    if language is None and arabic:
        return _arabic_or_kurdish(text)
    return language


def choose_language(text: str, previous: str | None = None,
                    languages: Collection[str] = SUPPORTED) -> str:
    """Reply language: detect_language(text) if it gives one, else previous if it is
    supported; a language not among ``languages`` (those replies are on for), and no
    language at all, give 'ar'."""
    return reply_in(detect_language(text) or previous, languages)


def reply_in(language: str | None, languages: Collection[str] = SUPPORTED) -> str:
    """``language`` when it is supported and replies in it are on, else Arabic."""
    return language if language in SUPPORTED and language in languages else DEFAULT


def _arabic_or_kurdish(text: str) -> str:
    return KURDISH if _is_kurdish(text) else "ar"


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
