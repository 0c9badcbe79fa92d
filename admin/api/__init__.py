"""The JSON API under /api/v1: bearer tokens, JSON in and out, errors as problem+json.

It is a client of the same casework services and authorisation rules as the console.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from admin.api import cases, errors, programme, reports, security  # noqa: E402, F401
