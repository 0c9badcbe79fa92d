"""The console's landing page: case roles go to their queue, the others to reports."""

from __future__ import annotations

from flask import g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from admin import bp
from admin.security import login_required
from casework.access import CONTENT_ROLES


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    if g.user.role in CONTENT_ROLES:
        return redirect(url_for("admin.queue"))
    return render_template("admin/home.html")
