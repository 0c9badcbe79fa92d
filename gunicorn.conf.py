"""gunicorn settings of the web process (Procfile: ``gunicorn -c gunicorn.conf.py ...``).

Everything comes from the environment, read once when gunicorn loads this file; nothing here
creates the application or opens a database connection (each worker builds its own app).

- ``PORT`` (5000) and ``SAWTI_BIND`` (127.0.0.1: nginx on the same machine; 0.0.0.0 when a
  balancer on another machine calls gunicorn directly);
- ``WEB_CONCURRENCY`` worker processes (default: the CPU count, at least 2, at most 4) of
  ``SAWTI_WEB_THREADS`` threads each (4): webhooks spend their time waiting on the database;
- ``SAWTI_TRUSTED_PROXIES`` (0): gunicorn honours ``X-Forwarded-Proto`` only when the app
  does (from ``FORWARDED_ALLOW_IPS``, default the local host), so the two never disagree;
- no access log of gunicorn's: the app writes one line per request without the query string
  (logs.py); with ``SAWTI_LOG_FORMAT=json`` (the default in production) gunicorn's own lines
  are JSON too.
"""

from __future__ import annotations

import os

from logs import resolve_format

MIN_WORKERS, MAX_WORKERS = 2, 4


def _number(name: str, default: int, minimum: int = 1) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {number}")
    return number


def _default_workers() -> int:
    return max(MIN_WORKERS, min(MAX_WORKERS, os.cpu_count() or 1))


bind = f"{os.environ.get('SAWTI_BIND') or '127.0.0.1'}:{_number('PORT', 5000)}"
workers = _number("WEB_CONCURRENCY", _default_workers())
threads = _number("SAWTI_WEB_THREADS", 4)
worker_class = "gthread"
proc_name = "sawti-web"
preload_app = False  # each worker creates its app (and its database pool) after the fork
control_socket_disable = True  # no runtime control socket (gunicornc): one less way in

# A webhook answers in milliseconds; a report download may take a few seconds.
timeout = 60
graceful_timeout = 30  # on SIGTERM, requests in flight get this long to finish
keepalive = 5  # behind nginx or a balancer that reuses connections
# Restart each worker after this many requests (plus jitter, so they do not all restart at
# once): caps slow memory growth.
max_requests = 2000
max_requests_jitter = 200

_trusted_proxies = _number("SAWTI_TRUSTED_PROXIES", 0, minimum=0)
forwarded_allow_ips = (os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"
                       if _trusted_proxies else "")

accesslog = None
errorlog = "-"
loglevel = "info"
if resolve_format(os.environ.get("SAWTI_LOG_FORMAT"), os.environ.get("SAWTI_ENV")) == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": []},  # the app installs its own (logs.py)
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json",
                     "stream": "ext://sys.stderr"},
        },
        "formatters": {"json": {"()": "logs.JsonFormatter"}},
    }
