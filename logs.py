"""Logging: one line per event, as JSON in production, with a request id and no personal data.

``SAWTI_LOG_FORMAT`` chooses ``json`` (the default with ``SAWTI_ENV=production``) or ``text``.
A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the fields a
module passed with ``extra=`` and, inside a request, ``request_id``, ``method`` and ``path``.

Each request gets an id: the incoming ``X-Request-Id`` when it is a sane token (at most 64 of
``[A-Za-z0-9._-]``, as nginx's ``$request_id`` or a load balancer's), else a new uuid4; the
response carries it back in ``X-Request-Id``. One access line per request (logger
``sawti.access``: method, path, status, duration_ms) replaces the server's own, which would
hold the query string. Only the path is logged, never the query string, and a path segment
that is a signed capability (``<token>`` in the route) is logged as the route's pattern.
An exception is logged by its type and stack frames only: its message may quote a database
row (message text) or a URL.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import IO

from flask import Flask, Response, has_request_context, request

FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REQUEST_ID_HEADER = "X-Request-Id"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ACCESS_LOGGER = "sawti.access"
QUIET_PATHS = frozenset({"/healthz"})  # probed every few seconds: their access line is DEBUG
SECRET_ROUTE_ARGUMENTS = frozenset({"token"})  # signed capabilities in a path: never logged
# Client libraries that log request lines at INFO: URLs hold the Telegram bot token, query
# strings may hold phone numbers. Only their warnings are kept (WeasyPrint's too: it reports
# every layout step of a report at INFO).
NOISY_LOGGERS = ("httpx", "httpcore", "twilio.http_client", "telegram", "urllib3",
                 "weasyprint", "fontTools")
_HANDLER_MARK = "_sawti_handler"
_REQUEST_ID, _STARTED = "sawti.request_id", "sawti.request_started"  # keys in the WSGI environ
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_OWN_FIELDS = ("request_id", "method", "path")


def resolve_format(log_format: str | None, sawti_env: str | None) -> str:
    """``SAWTI_LOG_FORMAT`` if given, else json in production and text elsewhere."""
    if log_format:
        value = log_format.strip().lower()
        if value not in FORMATS:
            raise ValueError("SAWTI_LOG_FORMAT must be json or text")
        return value
    return "json" if (sawti_env or "").strip().lower() == "production" else "text"


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _OWN_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and name not in entry and not name.startswith("_"):
                entry[name] = value
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["exception"] = f"{type(error).__module__}.{type(error).__qualname__}"
            entry["stack"] = "".join(traceback.format_tb(error.__traceback__))
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str)


class RequestContext(logging.Filter):
    """Adds the request's id, method and path to every record logged inside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and getattr(record, "request_id", None) is None:
            record.request_id = request_id()
            record.method = request.method
            record.path = loggable_path()
        return True


class _StandardError(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (as logging's last resort does), so a
    later redirection of standard error is followed; ``setStream`` pins a stream."""

    def __init__(self) -> None:
        super().__init__()
        self._pinned: IO[str] | None = None

    @property
    def stream(self) -> IO[str]:  # type: ignore[override]
        return self._pinned if self._pinned is not None else sys.stderr

    @stream.setter
    def stream(self, value: IO[str] | None) -> None:
        self._pinned = None if value is sys.stderr else value


class _NoServerAccessLines(logging.Filter):
    """Drops werkzeug's development-server request lines (they hold the query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != '"%s" %s %s'


def configure(log_format: str, level: int = logging.INFO) -> logging.Handler:
    """Route every logger through one stderr handler in the chosen format (idempotent)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = _StandardError()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestContext())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoServerAccessLines) for f in werkzeug.filters):
        werkzeug.addFilter(_NoServerAccessLines())
    return handler


def init_app(app: Flask) -> None:
    """Request ids and the access line. Call before other extensions add their hooks, so the
    clock starts before a rate limit or a CSRF check can answer."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)


def request_id() -> str:
    """This request's id (taken from ``X-Request-Id`` when sane, else a new uuid4)."""
    environ = request.environ  # per request (``g`` may outlive one: it is the app context's)
    if _REQUEST_ID not in environ:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        environ[_REQUEST_ID] = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    return environ[_REQUEST_ID]


def loggable_path() -> str:
    """The path without the query string; a route with a secret argument as its pattern."""
    rule = request.url_rule
    if rule is not None and SECRET_ROUTE_ARGUMENTS & set(rule.arguments):
        return rule.rule
    return request.path


def _start() -> None:
    request.environ[_STARTED] = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    started = request.environ.get(_STARTED)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    path = loggable_path()
    level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
    logging.getLogger(ACCESS_LOGGER).log(
        level, "%s %s %s %sms", request.method, path, response.status_code, duration_ms,
        extra={"status": response.status_code, "duration_ms": duration_ms})
    return response
