"""Fuzzing fixtures (helpers and profiles: ``tests/fuzz/fuzz_helpers.py``)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.fuzz.fuzz_helpers import CHANNELS, DIALOGUE_FAILURES, PROFILE, TALLY


@pytest.fixture(autouse=True)
def _no_earlier_failures() -> None:
    """Dialogue failures logged by other tests (some provoke one on purpose) are not ours."""
    DIALOGUE_FAILURES.messages.clear()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(CHANNELS)


@pytest.fixture
def fuzz_client(app: Flask, client: FlaskClient, app_context: None) -> FlaskClient:
    return client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY:
        fives = TALLY.get("5xx", 0)
        terminalreporter.write_line(
            f"fuzz ({PROFILE} profile): {TALLY['examples']} examples, {TALLY['requests']} "
            f"HTTP requests — 2xx {TALLY.get('2xx', 0)}, 4xx {TALLY.get('4xx', 0)}, "
            f"5xx {fives}")
