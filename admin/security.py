"""Who is signed in, and the decorators every console route uses.

The session holds the user id, the account's session version (bumped by "log out everywhere"
and password changes) and whether the second factor was passed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, redirect, request, session, url_for

from casework.accounts import requires_totp
from casework.models import Role, User
from extensions import db

View = Callable[..., Any]


def load_user() -> None:
    """Put the signed-in user (or None) on ``g.user`` before each console request."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    user = db.session.get(User, user_id)
    valid = (user is not None and user.active
             and session.get("session_version") == user.session_version
             and (session.get("totp_ok") or not requires_totp(user)))
    if valid:
        g.user = user
    else:
        session.clear()


def sign_in(user: User) -> None:
    session.clear()
    session.permanent = True
    session.update(user_id=user.id, session_version=user.session_version, totp_ok=True)


def login_required(view: View) -> View:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("admin.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped


def roles_required(*roles: Role) -> Callable[[View], View]:
    """Signed in, and one of these roles; checked on the server for every request."""
    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def safe_next(target: str | None) -> str | None:
    """Only redirect back inside the console (no open redirects)."""
    if target and target.startswith("/admin/") and not target.startswith("//"):
        return target
    return None
