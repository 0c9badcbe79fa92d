"""Every string a person reads is in the catalogues, translated into Arabic, and compiled."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _po(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _entries(catalog: Catalog) -> dict[object, object]:
    return {_hashable(message.id): _hashable(message.string) for message in catalog if message.id}


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def _translated(value: object) -> bool:
    return any(value) if isinstance(value, tuple) else bool(value)


def test_template_matches_the_source(tmp_path: Path) -> None:
    """A string added in code or a template without `make translations` fails here."""
    extracted = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_", "-k", "ngettext:1,2", "-k", "lazy_ngettext:1,2", "-k", "_l",
         "--no-location", "--sort-output",
         "--ignore-dirs=.venv tests bench migrations", "-o", str(extracted), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with extracted.open("rb") as fresh, (TRANSLATIONS / "messages.pot").open("rb") as kept:
        fresh_ids, kept_ids = _entries(read_po(fresh)), _entries(read_po(kept))
    assert sorted(map(str, fresh_ids)) == sorted(map(str, kept_ids))


@pytest.mark.parametrize("language", ["ar", "en"])
def test_catalogue_has_every_template_string(language: str) -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        template = _entries(read_po(handle))
    assert set(_entries(_po(language))) == set(template)


def test_arabic_is_complete_and_keeps_placeholders() -> None:
    for msgid, msgstr in _entries(_po("ar")).items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        forms = msgstr if isinstance(msgstr, tuple) else (msgstr,)
        assert all(forms), f"untranslated: {ids[0]}"
        expected = set(PLACEHOLDER.findall(ids[0])) - {"count"}
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) - {"count"} == expected, ids[0]


@pytest.mark.parametrize("language", ["ar", "en"])
def test_compiled_catalogue_is_up_to_date(language: str) -> None:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = {k: v for k, v in _entries(read_mo(handle)).items()
                    if _translated(v) and v != k}  # compiling fills plural gaps with the msgid
    source = {k: v for k, v in _entries(_po(language)).items() if _translated(v)}
    assert compiled == source, "run `make translations`"
