"""Names of the organisation's places, levels and categories in a reader's language."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from config.data import Category, Level, Location, load_org_data

CONFIG = Path(__file__).resolve().parents[2] / "config"

PLACE = Location(code="SY-ID", name_ar="إدلب", name_en="Idlib")
SORANI_PLACE = Location(code="IQ-AR", name_ar="أربيل", name_en="Erbil", name_ckb="هەولێر")
LEVEL = Level(level=5, name_ar="حساسة", name_en="Sensitive", sensitive=True,
              deadline=timedelta(hours=72))
CATEGORY = Category(code="food", name_ar="غذاء", name_en="Food", default_level=2)


@pytest.mark.parametrize(("language", "expected"), [
    pytest.param("ar", ("إدلب", "حساسة", "غذاء"), id="arabic"),
    pytest.param("en", ("Idlib", "Sensitive", "Food"), id="english"),
    # Without a Sorani name, a Kurdish reader reads the Arabic one.
    pytest.param("ckb", ("إدلب", "حساسة", "غذاء"), id="kurdish-reads-arabic"),
])
def test_names_in_a_readers_language(language: str, expected: tuple[str, str, str]) -> None:
    assert (PLACE.name(language), LEVEL.name(language), CATEGORY.name(language)) == expected


@pytest.mark.parametrize(("language", "expected"), [
    pytest.param("ckb", "هەولێر", id="kurdish-reads-sorani"),
    pytest.param("ar", "أربيل", id="arabic"),
    pytest.param("en", "Erbil", id="english"),
])
def test_a_place_with_a_sorani_name(language: str, expected: str) -> None:
    assert SORANI_PLACE.name(language) == expected


def test_the_sorani_name_is_read_from_locations_yaml(tmp_path: Path) -> None:
    for name in ("grid.yaml", "categories.yaml"):
        shutil.copy(CONFIG / name, tmp_path / name)
    (tmp_path / "locations.yaml").write_text(
        "governorates:\n"
        "  - {code: IQ-AR, country: IQ, name_ar: أربيل, name_en: Erbil, name_ckb: هەولێر}\n"
        "  - {code: IQ-BG, country: IQ, name_ar: بغداد, name_en: Baghdad}\n", encoding="utf-8")
    erbil, baghdad = load_org_data(tmp_path).governorates
    assert (erbil.name("ckb"), baghdad.name("ckb"), baghdad.name_ckb) == ("هەولێر", "بغداد", "")
