"""Bearer-token authentication for every API request, and the per-token rate limit."""

from __future__ import annotations

from flask import abort, current_app, g, request

from admin.api import bp
from casework.models import utcnow
from casework.tokens import authenticate, hash_token
from extensions import db, limiter


@bp.before_request
def require_token() -> None:
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    record = authenticate(db.session, token.strip(), utcnow()) \
        if scheme.lower() == "bearer" else None
    if record is None:
        abort(401, description="Send a valid API token as 'Authorization: Bearer <token>'.")
    db.session.commit()  # last_used_at
    g.user, g.token = record.user, record


def rate_limit_key() -> str:
    header = request.headers.get("Authorization", "")
    return "token:" + hash_token(header) if header else "ip:" + (request.remote_addr or "")


def rate_limit() -> str:
    return current_app.extensions["sawti"].settings.sawti_api_rate_limit


limiter.limit(rate_limit, key_func=rate_limit_key)(bp)
