"""Abuse limits on what anyone on the internet can reach: the provider webhooks and sign-in.

- Per client IP, on every provider webhook (``SAWTI_WEBHOOK_RATE_LIMIT``), and a much lower
  allowance of *refused* requests (``SAWTI_WEBHOOK_REFUSAL_LIMIT``: 403 unverified, 400
  malformed, 413 too large) so that a forger or a scanner is cut off long before the
  providers, whose requests verify, would be. Per sender, the dialogue's flood limit
  (``SAWTI_INBOUND_PER_MINUTE``) stores but stops answering a flood.
- Per client IP on sign-in (password and code steps), ``SAWTI_LOGIN_RATE_LIMIT``, on top of
  the per-account lock-out.
- Bodies over ``SAWTI_MAX_REQUEST_BYTES`` are refused with 413 and the reason.

The web simulator (off in production) and spooled requests being replayed are not limited.
Behind a reverse proxy set ``SAWTI_TRUSTED_PROXIES`` so the client's own IP is used.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from extensions import limiter

WEBHOOKS = "/webhooks/"
SIMULATOR = "/webhooks/simulator"
LOGIN_ENDPOINTS = frozenset({"admin.login", "admin.totp", "admin.enrol"})
REFUSED = frozenset({400, 403, 413})
REPLAY_FLAG = "sawti.replay"  # set on requests replayed from channels.spool


def register(app: Flask) -> None:
    settings = app.extensions["sawti"].settings
    if settings.sawti_trusted_proxies:
        hops = settings.sawti_trusted_proxies  # X-Forwarded-For: client IP; -Proto: https
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    from admin import bp as admin_bp
    from channels.web import bp as channels_bp

    # Limits are kept by blueprint name in the (module-level) limiter; registering the same
    # ones again for another application instance adds nothing.
    limiter.limit(_webhook_limit, exempt_when=_not_a_provider_webhook,
                  error_message=_too_many)(channels_bp)
    limiter.limit(_refusal_limit, exempt_when=_not_a_provider_webhook,
                  deduct_when=_was_refused, error_message=_too_many)(channels_bp)
    limiter.limit(_login_limit, exempt_when=_not_a_sign_in,
                  error_message=_too_many)(admin_bp)
    app.register_error_handler(RequestEntityTooLarge, _too_large)


def _settings():  # -> config.settings.Settings
    return current_app.extensions["sawti"].settings


def _webhook_limit() -> str:
    return _settings().sawti_webhook_rate_limit


def _refusal_limit() -> str:
    return _settings().sawti_webhook_refusal_limit


def _login_limit() -> str:
    return _settings().sawti_login_rate_limit


def _not_a_provider_webhook() -> bool:
    path = request.path
    return (not path.startswith(WEBHOOKS) or path.startswith(SIMULATOR)
            or bool(request.environ.get(REPLAY_FLAG)))


def _not_a_sign_in() -> bool:
    return request.method != "POST" or request.endpoint not in LOGIN_ENDPOINTS


def _was_refused(response: Response) -> bool:
    return response.status_code in REFUSED


def _too_many() -> str:
    return "too many requests from this address; slow down"


def _too_large(error: RequestEntityTooLarge) -> Response:
    """413 with the limit in the reason (a view that set its own reason keeps it)."""
    detail = error.description
    if detail == RequestEntityTooLarge.description:
        limit = request.max_content_length or _settings().sawti_max_request_bytes
        detail = f"request body larger than {limit} bytes"
    response = jsonify(error=error.name, detail=detail, status=413)
    response.status_code = 413
    return response
