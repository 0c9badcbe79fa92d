"""Every string a person reads is in the catalogues, translated into Arabic, and compiled; every
sentence of the text dialogue is in Sorani Kurdish too."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.messages import Speaker

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Where the sentences of the text dialogue are written (through ``bot.messages.Speaker``): the
# dialogue's handlers, the speaker's own sentences, and the dispatcher's "a reply is waiting".
DIALOGUE_SOURCES = ("bot/engine.py", "bot/messages.py", "channels/delivery.py")


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


@pytest.mark.parametrize("language", ["ar", "en", "ckb"])
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


@pytest.mark.parametrize("language", ["ar", "en", "ckb"])
def test_compiled_catalogue_is_up_to_date(language: str) -> None:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = {k: v for k, v in _entries(read_mo(handle)).items()
                    if _translated(v) and v != k}  # compiling fills plural gaps with the msgid
    source = {k: v for k, v in _entries(_po(language)).items() if _translated(v)}
    assert compiled == source, "run `make translations`"


def _dialogue_msgids() -> list[object]:
    found = []
    for source in DIALOGUE_SOURCES:
        found += [_hashable(message) for _, message, _, _ in extract_from_file(
            "python", str(ROOT / source), keywords={"_": None, "ngettext": (1, 2)})]
    return found


def test_the_dialogue_sources_are_where_the_speaker_is_used() -> None:
    """A file that speaks to people through ``Speaker`` and is not in DIALOGUE_SOURCES would
    send Kurdish readers Arabic sentences unnoticed (the voice line speaks Arabic only)."""
    speaking = {str(path.relative_to(ROOT)) for folder in ("bot", "channels", "casework")
                for path in (ROOT / folder).rglob("*.py")
                if re.search(r"\bspeaker\._\(|\bspeaker\.ngettext\(", path.read_text())}
    assert speaking - {"channels/twilio_voice.py", "casework/notifications.py"} \
        <= set(DIALOGUE_SOURCES)


def test_every_dialogue_sentence_is_in_kurdish_with_its_placeholders() -> None:
    kurdish = _entries(_po("ckb"))
    msgids = _dialogue_msgids()
    assert len(msgids) >= 40
    for msgid in msgids:
        forms = kurdish.get(msgid)
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        forms = forms if isinstance(forms, tuple) else (forms,)
        assert all(forms), f"no Kurdish for: {ids[0]}"
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(ids[-1])), ids[0]


def test_the_kurdish_plural_rule_is_babels() -> None:
    assert _po("ckb").plural_forms == "nplurals=2; plural=(n != 1);"


def test_a_sentence_kurdish_lacks_is_said_in_arabic_never_english() -> None:
    console_only = "Staff accounts"
    assert not _entries(_po("ckb"))[console_only]
    assert Speaker("ckb")._(console_only) == Speaker("ar")._(console_only) != console_only
    plural = ("The text cannot be longer than %(count)s character.",
              "The text cannot be longer than %(count)s characters.")
    arabic = Speaker("ar").ngettext(*plural, 3)
    assert Speaker("ckb").ngettext(*plural, 3) == arabic != plural[1] % {"count": 3}
