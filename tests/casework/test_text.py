from __future__ import annotations

import pytest

from casework.text import as_written, clean_text, has_words, normalize_for_matching


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        pytest.param("أحمد", "احمد", id="alef-hamza-above"),
        pytest.param("إدلب", "ادلب", id="alef-hamza-below"),
        pytest.param("آمنة", "امنه", id="alef-madda-and-taa-marbuta"),
        pytest.param("مستشفى", "مستشفي", id="alef-maqsura"),
        pytest.param("مُسَاعَدَة", "مساعده", id="diacritics"),
        pytest.param("مساعـــدة", "مساعده", id="tatweel"),
        pytest.param("كتيييير", "كتير", id="elongated-letters"),
        pytest.param("سؤال", "سوال", id="hamza-on-waw"),
        pytest.param("مسائل", "مسايل", id="hamza-on-yaa"),
        pytest.param("١٢٣٤٥٦٧", "1234567", id="arabic-indic-digits"),
        pytest.param("۱۲۳۴۵۶۷", "1234567", id="eastern-digits"),
        pytest.param("1112223", "1112223", id="repeated-digits-kept"),
        pytest.param("Hello,  WORLD!!", "hello world", id="latin-case-punctuation"),
        pytest.param("وين السلة؟؟", "وين السله", id="arabic-question-mark"),
        # Kurdish letters read as the Arabic ones typed for them; ی and ک as ي and ك, ئ as ي
        pytest.param("سڵاو، هاوکاریم پێنەگەیشتووە", "سلاو هاوكاريم پينهگهيشتووه",
                     id="kurdish-letters"),
        pytest.param("ڕۆژی ڤێ هەیڤێ", "روژي في ههيفي", id="kurdish-reh-oe-veh"),
        pytest.param("سکالا", "سكالا", id="kurdish-typed-on-an-arabic-keyboard"),
        pytest.param("بە\u200cڕێوەبەر", "بهريوهبهر", id="kurdish-zero-width-non-joiner"),
        pytest.param("می\u200cخواهم", "ميخواهم", id="persian-zero-width-non-joiner"),
        pytest.param("سکاڵاکەم ١٢٣٤٥٦٧", "سكالاكهم 1234567", id="kurdish-with-arabic-digits"),
        # Latin accents dropped, as typed without them: Kurmanji, Turkish, French
        pytest.param("Kerkûk", "kerkuk", id="latin-circumflex-u"),
        pytest.param("Hewlêr", "hewler", id="latin-circumflex-e"),
        pytest.param("Silêmanî", "silemani", id="latin-circumflex-i"),
        pytest.param("Şengal", "sengal", id="latin-s-cedilla"),
        pytest.param("Çiya", "ciya", id="latin-c-cedilla"),
        pytest.param("Qamişlo", "qamislo", id="latin-small-s-cedilla"),
        pytest.param("dağ", "dag", id="latin-g-breve"),
        pytest.param("Iğdır", "igdir", id="latin-dotless-i"),
        pytest.param("İstanbul", "istanbul", id="latin-dotted-capital-i"),
        pytest.param("ẍwarin ḧeval", "xwarin heval", id="latin-x-and-h-diaeresis"),
        pytest.param("Ke\u0301rku\u0302k", "kerkuk", id="latin-combining-accents"),
        pytest.param("x\u030cwe", "xwe", id="latin-accent-without-a-precomposed-letter"),
        pytest.param("Łódź déjà", "lodz deja", id="latin-stroke-and-acute"),
        pytest.param("kerkûûûk", "kerkuk", id="latin-accented-letter-repeated"),
        pytest.param("Kerkûk كركوك", "kerkuk كركوك", id="latin-and-arabic"),
        # Accents of other scripts stay: Cyrillic й is not и, Arabic madda is handled above
        pytest.param("йод", "йод", id="cyrillic-breve-kept"),
        pytest.param("آمنة", "امنه", id="arabic-unchanged-beside-latin-rule"),
    ],
)
def test_normalize_for_matching(variant: str, canonical: str) -> None:
    assert normalize_for_matching(variant) == canonical


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        pytest.param("  نص  ", "نص", id="trim"),
        pytest.param("a\x00b\x07c", "abc", id="control-chars"),
        pytest.param("line1\nline2", "line1\nline2", id="newline-kept"),
        pytest.param("x\udcffy", "x?y", id="lone-surrogate"),
        pytest.param("\u202eabc", "abc", id="bidi-override"),
        pytest.param(None, "", id="none"),
    ],
)
def test_clean_text(raw: str | None, cleaned: str) -> None:
    assert clean_text(raw) == cleaned


@pytest.mark.parametrize(
    ("text", "expected"),
    [("🙏🙏", False), ("...", False), ("", False), ("1", True), ("لا", True)],
    ids=["emoji", "punctuation", "empty", "digit", "arabic"],
)
def test_has_words(text: str, expected: bool) -> None:
    assert has_words(text) is expected


@pytest.mark.parametrize(("text", "keys", "written"), [
    pytest.param("مقابل السلة، فوراً", ["السله"], ["السلة"], id="taa-marbuta-and-comma"),
    pytest.param("طلب مني مالاً", ["مالا"], ["مالاً"], id="diacritic-kept"),
    pytest.param("«المسؤول» قال لا", ["المسوول"], ["المسؤول"], id="quotes-around"),
    pytest.param("بدو ٥٠٠ دولار", ["500"], ["٥٠٠"], id="arabic-indic-number"),
    pytest.param("ما في شي", ["غير"], ["غير"], id="key-not-in-text"),
    pytest.param("alîkarî negihîşt", ["negihist"], ["negihîşt"], id="latin-accents-kept"),
])
def test_as_written(text: str, keys: list[str], written: list[str]) -> None:
    assert as_written(text, keys) == written
