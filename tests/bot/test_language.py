"""Which language Sawti answers a beneficiary in (bot/language.py)."""

import pytest

from bot.language import SUPPORTED, choose_language, detect_language

AR, EN = "ar", "en"

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
    ],
)
def test_previous_language(text: str, previous: str | None, expected: str) -> None:
    assert choose_language(text, previous) == expected


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
    ],
)
def test_detect_language_never_raises(text: str) -> None:
    assert detect_language(text) in (*SUPPORTED, None)
    assert choose_language(text) in SUPPORTED


def test_non_string_is_no_signal() -> None:
    assert detect_language(None) is None  # type: ignore[arg-type]
    assert choose_language(b"salam", EN) == EN  # type: ignore[arg-type]
