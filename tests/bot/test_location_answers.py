"""How an answer to the location question is matched to a governorate or district."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.engine import match_location
from casework.text import normalize_for_matching
from config.data import Location, OrgData, load_org_data

ROOT = Path(__file__).resolve().parents[2]
ORG = load_org_data(ROOT / "config")
DATA = ROOT / "tests" / "data"


@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("1", "SY-ID", id="number-in-the-list"),
    pytest.param("١", "SY-ID", id="arabic-indic-number"),
    pytest.param("99", None, id="number-past-the-list"),
    pytest.param("رقم 2", "SY-HL", id="raqm-and-a-number"),
    pytest.param("الرقم ٣", "IQ-NI", id="al-raqm-arabic-indic"),
    pytest.param("number 1", "SY-ID", id="english-number"),
    pytest.param("رقم 99", None, id="raqm-past-the-list"),
    pytest.param("الموصل", "IQ-NI-01", id="district-name"),
    pytest.param("حلب", "SY-HL", id="governorate-name"),
    pytest.param("انا من الباب", "SY-HL-04", id="in-a-sentence"),
    pytest.param("أنا ساكن في عين العرب", "SY-HL-07", id="two-word-name-in-a-sentence"),
    pytest.param("نحنا نازحين بحارم هلق", "SY-ID-02", id="prefixed-ba"),
    pytest.param("ساكنين بالموصل", "IQ-NI-01", id="prefixed-ba-with-article"),
    pytest.param("بحلب", "SY-HL", id="one-prefixed-word"),
    pytest.param("we are in Dibis camp", "IQ-KI-04", id="english-sentence"),
    pytest.param("من حلب ساكن بإدلب", None, id="two-places-ambiguous"),
    pytest.param("الباب حلب", "SY-HL-04", id="district-with-its-governorate"),
    pytest.param("انا من مدينة حلب", "SY-HL-01", id="district-named-with-its-governorate"),
    pytest.param("ادلب حارم", "SY-ID-02", id="district-with-the-governorate-and-its-centre"),
    pytest.param("من الموصل ساكن بحلب", None, id="district-with-another-governorate"),
    pytest.param("لم أستلم السلة الغذائية في حلب هذا الشهر ابدا", None,
                 id="long-message-is-not-an-answer"),
    pytest.param("ما بعرف", None, id="no-place"),
    pytest.param("نعم", None, id="yes-is-not-a-place"),
])
def test_a_place_is_found_in_the_answer(answer: str, code: str | None) -> None:
    place = match_location(ORG, normalize_for_matching(answer))
    assert (place.code if place else None) == code


# Where most displaced people in north-west Syria live, named by their town or camp rather than
# their district (OCHA admin2: Atmeh, Sarmada, Dana and Kafr Lusin are in Harim).
@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("مخيمات أطمة", "SY-ID-02", id="atmeh-camps"),
    pytest.param("انا بسرمدا", "SY-ID-02", id="in-sarmada"),
    pytest.param("الدانا", "SY-ID-02", id="dana"),
    pytest.param("ساكنين بمخيم كفرلوسين", "SY-ID-02", id="kafr-lusin-camp"),
    pytest.param("سلقين", "SY-ID-02", id="salqin"),
    pytest.param("من سرمين", "SY-ID-01", id="sarmin-in-idlib-district"),
    pytest.param("جنديرس", "SY-HL-02", id="jandairis-in-afrin"),
    pytest.param("مارع", "SY-HL-03", id="marea-in-azaz"),
    pytest.param("الراعي", "SY-HL-04", id="al-rai-in-al-bab"),
    pytest.param("atmeh camp", "SY-ID-02", id="atmeh-in-latin"),
])
def test_towns_and_camps_name_their_district(answer: str, code: str) -> None:
    place = match_location(ORG, normalize_for_matching(answer))
    assert (place.code if place else None) == code


# Kurdish names in Latin letters, with or without their accents: by an English or Arabizi alias
# once the accents are dropped («Kerkûk» is kerkuk), else by a Kurdish alias.
@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("Kerkûk", "IQ-KI", id="kerkuk"),
    pytest.param("KERKÛK", "IQ-KI", id="kerkuk-in-capitals"),
    pytest.param("Hewlêr", "IQ-AR", id="hewler"),
    pytest.param("ez ji Hewlêr im", "IQ-AR", id="hewler-in-a-kurmanji-sentence"),
    pytest.param("Kobanê", "SY-HL-07", id="kobane"),
    pytest.param("Kobanî", "SY-HL-07", id="kobani"),
    pytest.param("Dûhok", "IQ-DA", id="duhok-long-u"),
    pytest.param("Zaxo", "IQ-DA-03", id="zakho"),
    pytest.param("Amêdî", "IQ-DA-04", id="amedi"),
    pytest.param("Akrê", "IQ-NI-08", id="akre"),
    pytest.param("Efrîn", "SY-HL-02", id="afrin"),
    pytest.param("Mûsil", "IQ-NI-01", id="mosul"),
    pytest.param("Şengal", "IQ-NI-03", id="sinjar-sengal"),
    pytest.param("Şingal", "IQ-NI-03", id="sinjar-singal-misspelling-of-sengal"),
    pytest.param("Şêxan", "IQ-NI-07", id="shikhan"),
    pytest.param("Xaneqîn", "IQ-DI-03", id="khanaqin"),
    pytest.param("Mexmûr", "IQ-AR-05", id="makhmur"),
    pytest.param("Şeqlawe", "IQ-AR-03", id="shaqlawa"),
    pytest.param("Tûzxurmatû", "IQ-SD-05", id="tooz-joined"),
    pytest.param("Bexda", "IQ-BG", id="baghdad"),
    pytest.param("Minbic", "SY-HL-06", id="manbij"),
    pytest.param("Ezaz", "SY-HL-03", id="azaz"),
    pytest.param("no signal", None, id="signal-is-not-singal"),
])
def test_a_kurdish_latin_name_is_found(answer: str, code: str | None) -> None:
    place = match_location(ORG, normalize_for_matching(answer))
    assert (place.code if place else None) == code


# Sorani names (locations.yaml's name_ckb, the names the location question shows a Sorani
# reader), as written, typed on an Arabic keyboard, and in a short Sorani answer.
@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("حەلەب", "SY-HL", id="aleppo"),
    pytest.param("نەینەوا", "IQ-NI", id="nineveh"),
    pytest.param("ئەنبار", "IQ-AN", id="anbar"),
    pytest.param("سەڵاحەدین", "IQ-SD", id="salah-al-din"),
    pytest.param("کەرکووک", "IQ-KI", id="kirkuk"),
    pytest.param("دیالە", "IQ-DI", id="diyala"),
    pytest.param("دهۆک", "IQ-DA", id="duhok"),
    pytest.param("هەولێر", "IQ-AR", id="erbil"),
    pytest.param("بەغدا", "IQ-BG", id="baghdad"),
    pytest.param("نهينهوا", "IQ-NI", id="nineveh-on-an-arabic-keyboard"),
    pytest.param("سەلاحەدین", "IQ-SD", id="salah-al-din-plain-l"),
    pytest.param("من لە بەغدا دەژیم", "IQ-BG", id="baghdad-in-a-sorani-sentence"),
    pytest.param("لە ئەنبار", "IQ-AN", id="in-anbar"),
    # An Arabic name with a Kurdish «ە» typed between two of its consonants
    pytest.param("حلەب", "SY-HL", id="aleppo-arabic-with-one-kurdish-e"),
    pytest.param("حەلب", "SY-HL", id="aleppo-sorani-without-one-kurdish-e"),
    pytest.param("بەغداد", "IQ-BG", id="baghdad-arabic-with-a-kurdish-e"),
    pytest.param("تەکریت", "IQ-SD-01", id="tikrit-with-a-kurdish-e"),
    pytest.param("سەنجار", "IQ-NI-03", id="sinjar-with-a-kurdish-e"),
])
def test_a_sorani_name_is_found(answer: str, code: str) -> None:
    place = match_location(ORG, normalize_for_matching(answer))
    assert (place.code if place else None) == code


# Sorani joins the copula to the name (-م I am, -ین we are, -یت you are, -ە is, -ن they are;
# -یم, -یە after a vowel), and «لە» (in, from) may be joined to it too; «-دا» (in) and «-ەوە»
# (from) close «لە». Taken off when the answer as written names no place; an ending Arabic
# words have too (the plural «ين», «ية», «ة» and «ه», «هم») only after «لە» or «خەڵکی».
@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("لە هەولێرم", "IQ-AR", id="le-erbil-i-am"),
    pytest.param("له ههوليرم", "IQ-AR", id="le-erbil-i-am-arabic-keyboard"),
    pytest.param("لە دهۆکین", "IQ-DA", id="le-duhok-we-are"),
    pytest.param("ئێمە لە دهۆکین", "IQ-DA", id="we-le-duhok-we-are"),
    pytest.param("لە ئەنبارین", "IQ-AN", id="le-anbar-we-are"),
    pytest.param("خەڵکی کەرکووکم", "IQ-KI", id="from-kirkuk-i-am"),
    pytest.param("من خەڵکی کەرکووکم", "IQ-KI", id="i-from-kirkuk-i-am"),
    pytest.param("ئەنبارم", "IQ-AN", id="anbar-i-am-alone"),
    pytest.param("زاخۆم", "IQ-DA-03", id="zakho-i-am-after-a-vowel"),
    pytest.param("لە حەلەبم", "SY-HL", id="le-aleppo-i-am"),
    pytest.param("لە بەغدام", "IQ-BG", id="le-baghdad-i-am-after-a-vowel"),
    pytest.param("لە بەغدایە", "IQ-BG", id="le-baghdad-it-is-after-a-vowel"),
    pytest.param("لە دیالەین", "IQ-DI", id="le-diyala-we-are-after-a-vowel"),
    pytest.param("لە دیالەم", "IQ-DI", id="le-diyala-i-am"),
    pytest.param("لە کەرکووکە", "IQ-KI", id="le-kirkuk-it-is"),
    pytest.param("لە هەولێردا", "IQ-AR", id="le-erbil-da"),
    pytest.param("لە هەولێرداین", "IQ-AR", id="le-erbil-da-we-are"),
    pytest.param("لە هەولێرەوە", "IQ-AR", id="from-erbil-ewe"),
    pytest.param("لەکەرکووک", "IQ-KI", id="le-joined"),
    pytest.param("لەکەرکووکین", "IQ-KI", id="le-joined-and-we-are"),
    pytest.param("لەهەولێرم", "IQ-AR", id="le-joined-before-he-and-i-am"),
    pytest.param("لە شاری کەرکووک", "IQ-KI", id="le-city-of-kirkuk"),
    pytest.param("پارێزگای دیالە", "IQ-DI", id="governorate-of-diyala"),
    pytest.param("لە نەینەوا دەژیم", "IQ-NI", id="le-nineveh-i-live"),
    pytest.param("لەم", None, id="sorani-in-this"),
    pytest.param("لەبەر", None, id="sorani-because-of"),
    pytest.param("خۆم", None, id="sorani-myself"),
    pytest.param("ئێمە", None, id="sorani-we"),
    pytest.param("بەڵێ", None, id="sorani-yes"),
    pytest.param("نازانم", None, id="sorani-i-do-not-know"),
    pytest.param("منین", None, id="sorani-it-is-us"),
    pytest.param("هەموو", None, id="sorani-all"),
    pytest.param("لە کەمپین", None, id="sorani-we-are-in-the-camp"),
    pytest.param("لە سلێمانیم", None, id="sorani-a-place-not-listed"),
    pytest.param("سجون", None, id="arabic-prisons-is-not-sijo-with-n"),
    pytest.param("حديثهم", None, id="arabic-their-talk-is-not-haditha-with-m"),
    pytest.param("قائمين", None, id="arabic-standing-is-not-al-qaim-with-in"),
    pytest.param("رمادية", None, id="arabic-grey-is-not-ramadi-with-ye"),
    pytest.param("الدورة", None, id="arabic-the-course-is-not-al-dour-with-e"),
    pytest.param("له دوره", None, id="arabic-he-has-his-turn-is-not-al-dour"),
    pytest.param("له قائمة", None, id="arabic-he-has-a-list-is-not-al-qaim"),
    pytest.param("من عنهم", None, id="arabic-from-them-is-not-anah"),
])
def test_a_sorani_ending_is_taken_off_a_name(answer: str, code: str | None) -> None:
    place = match_location(ORG, normalize_for_matching(answer))
    assert (place.code if place else None) == code


@pytest.mark.parametrize("governorate", ORG.governorates, ids=lambda place: place.code)
def test_a_governorate_is_found_by_the_name_it_is_listed_by(governorate: Location) -> None:
    for language in ("ar", "en", "ckb"):
        place = match_location(ORG, normalize_for_matching(governorate.name(language)))
        assert place is governorate, language


# The default places and, as an organisation in the north-east would list them, Raqqa, Deir
# ez-Zor (two-word names, one with the article inside) and Hasakah.
NORTH_EAST = OrgData(ORG.grid, ORG.categories, (
    *ORG.governorates,
    Location("SY-RA", "الرقة", "Raqqa", ("الرقه", "raqqa", "raqa", "rakka")),
    Location("SY-DY", "دير الزور", "Deir ez-Zor", ("deir ez-zor", "deir ezzor", "deir al zor")),
    Location("SY-HA", "الحسكة", "Al-Hasakah", ("الحسكه", "hasakah", "al hasakah")),
))


# Kurmanji adds a case ending to a name: -ê, or -yê after a vowel ("li Kerkûkê", in Kirkuk),
# and -a, -ya before a word it is joined to. Taken off a Latin word that names no place as
# written, when what is left names one, or misspells one alone; never off an English word.
@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("Kerkûkê", "IQ-KI", id="kerkuke"),
    pytest.param("li Kerkûkê", "IQ-KI", id="li-kerkuke"),
    pytest.param("ez ji Hewlêrê me", "IQ-AR", id="ez-ji-hewlere-me"),
    pytest.param("Duhokê", "IQ-DA", id="duhoke"),
    pytest.param("Bexdayê", "IQ-BG", id="bexdaye-ye-after-a-vowel"),
    pytest.param("li Zaxoyê", "IQ-DA-03", id="li-zaxoye"),
    pytest.param("Mûsilê", "IQ-NI-01", id="musile"),
    pytest.param("Efrînê", "SY-HL-02", id="efrine"),
    pytest.param("Şengalê", "IQ-NI-03", id="sengale"),
    pytest.param("Hewlêra me", "IQ-AR", id="hewlera-a-ending"),
    pytest.param("Raqqayê", "SY-RA", id="raqqaye-name-ending-in-a"),
    pytest.param("Kerkokê", "IQ-KI", id="misspelt-kerkoke"),
    pytest.param("Dihokê", "IQ-DA", id="misspelt-dihoke"),
    pytest.param("the", None, id="english-the"),
    pytest.param("home", None, id="english-home"),
    pytest.param("here", None, id="english-here"),
    pytest.param("house", None, id="english-house"),
    pytest.param("please", None, id="english-please"),
    pytest.param("where", None, id="english-where"),
    pytest.param("safe", None, id="english-safe"),
    pytest.param("we are safe here", None, id="english-sentence-of-e-words"),
    pytest.param("ye", None, id="too-short-to-have-an-ending"),
    pytest.param("babe", None, id="everyday-word-left-names-no-place-alone"),
    pytest.param("a mine hit the car", None, id="english-mine-is-not-min-before-heet"),
    pytest.param("li malê", None, id="kurmanji-at-home-is-no-place"),
])
def test_a_kurmanji_case_ending_is_taken_off_a_name(answer: str, code: str | None) -> None:
    place = match_location(NORTH_EAST, normalize_for_matching(answer))
    assert (place.code if place else None) == code


@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("ادلبب", "SY-ID", id="doubled-letter"),
    pytest.param("حلبب", "SY-HL", id="doubled-letter-in-a-three-letter-name"),
    pytest.param("كركووك", "IQ-KI", id="doubled-vowel"),
    pytest.param("الموصلل", "IQ-NI-01", id="doubled-letter-after-the-article"),
    pytest.param("ادليب", "SY-ID", id="vowel-inside-a-four-letter-name"),
    pytest.param("إدليب", "SY-ID", id="vowel-inside-with-hamza"),
    pytest.param("منبيج", "SY-HL-06", id="vowel-inside-manbij"),
    pytest.param("ادليبب", "SY-ID", id="vowel-inside-and-doubled-letter"),
    pytest.param("انا من ادلبب", "SY-ID", id="misspelt-in-a-sentence"),
    pytest.param("بحلبب", "SY-HL", id="prefixed-and-doubled"),
    pytest.param("بادليب", "SY-ID", id="prefixed-ba-vowel-inside"),
    pytest.param("لادليب", "SY-ID", id="prefixed-la-vowel-inside"),
    pytest.param("وادليب", "SY-ID", id="prefixed-wa-vowel-inside"),
    pytest.param("فادليب", "SY-ID", id="prefixed-fa-vowel-inside"),
    pytest.param("نحنا بادليب هلق", "SY-ID", id="prefixed-and-misspelt-in-a-sentence"),
    pytest.param("في ادليب", "SY-ID", id="fi-before-a-misspelling"),
    pytest.param("ب ادليب", "SY-ID", id="ba-apart-before-a-misspelling"),
    pytest.param("بالفالوجه", "IQ-AN-02", id="prefixed-article-and-vowel-added"),
    pytest.param("ساكنين بجرابلوس", "SY-HL-05", id="prefixed-vowel-added-long-name"),
    pytest.param("ديرالزور", "SY-DY", id="two-words-joined"),
    pytest.param("دير زور", "SY-DY", id="article-left-out"),
    pytest.param("دير الزوور", "SY-DY", id="two-words-doubled-letter"),
    pytest.param("دير الزوز", "SY-DY", id="confused-ra-and-zay"),
    pytest.param("ساكنين بدير الزور", "SY-DY", id="two-words-prefixed-in-a-sentence"),
    pytest.param("الرقه", "SY-RA", id="taa-marbuta-as-haa"),
    pytest.param("الرقة", "SY-RA", id="taa-marbuta"),
    pytest.param("انا من الرقة", "SY-RA", id="raqqa-in-a-sentence"),
    pytest.param("جسرالشغور", "SY-ID-03", id="jisr-joined"),
    pytest.param("عين عرب", "SY-HL-07", id="ain-al-arab-without-article"),
    pytest.param("عين العررب", "SY-HL-07", id="ain-al-arab-doubled"),
    pytest.param("سنجر", "IQ-NI-03", id="vowel-left-out-of-a-five-letter-name"),
    pytest.param("تكرت", "IQ-SD-01", id="tikrit-vowel-left-out"),
    pytest.param("عفرن", "SY-HL-02", id="afrin-vowel-left-out"),
    pytest.param("شقلوة", "IQ-AR-03", id="shaqlawa-vowel-left-out"),
    pytest.param("من الحمدنيه", "IQ-NI-04", id="hamdaniya-vowel-left-out-in-a-sentence"),
    pytest.param("ابو غرب", "IQ-BG-06", id="two-word-name-vowel-left-out"),
    pytest.param("جرابلوس", "SY-HL-05", id="jarablus-vowel-added"),
    pytest.param("الفالوجه", "IQ-AN-02", id="falluja-vowel-added"),
    pytest.param("باعقوبه", "IQ-DI-01", id="baquba-vowel-added"),
    pytest.param("تكريتت", "IQ-SD-01", id="tikrit-doubled"),
    pytest.param("خانقبن", "IQ-DI-03", id="dots-misplaced-ya-as-ba"),
    pytest.param("المقدادبة", "IQ-DI-02", id="dots-misplaced-long-name"),
    pytest.param("صلاح الدبن", "IQ-SD", id="dots-misplaced-two-words"),
    pytest.param("تلفعر", "IQ-NI-02", id="two-consonants-swapped"),
    pytest.param("كوينسجق", "IQ-AR-04", id="two-consonants-swapped-long-name"),
    pytest.param("idlib", "SY-ID", id="latin-idlib"),
    pytest.param("Idleb", "SY-ID", id="latin-idleb-capital"),
    pytest.param("aleppo", "SY-HL", id="latin-aleppo"),
    pytest.param("halab", "SY-HL", id="latin-halab"),
    pytest.param("alepo", "SY-HL", id="latin-doubled-letter-left-out"),
    pytest.param("mossul", "IQ-NI-01", id="latin-doubled-letter-added"),
    pytest.param("we are in fallujja", "IQ-AN-02", id="latin-doubled-in-a-sentence"),
    pytest.param("kirkok", "IQ-KI", id="latin-o-for-u"),
    pytest.param("kerkok", "IQ-KI", id="latin-o-for-u-near-an-alias"),
    pytest.param("kirkouk", "IQ-KI", id="latin-ou-for-u"),
    pytest.param("mosoul", "IQ-NI-01", id="latin-mosoul"),
    pytest.param("musul", "IQ-NI-01", id="latin-u-for-o"),
    pytest.param("dohok", "IQ-DA", id="latin-dohok"),
    pytest.param("duhuk", "IQ-DA", id="latin-duhuk"),
    pytest.param("arbeel", "IQ-AR", id="latin-ee-for-i"),
    pytest.param("irbeel", "IQ-AR", id="latin-irbeel"),
    pytest.param("tikreet", "IQ-SD-01", id="latin-tikreet"),
    pytest.param("senjar", "IQ-NI-03", id="latin-e-for-i"),
    pytest.param("menbej", "SY-HL-06", id="latin-menbej"),
    pytest.param("samera", "IQ-SD-02", id="latin-e-for-a"),
    pytest.param("makhmor", "IQ-AR-05", id="latin-makhmor"),
    pytest.param("idlep", "SY-ID", id="latin-p-for-b"),
    pytest.param("raqqah", "SY-RA", id="latin-final-h"),
    pytest.param("hasaka", "SY-HA", id="latin-final-h-left-out"),
    pytest.param("hasakeh", "SY-HA", id="latin-final-eh"),
    pytest.param("deir ezzour", "SY-DY", id="latin-two-words-ou"),
    pytest.param("ana men sinjar", "IQ-NI-03", id="latin-in-an-arabizi-sentence"),
])
def test_a_misspelt_place_is_found(answer: str, code: str) -> None:
    place = match_location(NORTH_EAST, normalize_for_matching(answer))
    assert (place.code if place else None) == code


# Everyday words a letter or two from a place, ambiguous misspellings and short words: no
# place. Each names the place it is near.
@pytest.mark.parametrize("answer", [
    pytest.param("عشرين", id="twenty-is-not-afrin"),
    pytest.param("صرلنا عشرين يوم", id="twenty-days-is-not-afrin"),
    pytest.param("سكران", id="drunk-is-not-soran"),
    pytest.param("انذار", id="warning-is-not-anbar"),
    pytest.param("حديثا", id="recently-is-not-haditha"),
    pytest.param("عاديه", id="ordinary-is-not-amedi"),
    pytest.param("بطارية", id="battery-is-not-tarmiya-after-a-prefix"),
    pytest.param("صورنا", id="our-photos-is-not-sawran-vowel-moved"),
    pytest.param("السوريين", id="syrians-is-not-soran-doubled-kept"),
    pytest.param("البلد", id="the-country-is-not-balad"),
    pytest.param("رجعنا عالبلد", id="back-home-is-not-balad"),
    pytest.param("اعانه", id="aid-is-not-ana-vowel-at-the-start"),
    pytest.param("الاعانة", id="the-aid-is-not-ana"),
    pytest.param("حليب", id="milk-is-not-aleppo-three-letters"),
    pytest.param("قوايم", id="lists-is-not-al-qaim-vowel-beside-vowel"),
    pytest.param("القائمة", id="the-list-is-not-al-qaim"),
    pytest.param("الحوجة", id="need-is-not-hawija"),
    pytest.param("الشباب", id="young-men-is-not-al-bab"),
    pytest.param("عالباب", id="at-the-door-is-not-al-bab"),
    pytest.param("حلا", id="short-word-near-aleppo"),
    pytest.param("ادل", id="short-word-near-idlib"),
    pytest.param("khalas", id="latin-khalas-is-not-khalis"),
    pytest.param("marra", id="latin-marra-is-not-maarra"),
    pytest.param("byiji", id="latin-byiji-is-not-beiji"),
    pytest.param("shu sar bil shakwa", id="latin-word-more-is-not-arbil"),
    pytest.param("halib", id="latin-milk-is-not-aleppo"),
    pytest.param("haleeb", id="latin-milk-long-vowel-is-not-aleppo"),
    pytest.param("بعدين", id="later-is-not-a-prefixed-place"),
    pytest.param("لعند", id="to-the-place-of-is-not-a-prefixed-place"),
    pytest.param("وين", id="where-is-not-a-prefixed-place"),
    pytest.param("فيها", id="in-it-is-not-a-prefixed-place"),
    pytest.param("بحدثه", id="i-tell-him-is-not-haditha-after-a-prefix"),
    pytest.param("بالبلد", id="at-home-is-not-balad-after-a-prefix"),
    pytest.param("دهور", id="ages-is-not-al-dour-h-beside-a-long-vowel"),
    pytest.param("حلبة", id="ring-is-not-aleppo-h-at-the-end"),
    pytest.param("حضرة", id="presence-is-not-hatra-h-at-the-end"),
    pytest.param("شوران", id="ambiguous-soran-or-sawran"),
    pytest.param("مدينه دلب", id="ambiguous-idlib-or-aleppo-city"),
])
def test_a_word_near_a_place_is_not_one(answer: str) -> None:
    assert match_location(NORTH_EAST, normalize_for_matching(answer)) is None


# A place's name that is also an everyday word names it only as the whole answer, after a word
# that introduces a place, or next to its governorate's name.
@pytest.mark.parametrize(("answer", "code"), [
    pytest.param("عنه", "IQ-AN-06", id="anah-alone"),
    pytest.param("قضاء عنه", "IQ-AN-06", id="anah-after-qada"),
    pytest.param("في عنه", "IQ-AN-06", id="anah-after-fi"),
    pytest.param("انا من عنه", "IQ-AN-06", id="anah-after-min"),
    pytest.param("عنه الانبار", "IQ-AN-06", id="anah-before-its-governorate"),
    pytest.param("الأنبار عنه", "IQ-AN-06", id="anah-after-its-governorate"),
    pytest.param("سألت عنه", None, id="asked-about-him"),
    pytest.param("ما بعرف عنه شي", None, id="know-nothing-about-him"),
    pytest.param("لعنه", None, id="curse-is-not-prefixed-anah"),
    pytest.param("حكيت عنه بالانبار", "IQ-AN", id="spoke-of-him-in-anbar-is-anbar"),
    pytest.param("ana", "IQ-AN-06", id="latin-ana-alone"),
    pytest.param("in ana", "IQ-AN-06", id="latin-ana-after-in"),
    pytest.param("ana min halab", "SY-HL", id="arabizi-ana-is-i"),
    pytest.param("ana w wlade b mukhayyam", None, id="arabizi-ana-is-not-anah"),
    pytest.param("خالص", "IQ-DI-04", id="khalis-alone"),
    pytest.param("ما استلمنا شي خالص", None, id="at-all-is-not-al-khalis"),
    pytest.param("ma fi shi khales", None, id="latin-at-all-is-not-al-khalis"),
    pytest.param("hit", "IQ-AN-03", id="latin-heet-alone"),
    pytest.param("in hit", "IQ-AN-03", id="latin-heet-after-in"),
    pytest.param("hit anbar", "IQ-AN-03", id="latin-heet-before-its-governorate"),
    pytest.param("he hit me", None, id="english-hit-is-not-heet"),
    pytest.param("hit by a car", None, id="english-hit-by-is-not-heet"),
    pytest.param("haram", "SY-ID-02", id="latin-harim-haram-alone"),
    pytest.param("min haram", "SY-ID-02", id="latin-harim-after-min"),
    pytest.param("haram 3alekon", None, id="arabizi-forbidden-is-not-harim"),
    pytest.param("7aram 3alekon", None, id="arabizi-forbidden-is-not-a-slip-from-7arem"),
    pytest.param("bab", "SY-HL-04", id="latin-al-bab-alone"),
    pytest.param("fi bab", "SY-HL-04", id="latin-al-bab-after-fi"),
    pytest.param("bab el beit msakkar", None, id="arabizi-door-is-not-al-bab"),
    pytest.param("balad", "IQ-SD-04", id="latin-balad-alone"),
    pytest.param("in balad", "IQ-SD-04", id="latin-balad-after-in"),
    pytest.param("rje3na 3al balad", None, id="arabizi-home-town-is-not-balad"),
    pytest.param("sadr", "IQ-BG-05", id="latin-sadr-alone"),
    pytest.param("in sadr", "IQ-BG-05", id="latin-sadr-after-in"),
    pytest.param("waja3 bil sadr", None, id="arabizi-chest-is-not-sadr-city"),
    # Nouns whose everyday sense also follows a preposition (the door, the chest): a
    # preposition counts only at the start of the answer or after a word that says who or
    # where («انا», «ساكنين»).
    pytest.param("الباب", "SY-HL-04", id="al-bab-alone"),
    pytest.param("باب", "SY-HL-04", id="al-bab-without-article-alone"),
    pytest.param("انا من الباب", "SY-HL-04", id="al-bab-after-ana-min"),
    pytest.param("في الباب", "SY-HL-04", id="al-bab-after-fi-at-the-start"),
    pytest.param("من الباب", "SY-HL-04", id="al-bab-after-min-at-the-start"),
    pytest.param("بالباب", "SY-HL-04", id="al-bab-after-a-joined-ba"),
    pytest.param("نازحين من الباب", "SY-HL-04", id="al-bab-after-displaced-from"),
    pytest.param("قضاء الباب", "SY-HL-04", id="al-bab-after-qada"),
    pytest.param("الباب حلب", "SY-HL-04", id="al-bab-before-its-governorate"),
    pytest.param("el bab", "SY-HL-04", id="latin-el-bab-alone"),
    pytest.param("ana men el bab", "SY-HL-04", id="arabizi-el-bab-after-ana-men"),
    pytest.param("al bab halab", "SY-HL-04", id="latin-al-bab-before-its-governorate"),
    pytest.param("الباب مسكر", None, id="the-door-is-closed"),
    pytest.param("الباب مقفل", None, id="the-door-is-locked"),
    pytest.param("باب البيت مسكر", None, id="the-house-door-is-closed"),
    pytest.param("طلعوا من الباب", None, id="went-out-through-the-door"),
    pytest.param("el bab msakkar", None, id="arabizi-el-bab-closed"),
    pytest.param("al bab msakkar", None, id="arabizi-al-bab-closed"),
    pytest.param("الصدر", "IQ-BG-05", id="sadr-alone"),
    pytest.param("مدينة الصدر", "IQ-BG-05", id="sadr-city"),
    pytest.param("مدينه الصدر", "IQ-BG-05", id="sadr-city-with-haa"),
    pytest.param("في الصدر", "IQ-BG-05", id="sadr-after-fi-at-the-start"),
    pytest.param("ساكنين بالصدر", "IQ-BG-05", id="sadr-after-living-in"),
    pytest.param("الصدر بغداد", "IQ-BG-05", id="sadr-before-its-governorate"),
    pytest.param("we are in sadr", "IQ-BG-05", id="english-sadr-after-we-are-in"),
    pytest.param("وجع بالصدر", None, id="chest-pain"),
    pytest.param("عندي الم في الصدر", None, id="pain-in-the-chest"),
    pytest.param("عندي الم بالصدر", None, id="pain-in-the-chest-joined-ba"),
    pytest.param("waja3 fi sadr", None, id="arabizi-pain-in-the-chest"),
    # «الثورة», the revolution, is Sadr City's old name.
    pytest.param("الثورة", "IQ-BG-05", id="thawra-alone"),
    pytest.param("ثورة", "IQ-BG-05", id="thawra-without-article-alone"),
    pytest.param("مدينة الثورة", "IQ-BG-05", id="thawra-city"),
    pytest.param("من الثورة", "IQ-BG-05", id="thawra-after-min-at-the-start"),
    pytest.param("انا من الثوره", "IQ-BG-05", id="thawra-after-ana-min"),
    pytest.param("ساكنين بالثورة", "IQ-BG-05", id="thawra-after-living-in"),
    pytest.param("thawra", "IQ-BG-05", id="latin-thawra-alone"),
    pytest.param("بعد الثورة طلعنا", None, id="after-the-revolution-we-left"),
    pytest.param("ايام الثوره", None, id="days-of-the-revolution"),
    pytest.param("شاركنا في الثورة", None, id="we-took-part-in-the-revolution"),
    pytest.param("ayam el thawra", None, id="arabizi-days-of-the-revolution"),
    # Sorani «لە» (in) is Arabic «له» (to him): a place word only where it says where.
    pytest.param("لە عنە", "IQ-AN-06", id="anah-after-sorani-le"),
    pytest.param("لە الصدر", "IQ-BG-05", id="sadr-after-sorani-le-at-the-start"),
    pytest.param("خەڵکی الصدر", "IQ-BG-05", id="sadr-after-sorani-from"),
    pytest.param("حكيت له عنه", None, id="told-him-about-it-is-not-anah"),
    pytest.param("فتحت له الباب", None, id="opened-the-door-for-him-is-not-al-bab"),
])
def test_a_name_that_is_an_everyday_word_needs_a_place_word(answer: str, code: str | None
                                                            ) -> None:
    place = match_location(ORG, normalize_for_matching(answer))
    assert (place.code if place else None) == code


def _complaints(path: Path) -> list[str]:
    """The file's messages that are not answers to one of the dialogue's questions."""
    with path.open(encoding="utf-8", newline="") as file:
        return [row["text"] for row in csv.DictReader(file)
                if not row.get("note", "").startswith("dialogue")]


@pytest.mark.parametrize("path", sorted(DATA.glob("*.csv")), ids=lambda path: path.stem)
def test_a_complaint_names_a_place_only_as_written(path: Path) -> None:
    """A complaint sent in answer to the location question is read as the answer only when it
    names a place as written («انا من حلب»), never for a word near a place's name."""
    names = NORTH_EAST.place_names
    misread = []
    for text in _complaints(path):
        key = normalize_for_matching(text)
        place = match_location(NORTH_EAST, key)
        if place is not None and place not in (names.exactly(key), *names.named_in(key.split())):
            misread.append((text, place.code))
    assert misread == []
