"""Names of the organisation's places, levels and categories in a reader's language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.data import Category, Level, Location

PLACE = Location(code="SY-ID", name_ar="إدلب", name_en="Idlib")
LEVEL = Level(level=5, name_ar="حساسة", name_en="Sensitive", sensitive=True,
              deadline=timedelta(hours=72))
CATEGORY = Category(code="food", name_ar="غذاء", name_en="Food", default_level=2)


@pytest.mark.parametrize(("language", "expected"), [
    pytest.param("ar", ("إدلب", "حساسة", "غذاء"), id="arabic"),
    pytest.param("en", ("Idlib", "Sensitive", "Food"), id="english"),
    # Names exist in Arabic and English only: a Kurdish reader reads the Arabic ones.
    pytest.param("ckb", ("إدلب", "حساسة", "غذاء"), id="kurdish-reads-arabic"),
])
def test_names_in_a_readers_language(language: str, expected: tuple[str, str, str]) -> None:
    assert (PLACE.name(language), LEVEL.name(language), CATEGORY.name(language)) == expected
