"""The officer console under /admin/ (one blueprint; views live in this package's modules)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")

from admin import (  # noqa: E402, F401  (modules register their routes on bp)
    audit_log,
    auth,
    canned,
    case,
    dashboard,
    documents,
    entry,
    erasure,
    errors,
    home,
    info,
    languages,
    notifications,
    programme,
    queue,
    tokens,
    users,
)
