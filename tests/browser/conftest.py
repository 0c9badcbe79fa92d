"""Fixtures for the real-browser tests: a live server with its dispatcher, and Debian's chromium.

``live_server`` serves the ``app`` fixture's application (a fresh database per test) over HTTP
on a free port, and runs the outbox dispatcher beside it, so replies the bot queues are
"sent" and the simulator page's polling shows them. ``browser`` drives the chromium that
Debian installs (``/usr/bin/chromium``); a missing browser fails the tests, never skips them.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import make_server

from channels.dispatcher import Dispatcher
from extensions import db
from services import services

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EXPECT_TIMEOUT_MS = 10_000
THREAD_JOIN_SECONDS = 10.0
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"


def _run_dispatcher(app: Flask, stop: threading.Event, started: threading.Event,
                    failures: list[BaseException]) -> None:
    # db.session is scoped to the app context, so this thread builds its own session here.
    try:
        with app.app_context():
            try:
                svc = services()
                dispatcher = Dispatcher(db.session, svc.adapters, svc.vault, svc.settings)
                started.set()
                dispatcher.run_forever(stop)
            finally:
                db.session.remove()
    except BaseException as error:  # reported by the fixture at teardown
        failures.append(error)
        started.set()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on http://127.0.0.1:<free port>, with the dispatcher running beside it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                     name="live-server", daemon=True)
    stop = threading.Event()
    started = threading.Event()
    failures: list[BaseException] = []
    dispatcher_thread = threading.Thread(target=_run_dispatcher,
                                         args=(app, stop, started, failures),
                                         name="live-dispatcher", daemon=True)
    server_thread.start()
    dispatcher_thread.start()
    try:
        assert started.wait(THREAD_JOIN_SECONDS), "the dispatcher thread did not start"
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stop.set()
        server.shutdown()
        server_thread.join(THREAD_JOIN_SECONDS)
        server.server_close()
        dispatcher_thread.join(THREAD_JOIN_SECONDS)
    assert not server_thread.is_alive(), "the live server did not stop"
    assert not dispatcher_thread.is_alive(), "the dispatcher did not stop"
    assert not failures, f"the dispatcher thread failed: {failures[0]!r}"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The application on http://127.0.0.1:<free port>, with the dispatcher running."""
    with serving(app) as base:
        yield base


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(f"Debian's chromium is required for the browser tests but {path} does not "
                    "exist; install it with `apt-get install chromium`.", pytrace=False)
    return path


@pytest.fixture(scope="module")
def playwright_runner() -> Iterator[Playwright]:
    runner = sync_playwright().start()
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture(scope="module")
def browser(playwright_runner: Playwright) -> Iterator[Browser]:
    executable = chromium_path()
    launched = playwright_runner.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test (cookies and storage start empty)."""
    new_context = browser.new_context(viewport={"width": 480, "height": 800})
    new_context.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        yield new_context
    finally:
        new_context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
