"""docs/threat-model.md names a test for every mitigation: each one must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def test_every_test_the_threat_model_names_exists() -> None:
    document = (ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")
    references = REFERENCE.findall(document)
    assert len(references) > 40
    missing = [f"{path}::{name}" for path, name in references
               if not (ROOT / path).exists()
               or (name and not re.search(rf"^def {name}\(", (ROOT / path).read_text(
                   encoding="utf-8"), re.MULTILINE))]
    assert missing == []
