"""The organisation's data files: sensitivity grid, categories and locations.

They live as YAML beside this module (or in ``SAWTI_CONFIG_DIR``) so that an organisation
edits them without touching code. Loading validates them and fails with the file's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path

import yaml

from casework.text import normalize_for_matching
from config.places import PlaceNames


def _named_in(language: str, arabic: str, english: str) -> str:
    """The English name for English, the Arabic one for every other language: a Kurdish
    reader reads Arabic sooner than English."""
    return english if language == "en" else arabic


class DataFileError(ValueError):
    """A configuration data file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Level:
    level: int
    name_ar: str
    name_en: str
    sensitive: bool
    deadline: timedelta

    def name(self, language: str) -> str:
        return _named_in(language, self.name_ar, self.name_en)


@dataclass(frozen=True)
class Grid:
    levels: tuple[Level, ...]
    untriaged_deadline: timedelta

    def get(self, level: int | None) -> Level | None:
        return next((item for item in self.levels if item.level == level), None)

    def deadline_for(self, level: int | None) -> timedelta:
        found = self.get(level)
        return found.deadline if found else self.untriaged_deadline

    def is_sensitive(self, level: int | None) -> bool:
        found = self.get(level)
        return bool(found and found.sensitive)


@dataclass(frozen=True)
class Category:
    code: str
    name_ar: str
    name_en: str
    default_level: int

    def name(self, language: str) -> str:
        return _named_in(language, self.name_ar, self.name_en)


@dataclass(frozen=True)
class Location:
    code: str
    name_ar: str
    name_en: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    districts: tuple[Location, ...] = field(default=())
    name_ckb: str = ""  # optional: where Sorani has its own name for the place

    def name(self, language: str) -> str:
        if language == "ckb" and self.name_ckb:
            return self.name_ckb
        return _named_in(language, self.name_ar, self.name_en)

    def match_keys(self) -> set[str]:
        names = (self.name_ar, self.name_en, self.name_ckb, *self.aliases)
        return {normalize_for_matching(name) for name in names if name}


@dataclass(frozen=True)
class OrgData:
    grid: Grid
    categories: tuple[Category, ...]
    governorates: tuple[Location, ...]

    def location(self, code: str | None) -> Location | None:
        for governorate in self.governorates:
            if governorate.code == code:
                return governorate
            for district in governorate.districts:
                if district.code == code:
                    return district
        return None

    def category(self, code: str | None) -> Category | None:
        return next((item for item in self.categories if item.code == code), None)

    @property
    def places(self) -> tuple[Location, ...]:
        """The governorates, then every district."""
        return (*self.governorates, *(district for governorate in self.governorates
                                      for district in governorate.districts))

    @cached_property
    def place_names(self) -> PlaceNames:
        """The places by their names, indexed on first use (the data never changes)."""
        return PlaceNames(self.places)


def load_org_data(config_dir: Path) -> OrgData:
    return OrgData(
        grid=_load_grid(_read(config_dir / "grid.yaml")),
        categories=tuple(_load_categories(_read(config_dir / "categories.yaml"))),
        governorates=tuple(_load_locations(_read(config_dir / "locations.yaml"))),
    )


# libyaml's parser when PyYAML was built with it (about ten times faster than pure Python).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> object:
    """The content of a YAML data file, safely loaded; raises OSError or yaml.YAMLError."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506


def _read(path: Path) -> dict:
    try:
        content = read_yaml(path)
    except (OSError, yaml.YAMLError) as error:
        raise DataFileError(f"{path}: {error}") from error
    if not isinstance(content, dict):
        raise DataFileError(f"{path}: expected a mapping at the top level")
    return content


def _load_grid(content: dict) -> Grid:
    try:
        levels = tuple(
            Level(
                level=int(item["level"]),
                name_ar=str(item["name_ar"]),
                name_en=str(item["name_en"]),
                sensitive=bool(item["sensitive"]),
                deadline=timedelta(hours=float(item["deadline_hours"])),
            )
            for item in content["levels"]
        )
        untriaged = timedelta(hours=float(content["untriaged_deadline_hours"]))
    except (KeyError, TypeError, ValueError) as error:
        raise DataFileError(f"grid.yaml: missing or invalid field {error}") from error
    _require_unique("grid.yaml", [item.level for item in levels])
    if not levels:
        raise DataFileError("grid.yaml: at least one level is needed")
    return Grid(levels=levels, untriaged_deadline=untriaged)


def _load_categories(content: dict) -> list[Category]:
    try:
        categories = [
            Category(
                code=str(item["code"]),
                name_ar=str(item["name_ar"]),
                name_en=str(item["name_en"]),
                default_level=int(item.get("default_level", 1)),
            )
            for item in content["categories"]
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise DataFileError(f"categories.yaml: missing or invalid field {error}") from error
    _require_unique("categories.yaml", [item.code for item in categories])
    return categories


def _load_locations(content: dict) -> list[Location]:
    try:
        governorates = [_location(item, parent=None) for item in content["governorates"]]
    except (KeyError, TypeError, ValueError) as error:
        raise DataFileError(f"locations.yaml: missing or invalid field {error}") from error
    codes = [g.code for g in governorates] + [d.code for g in governorates for d in g.districts]
    _require_unique("locations.yaml", codes)
    return governorates


def _location(item: dict, parent: str | None) -> Location:
    code = str(item["code"])
    return Location(
        code=code,
        name_ar=str(item["name_ar"]),
        name_en=str(item["name_en"]),
        aliases=tuple(str(alias) for alias in item.get("aliases") or ()),
        parent=parent,
        districts=tuple(_location(child, parent=code) for child in item.get("districts") or ()),
        name_ckb=str(item.get("name_ckb") or ""),
    )


def _require_unique(filename: str, values: list) -> None:
    duplicates = sorted({str(value) for value in values if values.count(value) > 1})
    if duplicates:
        raise DataFileError(f"{filename}: duplicate codes {', '.join(duplicates)}")
