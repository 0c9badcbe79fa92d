"""The names people read for a case's status; cases store only the codes.

One table for the console and the report files, translated where shown (as
``casework.channel_names``).
"""

from __future__ import annotations

from collections.abc import Callable

from casework.channel_names import N_
from casework.models import CaseStatus

STATUS_NAMES = {
    CaseStatus.NEW.value: N_("New"),
    CaseStatus.OPEN.value: N_("Open"),
    CaseStatus.REFERRED.value: N_("Referred"),
    CaseStatus.CLOSED.value: N_("Closed"),
}


def status_name(code: str | None, gettext: Callable[[str], str]) -> str:
    """The status's name in ``gettext``'s language; an unknown code is shown as it is."""
    name = STATUS_NAMES.get(code or "")
    return gettext(name) if name else (code or "")
