"""Console errors as a page in the reader's language, for a person in a browser.

A browser asks for HTML (its Accept header says so); it gets the console's own page with what
happened and what to do, in Arabic or English, instead of the JSON body that scripts and the
tests' clients still get. An expired form (the CSRF check) is the common case: an officer who
left a reply open past their session's lifetime must learn to reload it, not read a code.
"""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from admin import bp


@bp.get("/<path:unknown>")
def unknown_page(unknown: str) -> ResponseReturnValue:
    """An address under /admin/ that no console page answers (a mistyped or old link): the
    console's own 404, below, rather than the application's JSON. Any other method than GET
    still gets 405 from the pages that do exist."""
    abort(404)


@bp.errorhandler(HTTPException)
def console_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if not request.accept_mimetypes.accept_html:
        return _app_handler(error)
    title, advice = _explained(error, status)
    return render_template("admin/error.html", status=status, title=title, advice=advice), status


def _explained(error: HTTPException, status: int) -> tuple[str, str]:
    if isinstance(error, CSRFError):
        return (_("This form has expired."),
                _("Go back, reload the page and send it again. Nothing was saved."))
    explained = {
        400: (_("The request could not be understood."),
              _("Go back and check what you entered.")),
        403: (_("You do not have access to this page."),
              _("Your role does not allow it. Ask an administrator if you need it.")),
        404: (_("This page does not exist, or is not yours to see."),
              _("Check the address or the case reference, or go back to the cases.")),
        405: (_("The request could not be understood."),
              _("Go back and check what you entered.")),
        413: (_("What you sent is too large."),
              _("Send a smaller file or a shorter text.")),
        429: (_("Too many attempts."), _("Wait a minute, then try again.")),
    }
    return explained.get(status, (_("Something went wrong."),
                                  _("Try again in a moment. If it happens again, tell an "
                                    "administrator.")))


def _app_handler(error: HTTPException) -> ResponseReturnValue:
    """What the application answers anyone else: its handler for this error's class."""
    handlers = current_app.error_handler_spec[None]
    for code in (error.code, None):
        for cls in type(error).__mro__:
            handler = handlers.get(code, {}).get(cls)
            if handler is not None:
                return handler(error)
    return error
