"""The spellings and the weighed distance place names are matched with (config/places.py)."""

from __future__ import annotations

import pytest

from casework.text import normalize_for_matching
from config.places import core, distance, spellings


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("دير الزور", {"ديرالزور", "ديرزور"}, id="joined-with-and-without-article"),
    pytest.param("ادلبب", {"ادلب"}, id="doubled-arabic-letter-once"),
    pytest.param("الفلوجة", {"الفلوجه", "فلوجه"}, id="article-of-a-long-first-word"),
    pytest.param("البلد", {"البلد"}, id="article-of-a-short-word-kept"),
    pytest.param("al bab", {"albab"}, id="latin-article-kept"),
    pytest.param("mossul", {"mossul"}, id="latin-doubles-kept"),
])
def test_spellings(name: str, expected: set[str]) -> None:
    assert spellings(normalize_for_matching(name)) == expected


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("دير الزور", "ديرزور", id="joined-without-article"),
    pytest.param("ادلبب", "ادلب", id="doubled-arabic-letter-once"),
    pytest.param("arbeel", "arbil", id="latin-ee-as-i"),
    pytest.param("kirkouk", "kirkuk", id="latin-ou-as-u"),
    pytest.param("makhmoor", "makhmur", id="latin-oo-as-u"),
    pytest.param("raqqah", "raqqa", id="latin-final-ah"),
    pytest.param("hasakeh", "hasake", id="latin-final-eh"),
    pytest.param("salah al din", "salahdin", id="latin-inner-h-kept"),
    pytest.param("maarra", "maarra", id="latin-aa-kept-as-it-may-be-ain"),
    pytest.param("Tûz Xurmatû", "tuzxurmatu", id="latin-accents-dropped"),
    pytest.param("Kerkûûk", "kerkuk", id="latin-accented-long-vowel-as-one"),
])
def test_core(name: str, expected: str) -> None:
    assert core(normalize_for_matching(name)) == expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    pytest.param("خانقين", "خانقبن", 1, id="dots-misplaced"),
    pytest.param("سامرا", "صامرا", 1, id="sounds-merged"),
    pytest.param("جرابلس", "جرابلوس", 1, id="long-vowel-added"),
    pytest.param("تكريت", "تكرت", 1, id="long-vowel-left-out"),
    pytest.param("تلعفر", "تلفعر", 1, id="consonants-swapped"),
    pytest.param("mosul", "mossul", 1, id="latin-doubled-consonant"),
    pytest.param("عفرين", "عشرين", 2, id="letters-not-confused"),
    pytest.param("عماديه", "عاديه", 2, id="consonant-left-out"),
    pytest.param("صوران", "صورنا", 2, id="vowel-moved"),
    pytest.param("maarra", "marra", 2, id="latin-vowel-left-out"),
    pytest.param("khalis", "khalas", 2, id="latin-vowel-changed"),
    pytest.param("kirkok", "kirkuk", 1, id="latin-o-for-u"),
    pytest.param("idleb", "idlib", 1, id="latin-e-for-i"),
    pytest.param("erbil", "arbil", 1, id="latin-e-for-a"),
    pytest.param("idlep", "idleb", 1, id="latin-p-for-b"),
    pytest.param("array", "arrai", 2, id="latin-y-is-not-i"),
    pytest.param("ادلب", "ادلب", 0, id="same"),
    pytest.param("singal", "sengal", 1, id="latin-kurdish-i-for-e"),
    pytest.param("signal", "sengal", 2, id="latin-signal-is-not-sengal"),
    pytest.param("حلهب", "حلب", 1, id="kurdish-e-between-consonants"),
    pytest.param("بهغداد", "بغداد", 1, id="kurdish-e-in-a-long-name"),
    pytest.param("حهلهب", "حلب", 2, id="two-kurdish-e"),
    pytest.param("دهور", "دور", 2, id="h-beside-a-long-vowel-is-arabic"),
    pytest.param("حلبه", "حلب", 2, id="h-at-the-end-is-arabic"),
])
def test_distance_weighs_common_misspellings_lighter(a: str, b: str, expected: int) -> None:
    assert distance(a, b) == expected == distance(b, a)
