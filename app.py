"""Sawti's application factory: ``create_app(settings=None)`` (``flask`` finds it here)."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, abort, jsonify, request
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

import logs
from config.settings import Settings, load_settings
from extensions import babel, csrf, db, limiter, migrate
from services import Services

SUPPORTED_LOCALES = ("ar", "en")
SQLITE_TIMEOUT_SECONDS = 30  # SQLite's own wait for its write lock (the busy timeout)
SQLITE_POLL_SECONDS = 5.0  # before which a transaction polls for the lock itself
SQLITE_POLL_PAUSES = (0.0001, 0.001)  # the first pause between tries, doubled up to the last
RTL_LOCALES = {"ar"}


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.sawti_instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.sqlalchemy_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.sqlalchemy_url),
        MAX_CONTENT_LENGTH=settings.sawti_max_request_bytes,
        BABEL_DEFAULT_LOCALE="ar",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).resolve().parent / "translations"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        JSON_SORT_KEYS=False,
    )
    settings.sawti_instance_path.mkdir(parents=True, exist_ok=True)
    logs.configure(settings.log_format)
    logs.init_app(app)  # first, so that every request gets an id and an access line
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    babel.init_app(app, locale_selector=_select_locale)
    app.config["RATELIMIT_STORAGE_URI"] = settings.redis_url or "memory://"
    # Redis down: limits are kept in this process meanwhile; a webhook never fails for it.
    app.config["RATELIMIT_SWALLOW_ERRORS"] = True
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    if settings.redis_url:
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_timeout": 1,
                                                   "socket_connect_timeout": 1}
    limiter.init_app(app)
    app.extensions["sawti"] = Services.build(settings)

    import abuse
    from admin import bp as admin_bp
    from admin import cli as admin_cli
    from admin import keys_cli, report_cli
    from admin.api import bp as api_bp
    from channels import cli as channels_cli
    from channels import spool
    from channels.web import bp as channels_bp

    csrf.init_app(app)
    csrf.exempt(channels_bp)  # providers authenticate by signature, not by session
    csrf.exempt(api_bp)  # bearer tokens, no cookies
    app.register_blueprint(channels_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    channels_cli.register(app)
    admin_cli.register(app)
    keys_cli.register(app)
    abuse.register(app)
    spool.register(app)
    report_cli.register(app)
    app.before_request(_refuse_nul_characters)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_remember_language)
    app.context_processor(_template_globals)
    return app


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_TIMEOUT_SECONDS}}
    return {"pool_pre_ping": True}


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, _record) -> None:
    """WAL lets readers work while one writer writes; the driver's own transaction handling
    is switched off so that SAVEPOINTs and rollbacks behave (see ``_sqlite_begin``)."""
    if _is_sqlite(dbapi_connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    """Take the write lock up front: a transaction that reads then writes cannot then fail
    with SQLITE_BUSY when the web and the worker write at the same time."""
    if connection.dialect.name != "sqlite":
        return
    if not _poll_begin_immediate(connection.connection.driver_connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's own wait, then its error


def _poll_begin_immediate(dbapi_connection: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE, retried every fraction of a millisecond while another connection
    holds the write lock; False if it still does after ``SQLITE_POLL_SECONDS``.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15... ms between tries: far longer than the
    few milliseconds a webhook's transaction holds the lock, so a waiting worker slept while
    the lock was free and the second web worker added almost nothing. The pause still grows
    (to 1 ms) so that a long wait on a busy machine does not burn the CPU the holder needs.
    """
    deadline = time.monotonic() + SQLITE_POLL_SECONDS
    pause, longest = SQLITE_POLL_PAUSES
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return True
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # or BUSY_*
                if not busy or time.monotonic() > deadline:
                    return False
            time.sleep(pause)
            pause = min(pause * 2, longest)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_TIMEOUT_SECONDS * 1000}")


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


def _migrations_dir() -> Path:
    return Path(__file__).resolve().parent / "migrations"


def _select_locale() -> str:
    requested = request.args.get("lang")
    if requested in SUPPORTED_LOCALES:
        return requested
    return request.cookies.get("lang") if request.cookies.get("lang") in SUPPORTED_LOCALES else "ar"


def _remember_language(response: Response) -> Response:
    requested = request.args.get("lang")
    if requested in SUPPORTED_LOCALES:
        response.set_cookie("lang", requested, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True)
    return response


def _template_globals() -> dict:
    from flask import current_app
    from flask_babel import gettext as _

    locale = str(get_locale() or "ar")
    return {
        "lang": locale,
        "text_direction": "rtl" if locale in RTL_LOCALES else "ltr",
        "org_name": current_app.extensions["sawti"].settings.sawti_org_name,
        "in_language": _in_language,
        "role_names": {"admin": _("Administrator"), "officer": _("Accountability officer"),
                       "psea": _("PSEA focal point"), "focal_point": _("Focal point"),
                       "viewer": _("Viewer")},
    }


def _in_language(code: str) -> str:
    """This page's address in another language: its filters kept, only ``lang`` replaced."""
    kept = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return "?" + urlencode([*kept, ("lang", code)])


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _refuse_nul_characters() -> None:
    """A 400 for a NUL character in a query string, or in a form of the console: PostgreSQL
    refuses it in text (a 500), and no person types one. Providers' forms are read by their
    adapters, which clean what they store, so that no message is refused for it."""
    fields = list(request.args.lists())
    # Uploads (multipart) are left to their views, which set their own size limit first.
    if request.blueprint != "channels" and request.mimetype == "application/x-www-form-urlencoded":
        fields += list(request.form.lists())
    if any("\x00" in key or any("\x00" in value for value in values)
           for key, values in fields):
        abort(400, description="a NUL character is not allowed in a request")


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/admin"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _http_error(error: HTTPException) -> Response:
    """Errors as small JSON bodies with the reason; never a stack trace."""
    response = jsonify(error=error.name, detail=error.description, status=error.code)
    response.status_code = error.code or 500
    return response
