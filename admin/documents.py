"""Console: a case's records beyond its messages — attached documents, and revealing the
contact address to someone allowed to call the person back.

Both are served only after the access rules (``casework.access``) allow it: a case the user
may not even see listed is "not found" (404); one listed but not open to them is 403.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template_string,
    request,
    send_file,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from admin import bp
from admin.forms import max_length
from admin.security import roles_required
from casework import audit
from casework.access import Action, can, can_list, sees_contact_details
from casework.documents import MAX_DOCUMENT_BYTES, DocumentRefused, attach_document, read_document
from casework.intake import find_case
from casework.manual import staff_actor
from casework.models import Case, CaseDocument, Role, User
from casework.privacy import AddressDecryptionError
from casework.text import ascii_digits, clean_text
from extensions import csrf, db
from services import services

CASE_ROLES = (Role.OFFICER, Role.PSEA, Role.FOCAL_POINT)
# The multipart envelope around the file (boundaries, headers, the CSRF field).
MULTIPART_ALLOWANCE = 64 * 1024
MAX_REASON_LENGTH = 500

UploadForm = TypeVar("UploadForm", bound=FlaskForm)

# The reveal answer: the case page's contact block, once, with the address in it.
REVEALED_PAGE = """{% extends "admin/base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block content %}
<section class="card narrow">
  <h1>{{ title }}</h1>
  {% include "admin/_case_contact.html" %}
</section>
{% endblock %}"""


def case_path(reference: str) -> str:
    """The case page (built elsewhere) by its path, so this module does not depend on it."""
    return f"{request.script_root}/admin/cases/{reference}"


def posted_upload(form_class: type[UploadForm], max_bytes: int) -> UploadForm | None:
    """The posted form of a route that takes a file of up to ``max_bytes``, once its CSRF token
    is checked; None when the request is larger still (nothing of it is read: the page says the
    file is too large, with no token to check, and changes nothing).

    The route is exempt from the check made before any view runs: that check reads the body
    under the application's own limit, far lower, and would refuse any real file."""
    request.max_content_length = max_bytes + MULTIPART_ALLOWANCE
    try:
        if _csrf_enabled():
            csrf.protect()
        return form_class()
    except RequestEntityTooLarge:
        return None


def too_large_message(max_bytes: int) -> str:
    return _("The file is larger than %(size)s MB.", size=max_bytes // (1024 * 1024))


def _case_for(reference: str, action: Action) -> Case:
    """The case, if the user may see it listed (else 404) and do the action (else 403)."""
    case = find_case(db.session, ascii_digits(reference))
    if case is None or not can_list(g.user, case):
        abort(404)
    if not can(g.user, action, case):
        abort(403)
    return case


# --- template helpers for the partials the case page includes -------------------------------

@bp.app_template_global("may_view_documents")
def may_view_documents(user: User | None, case: Case) -> bool:
    return user is not None and can(user, Action.VIEW, case)


@bp.app_template_global("may_attach_documents")
def may_attach_documents(user: User | None, case: Case) -> bool:
    return user is not None and can(user, Action.ATTACH, case)


@bp.app_template_global("new_document_form")
def new_document_form() -> DocumentForm:
    """The upload form as the case page first shows it: empty, no errors."""
    return DocumentForm(formdata=None)


@bp.app_template_global("new_reveal_form")
def new_reveal_form() -> RevealForm:
    """The reveal form as the case page first shows it: empty, no errors."""
    return RevealForm(formdata=None)


@bp.app_template_global("may_reveal_contact")
def may_reveal_contact(user: User | None, case: Case) -> bool:
    """The reveal form is offered only to whom the route would allow, and only with consent."""
    return (user is not None and sees_contact_details(user)
            and can(user, Action.REVEAL_CONTACT, case) and case.consent_to_contact is True
            and case.contact is not None and case.contact.address_encrypted is not None)


@bp.app_template_filter("records_time")
def records_time(value: datetime | None) -> str:
    if value is None:
        return ""
    zone = ZoneInfo(services().settings.sawti_timezone)
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("records_size")
def records_size(size: int) -> str:
    if size < 1024:
        return ngettext("%(num)s byte", "%(num)s bytes", size)
    if size < 1024 * 1024:
        kilobytes = format(size / 1024, ".0f")
        return _("%(size)s KB", size=kilobytes)
    megabytes = format(size / (1024 * 1024), ".1f")
    return _("%(size)s MB", size=megabytes)


# --- documents ------------------------------------------------------------------------------

class DocumentForm(FlaskForm):
    """The upload form: drawn with the console's field macros, so that a refused file's reason
    is shown under the file field and read with it."""

    class Meta:
        csrf = False  # checked by the route, once the larger request limit is set

    file = FileField(_l("Attach a file"))


@bp.post("/cases/<reference>/documents")
@csrf.exempt  # checked by posted_upload, once the larger request limit of this route is set
@roles_required(*CASE_ROLES)
def upload_document(reference: str) -> ResponseReturnValue:
    case = _case_for(reference, Action.ATTACH)
    form = posted_upload(DocumentForm, MAX_DOCUMENT_BYTES)
    if form is None:
        return _too_large_document(case, DocumentForm(formdata=None))
    upload = form.file.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return _refused_upload(case, form, "no_file", _("Choose a file to attach."))
    content = upload.stream.read(MAX_DOCUMENT_BYTES + 1)
    try:
        attach_document(db.session, services().attachment_store, case, g.user, upload.filename,
                        content, actor=staff_actor(g.user))
    except DocumentRefused as refused:
        db.session.rollback()
        if refused.reason == "too_large":
            return _too_large_document(case, form)
        if refused.reason == "empty":
            return _refused_upload(case, form, refused.reason, _("The file is empty."))
        return _refused_upload(case, form, refused.reason, _(
            "This type of file is not accepted. Attach a PDF, an image (PNG, JPEG, GIF, WebP) "
            "or a recording (OGG, MP3, WAV, M4A)."))
    db.session.commit()
    flash(_("The document was attached."), "info")
    return redirect(case_path(case.reference))


def _too_large_document(case: Case, form: DocumentForm) -> ResponseReturnValue:
    return _refused_upload(case, form, "too_large", too_large_message(MAX_DOCUMENT_BYTES),
                           status=413)


def _refused_upload(case: Case, form: DocumentForm, reason: str, message: str,
                    status: int = 400) -> ResponseReturnValue:
    """The case page again, the reason under the file field (and atop the page)."""
    from admin.case import Refusal, render_case  # the case page imports this module

    form.file.errors = [message]
    return render_case(case, status, forms={"document": form},
                       refusal=Refusal("documents", reason, message))


@bp.get("/cases/<reference>/documents/<int:document_id>")
@roles_required(*CASE_ROLES)
def document(reference: str, document_id: int) -> ResponseReturnValue:
    case = _case_for(reference, Action.VIEW)
    found = db.session.get(CaseDocument, document_id)
    if found is None or found.case_id != case.id:
        abort(404)
    try:
        content = read_document(db.session, services().attachment_store, found,
                                actor=staff_actor(g.user))
    except FileNotFoundError:
        db.session.rollback()
        abort(404, description=_("The file of this document is missing from storage."))
    db.session.commit()
    response = send_file(BytesIO(content), mimetype=found.content_type, as_attachment=True,
                         download_name=found.filename, conditional=False, etag=False,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _csrf_enabled() -> bool:
    config = current_app.config
    return bool(config.get("WTF_CSRF_ENABLED", True) and config.get("WTF_CSRF_CHECK_DEFAULT", True))


# --- revealing the contact address -----------------------------------------------------------

REASON_NEEDED = _l("Give the reason you need the contact details.")


class RevealForm(FlaskForm):
    reason = TextAreaField(_l("Why do you need the contact details?"),
                           validators=[DataRequired(message=REASON_NEEDED),
                                       max_length(MAX_REASON_LENGTH)])


@bp.post("/cases/<reference>/contact")
@roles_required(Role.OFFICER, Role.PSEA)
def reveal_contact(reference: str) -> ResponseReturnValue:
    case = _case_for(reference, Action.REVEAL_CONTACT)
    if not sees_contact_details(g.user):
        abort(403, description=_("Your role cannot see contact details."))
    if case.consent_to_contact is not True:
        abort(403, description=_("The person did not consent to be contacted; their contact "
                                 "details cannot be revealed."))
    contact = case.contact
    if contact is None or contact.address_encrypted is None:
        abort(404, description=_("This case has no contact details."))
    form = RevealForm()
    reason = clean_text(form.reason.data) if form.validate_on_submit() else ""
    if not reason:
        return _revealed_page(case, form, address=None), 400
    try:
        address = services().vault.decrypt(contact.address_encrypted)
    except AddressDecryptionError:
        abort(500, description=_("The contact details cannot be decrypted with the configured "
                                 "key."))
    # The reason is written by staff and belongs in the record; the address never does.
    audit.record(db.session, "contact.revealed", case=case, actor=staff_actor(g.user),
                 reason=reason, channel=contact.channel)
    db.session.commit()
    return _revealed_page(case, form, address=address)


def _revealed_page(case: Case, form: RevealForm, address: str | None) -> str:
    if address is None and not form.reason.errors:
        form.reason.errors = [str(REASON_NEEDED)]
    return render_template_string(REVEALED_PAGE, case=case, revealed_address=address,
                                  reveal_form=form, title=_("Contact details"),
                                  back_to=case_path(case.reference))
