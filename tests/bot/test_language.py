"""Which language Sawti answers a beneficiary in (bot/language.py)."""

import pytest

from bot.language import SUPPORTED, choose_language, detect_language

AR, EN, CKB = "ar", "en", "ckb"

MESSAGES = [
    # Syrian dialect, Arabic script
    pytest.param("ما وصلتني السلة هالشهر", AR, id="syrian-basket-not-arrived"),
    pytest.param("وين المساعدات", AR, id="syrian-where-is-aid"),
    pytest.param("ليش ما اجتني الحصة", AR, id="syrian-why-no-share"),
    pytest.param("مافي اكل من شهرين", AR, id="syrian-no-food-two-months"),
    pytest.param("بدي اعرف ايمت التوزيع الجاي", AR, id="syrian-next-distribution"),
    pytest.param("الله يخليكن ساعدونا", AR, id="syrian-please-help-us"),
    pytest.param("شو صار بطلبي؟", AR, id="syrian-what-happened-request"),
    pytest.param("مرحبا", AR, id="syrian-hello"),
    # Iraqi dialect, Arabic script
    pytest.param("شلونكم اريد اسأل عن التوزيع", AR, id="iraqi-ask-about-distribution"),
    pytest.param("اني ما استلمت السله الغذائيه", AR, id="iraqi-no-basket-misspelt"),
    pytest.param("اكو توزيع باچر؟", AR, id="iraqi-distribution-tomorrow"),
    pytest.param("شكو ماكو", AR, id="iraqi-whats-up"),
    pytest.param("هواية تأخرتو علينا", AR, id="iraqi-you-are-very-late"),
    # Modern Standard Arabic
    pytest.param("السلام عليكم ورحمة الله وبركاته", AR, id="msa-greeting"),
    pytest.param("لم أستلم المساعدة الغذائية لهذا الشهر", AR, id="msa-no-food-aid"),
    pytest.param("أرجو تحديث رقم هاتفي", AR, id="msa-update-phone"),
    pytest.param("شُكْرًا جَزِيلًا", AR, id="msa-with-diacritics"),
    pytest.param("ممكن تساعدوني", AR, id="msa-can-you-help"),
    pytest.param("ﻣﺮﺣﺒﺎ", AR, id="arabic-presentation-forms"),
    pytest.param("رقم الحالة 1234567", AR, id="arabic-with-latin-digits"),
    pytest.param("شكرا 🙏", AR, id="arabic-with-emoji"),
    # Arabizi: Arabic in Latin letters and digits
    pytest.param("salam 3alaykum ma wsletni el sale", AR, id="arabizi-basket-not-arrived"),
    pytest.param("shlonak, aku tawzi3?", AR, id="arabizi-iraqi-distribution"),
    pytest.param("mafi akel", AR, id="arabizi-no-food"),
    pytest.param("ana ma 2ader", AR, id="arabizi-i-cannot"),
    pytest.param("3ndi mushkila", AR, id="arabizi-i-have-a-problem"),
    pytest.param("wallah ma wsel shi", AR, id="arabizi-nothing-arrived"),
    pytest.param("shu sar bel tawzi3", AR, id="arabizi-what-about-distribution"),
    pytest.param("ween el mosa3adat", AR, id="arabizi-where-is-aid"),
    pytest.param("baddi es2al 3an el sale", AR, id="arabizi-i-want-to-ask"),
    pytest.param("shaku maku", AR, id="arabizi-iraqi-whats-up"),
    pytest.param("ani ma stalamit", AR, id="arabizi-iraqi-not-received"),
    pytest.param("ana mish fahem", AR, id="arabizi-i-dont-understand"),
    pytest.param("Salam, ana Ahmad", AR, id="arabizi-greeting-with-name"),
    pytest.param("inshallah", AR, id="arabizi-inshallah"),
    pytest.param("shukran", AR, id="arabizi-thanks"),
    pytest.param("marhaba", AR, id="arabizi-hello"),
    pytest.param("hala 7ajji", AR, id="arabizi-iraqi-hello-hajji"),
    pytest.param("la ma wslt", AR, id="arabizi-no-not-arrived"),
    pytest.param("ANA MA 2ADER", AR, id="arabizi-all-capitals"),
    # English
    pytest.param("I did not receive my food basket this month", EN, id="english-no-basket"),
    pytest.param("hello", EN, id="english-hello"),
    pytest.param("Hi", EN, id="english-hi"),
    pytest.param("thank you", EN, id="english-thank-you"),
    pytest.param("Thank you so much for your help", EN, id="english-thanks-for-help"),
    pytest.param("status 1234567", EN, id="english-status-number"),
    pytest.param("yes", EN, id="english-yes"),
    pytest.param("no", EN, id="english-no"),
    pytest.param("help", EN, id="english-help"),
    pytest.param("where is my food basket", EN, id="english-where-basket"),
    pytest.param("hello how are you doing today", EN, id="english-langdetect-unsure"),
    pytest.param("My mother is diabetic and needs insulin urgently", EN, id="english-medical"),
    pytest.param("i didnt recieve the food baskit", EN, id="english-misspelt"),
    pytest.param("Please call me back at 3pm", EN, id="english-time-not-arabizi"),
    pytest.param("I have been waiting 24h for an answer", EN, id="english-hours-not-arabizi"),
    pytest.param("this is my 2nd complaint", EN, id="english-ordinal-not-arabizi"),
    pytest.param("we got 10kg of rice only", EN, id="english-weight-not-arabizi"),
    pytest.param("see you 2day", EN, id="english-textspeak"),
    pytest.param("My reference is AB7K", EN, id="english-reference-code"),
    pytest.param("Is there distribution tomorrow in Mosul camp?", EN, id="english-place-name"),
    pytest.param("ok thanks", EN, id="english-ok-thanks"),
    # Mixed Arabic and English
    pytest.param("hello مرحبا", AR, id="mixed-hello-marhaba"),
    pytest.param("مرحبا I need help", AR, id="mixed-arabic-then-english"),
    pytest.param("can you help me please الله يخليك", AR, id="mixed-english-then-arabic"),
    pytest.param("ما وصلني الـ voucher", AR, id="mixed-arabic-with-english-word"),
    pytest.param(
        "My name is محمد and I did not receive the basket", EN, id="mixed-english-arabic-name"
    ),
    # No clear signal: falls back to Arabic
    pytest.param("1234567", AR, id="latin-digits-only"),
    pytest.param("١٢٣٤٥٦٧", AR, id="arabic-indic-digits-only"),
    pytest.param("۱۲۳۴", AR, id="persian-digits-only"),
    pytest.param("🙏🙏", AR, id="emoji-only"),
    pytest.param("؟؟؟", AR, id="arabic-punctuation-only"),
    pytest.param("...!!", AR, id="latin-punctuation-only"),
    pytest.param("", AR, id="empty"),
    pytest.param("   \n\t ", AR, id="whitespace-only"),
    pytest.param("ok", AR, id="ok-is-neutral"),
    pytest.param("hi akhi", AR, id="english-arabizi-tie"),
    # Sorani Kurdish in the Kurdish alphabet
    pytest.param("سڵاو، من هاوکاریم پێنەگەیشتووە بۆ ئەم مانگە", CKB, id="sorani-aid-not-arrived"),
    pytest.param("سڵاو", CKB, id="sorani-hello"),
    pytest.param("سوپاس", CKB, id="sorani-thanks-no-kurdish-letter"),
    pytest.param("زۆر سوپاس", CKB, id="sorani-thanks-a-lot"),
    pytest.param("بەڵێ", CKB, id="sorani-yes"),
    pytest.param("نەخێر", CKB, id="sorani-no"),
    pytest.param("سەبەتەی خواردنم وەرنەگرتووە", CKB, id="sorani-food-basket"),
    pytest.param("کەی دابەشکردنی داهاتوو دەبێت؟", CKB, id="sorani-next-distribution"),
    pytest.param("ئێمە لە کەمپی دارەشەکرانین", CKB, id="sorani-camp-name"),
    pytest.param("تکایە یارمەتیمان بدەن", CKB, id="sorani-please-help"),
    pytest.param("منداڵەکەم نەخۆشە و پێویستی بە دەرمانە", CKB, id="sorani-sick-child"),
    pytest.param("دۆخی سکاڵاکەم چییە؟ 1234567", CKB, id="sorani-status-with-number"),
    pytest.param("ژمارەی سکاڵاکەم ١٢٣٤٥٦٧", CKB, id="sorani-arabic-indic-digits"),
    pytest.param("ناوم لە لیستەکەدا نییە", CKB, id="sorani-not-on-list"),
    pytest.param("کارتەکەم کار ناکات", CKB, id="sorani-card-not-working"),
    pytest.param("بۆچی وەڵامم نادەنەوە؟", CKB, id="sorani-why-no-answer"),
    pytest.param("من لە هەولێرم", CKB, id="sorani-i-am-in-erbil"),
    pytest.param("من لە هەولێر", CKB, id="sorani-from-erbil-short"),
    pytest.param("السلام عليكم، من هاوکاریم پێنەگەیشتووە", CKB, id="sorani-after-arabic-greeting"),
    # Sorani typed on an Arabic keyboard: ه for ە, ي for ێ, و for ۆ, ل for ڵ
    pytest.param("سلاو من هاوكاريم پي نه گه يشتووه بو ئه م مانگه", CKB,
                 id="sorani-arabic-keyboard"),
    pytest.param("سوپاس زور", CKB, id="sorani-arabic-keyboard-thanks"),
    pytest.param("تكايه يارمه تيمان بده ن", CKB, id="sorani-arabic-keyboard-please"),
    # Badini (Kurmanji as written in Duhok) in the Kurdish alphabet
    pytest.param("سلاڤ، من هاریکاریا خۆ وەرنەگرتیە ڤێ هەیڤێ", CKB, id="badini-aid-not-arrived"),
    pytest.param("ئەز ل کەمپا دومیز دژیم", CKB, id="badini-i-live-in-domiz"),
    pytest.param("سوپاس بۆ هەوە", CKB, id="badini-thank-you"),
    pytest.param("کا هاریکاریا مە؟", CKB, id="badini-where-is-our-aid"),
    pytest.param("زاروکێ من نەساخە", CKB, id="badini-sick-child"),
    pytest.param("مە خوارن نینە", CKB, id="badini-no-food"),
    pytest.param("سلاڤ من هاريكاري وه رنه گرتيه", CKB, id="badini-arabic-keyboard"),
    # Iraqi Arabic with گ چ پ, and Arabic around Kurdish names: Arabic
    pytest.param("گاع ماكو توزيع", AR, id="iraqi-gaf-gaa"),
    pytest.param("چا شنو صار بالسلة؟", AR, id="iraqi-tcheh-cha"),
    pytest.param("شلونچ", AR, id="iraqi-shlonich"),
    pytest.param("چان اكو توزيع بس هسة ماكو", AR, id="iraqi-there-was-distribution"),
    pytest.param("الپنچر مال السيارة", AR, id="iraqi-peh-loanword"),
    pytest.param("گلبي انطونا سلة", AR, id="iraqi-my-dear-give-us-a-basket"),
    pytest.param("ابني چان مريض", AR, id="iraqi-my-son-was-sick"),
    pytest.param("اني من دهوك وما استلمت السلة", AR, id="iraqi-from-duhok"),
    pytest.param("انا من دهۆک", AR, id="arabic-kurdish-spelling-of-duhok"),
    pytest.param("انا ساكن بهەولێر وما وصلتني المساعدات", AR,
                 id="arabic-kurdish-spelling-of-erbil"),
    pytest.param("اسمي هەژار ولم استلم السلة", AR, id="arabic-with-a-kurdish-name"),
    pytest.param("عندي ڤيزا", AR, id="arabic-veh-loanword"),
    pytest.param("ما وصلتنی السلە هذا الشهر", AR, id="arabic-typed-on-kurdish-keyboard"),
    pytest.param("شكرا كاكە", AR, id="arabic-thanks-kaka-tie"),
    pytest.param("قلت له", AR, id="arabic-lahu-not-kurdish-le"),
    pytest.param("بو علي", AR, id="arabic-abu-ali"),
    # Persian and Urdu: not Kurdish, Arabic script as before
    pytest.param("سلام، من کمک دریافت نکرده ام", AR, id="persian-no-help-received"),
    pytest.param("ممنون از کمک شما", AR, id="persian-thanks"),
    pytest.param("چرا جواب نمی\u200cدهید؟", AR, id="persian-zwnj"),
    pytest.param("کی توزیع می شود؟", AR, id="persian-when-distribution"),
    pytest.param("نه، من که گفتم", AR, id="persian-only-shared-short-words"),
    pytest.param("خیلی ممنون", AR, id="persian-thanks-a-lot"),
    pytest.param("میں نے کھانا نہیں لیا", AR, id="urdu-sentence"),
    pytest.param("آپ کا بہت شکریہ", AR, id="urdu-thanks"),
    # Mixed Kurdish
    pytest.param("سوپاس، شكرا جزيلا", AR, id="mixed-kurdish-then-more-arabic"),
    pytest.param("hello سڵاو", CKB, id="mixed-english-kurdish"),
    pytest.param("سڵاو I need help", CKB, id="mixed-kurdish-then-english"),
    pytest.param("My name is هەژار and I did not receive the basket", EN,
                 id="mixed-english-kurdish-name"),
    # Kurmanji in Latin letters is out of scope: no clear signal
    pytest.param("silav, min alîkarî negirt", AR, id="kurmanji-latin-not-recognised"),
    # Other languages: not supported, Arabic fallback
    pytest.param("Je n'ai pas reçu mon panier alimentaire ce mois-ci", AR, id="french-sentence"),
    pytest.param("Bu ay gıda sepetimi almadım", AR, id="turkish-sentence"),
    pytest.param("Merhaba, yardım istiyorum", AR, id="turkish-short"),
    pytest.param("Hallo, ich brauche Hilfe", AR, id="german-short"),
    pytest.param("Привет", AR, id="cyrillic"),
]


@pytest.mark.parametrize(("text", "expected"), MESSAGES)
def test_reply_language(text: str, expected: str) -> None:
    assert choose_language(text) == expected


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        pytest.param("1234567", EN, EN, id="digits-keep-english"),
        pytest.param("1234567", AR, AR, id="digits-keep-arabic"),
        pytest.param("🙏", EN, EN, id="emoji-keep-english"),
        pytest.param("ok", EN, EN, id="ok-keep-english"),
        pytest.param("ok", AR, AR, id="ok-keep-arabic"),
        pytest.param("وين المساعدات", EN, AR, id="arabic-switches-from-english"),
        pytest.param("3ndi mushkila", EN, AR, id="arabizi-switches-from-english"),
        pytest.param("I need help", AR, EN, id="english-switches-from-arabic"),
        pytest.param("Bonjour, j'ai besoin d'aide", EN, EN, id="french-keeps-english"),
        pytest.param("Bu ay gıda sepetimi almadım", EN, EN, id="turkish-keeps-english"),
        pytest.param("1234567", "fr", AR, id="unsupported-previous"),
        pytest.param("1234567", "", AR, id="empty-previous"),
        pytest.param("1234567", None, AR, id="no-previous"),
        pytest.param("1234567", CKB, CKB, id="digits-keep-kurdish"),
        pytest.param("ok", CKB, CKB, id="ok-keep-kurdish"),
        pytest.param("silav", CKB, CKB, id="latin-kurmanji-keeps-kurdish"),
        pytest.param("سڵاو", EN, CKB, id="kurdish-switches-from-english"),
        pytest.param("سڵاو", AR, CKB, id="kurdish-switches-from-arabic"),
        pytest.param("وين المساعدات", CKB, AR, id="arabic-switches-from-kurdish"),
        pytest.param("I need help", CKB, EN, id="english-switches-from-kurdish"),
    ],
)
def test_previous_language(text: str, previous: str | None, expected: str) -> None:
    assert choose_language(text, previous) == expected


@pytest.mark.parametrize(
    ("text", "previous", "languages", "expected"),
    [
        pytest.param("سڵاو", None, (AR, EN), AR, id="kurdish-off-answered-in-arabic"),
        pytest.param("1234567", CKB, (AR, EN), AR, id="kurdish-off-previous-kurdish"),
        pytest.param("hello", CKB, (AR, EN), EN, id="kurdish-off-english-on"),
        pytest.param("hello", None, (AR, CKB), AR, id="english-off-answered-in-arabic"),
        pytest.param("سڵاو", None, (AR, CKB), CKB, id="english-off-kurdish-on"),
    ],
)
def test_languages_turned_off(text: str, previous: str | None, languages: tuple[str, ...],
                              expected: str) -> None:
    assert choose_language(text, previous, languages) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("I did not receive my food basket " * 2000, id="very-long-english"),
        pytest.param("ما وصلتني السلة " * 5000, id="very-long-arabic"),
        pytest.param("3" * 100_000, id="very-long-digits"),
        pytest.param("a" * 100_000, id="very-long-word"),
        pytest.param("\x00\x07hello\x1b[31m\x7f", id="control-characters"),
        pytest.param("\udcff\ud800 salam", id="lone-surrogates"),
        pytest.param("\u200f\u200e\ufeff\u200d", id="invisible-marks-only"),
        pytest.param("a1 b2 c3 d4 e5 f6 g7 h8 i9", id="letter-digit-pairs"),
        pytest.param("'''' --- ''", id="apostrophes-and-dashes"),
        pytest.param("\U0001f468\u200d\U0001f469\u200d\U0001f467", id="emoji-sequence"),
        pytest.param("xyzzy plugh", id="nonsense-latin"),
        pytest.param("bqwxz fgh klm", id="nonsense-long-enough-for-langdetect"),
        pytest.param("سڵاو " * 10_000, id="very-long-kurdish"),
        pytest.param("ئ ە ێ ڤ ٹ", id="single-letters"),
        pytest.param("\u0640\u064b\u0670", id="tatweel-and-marks-only"),
        pytest.param("ﻣﺮﺣﺒﺎ ڵ", id="presentation-forms-and-kurdish"),
    ],
)
def test_detect_language_never_raises(text: str) -> None:
    assert detect_language(text) in (*SUPPORTED, None)
    assert choose_language(text) in SUPPORTED


def test_non_string_is_no_signal() -> None:
    assert detect_language(None) is None  # type: ignore[arg-type]
    assert choose_language(b"salam", EN) == EN  # type: ignore[arg-type]
