"""Console: the information line's entries, how often each answered and satisfied, and the
questions nothing answered yet.

Officers (and PSEA staff and administrators) write and approve entries; a change to an entry
needs approving again before the line sends it. Every change is audited. Viewers and focal
points have no access.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, DateField, Field, StringField, TextAreaField
from wtforms.validators import Optional

from admin import bp
from admin.documents import posted_upload
from admin.forms import ChoicesField, ConfirmForm, MultiCheckboxField
from admin.security import roles_required
from casework import faq, info
from casework.documents import DocumentRefused, check
from casework.faq import QUESTION_KINDS
from casework.models import InfoEntry, Role, utcnow
from casework.replies import MAX_AUDIO_BYTES, PLAYABLE_AUDIO_TYPES
from extensions import csrf, db
from services import services

EDITORS = (Role.OFFICER, Role.PSEA, Role.ADMIN)


class EntryForm(FlaskForm):
    code = StringField(_l("Short name (letters, digits, _)"))
    question_ar = TextAreaField(_l("Question in Arabic"))
    question_en = TextAreaField(_l("Question in English"))
    question_ckb = TextAreaField(_l("Question in Kurdish (Sorani)"))
    answer_ar = TextAreaField(_l("Answer in Arabic"))
    answer_en = TextAreaField(_l("Answer in English"))
    answer_ckb = TextAreaField(_l("Answer in Kurdish (Sorani)"))
    keywords = TextAreaField(_l("Topic words, one per line (a word ending in * matches every "
                                "word it begins)"))
    also = TextAreaField(_l("Words one of which must also occur, one per line (optional)"))
    asks = MultiCheckboxField(_l("What the entry answers"))
    unless = TextAreaField(_l("Words that mean the message is about something else, one per "
                              "line (optional)"))
    examples = TextAreaField(_l("Ways people ask, one per line"))
    locations = ChoicesField(_l("Locations (none chosen: everywhere)"))
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid until"), validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)


class AudioForm(FlaskForm):
    audio = FileField(_l("Recorded answer for the voice line (MP3 or WAV)"))


# Why a recording is refused, by the reason ``casework.documents.check`` gives (or "type": a
# file of another kind than the voice line plays).
AUDIO_REFUSALS = {
    "empty": _l("The file is empty."),
    "too_large": _l("The recording is larger than %(size)d MB.",
                    size=MAX_AUDIO_BYTES // (1024 * 1024)),
    "type": _l("The recording must be an MP3 or WAV file."),
    # The CSRF check failed (a session ended, a page left open): the browser does not keep a
    # chosen file when the page is shown again.
    "expired": _l("This form had expired. Choose the file again and send it."),
}


REFUSALS = {
    "code": _l("Give a short name of letters, digits and _ (at most 64)."),
    "code_taken": _l("Another entry has this short name."),
    "too_long": _l("A question or an answer is longer than 2000 characters."),
    "no_answer": _l("Write the answer in Arabic or in English."),
    "no_keywords": _l("Give at least one topic word."),
    "keywords": _l("A word list has an empty or invalid word."),
    "dates": _l("The entry cannot end before it starts."),
}


@bp.get("/info", endpoint="info_entries")
@roles_required(*EDITORS)
def entries() -> ResponseReturnValue:
    return render_template("admin/info.html", usage=info.usage(db.session),
                           unmatched=info.unmatched(db.session, g.user), today=date.today(),
                           confirm=ConfirmForm())


@bp.route("/info/new", methods=["GET", "POST"], endpoint="new_info_entry")
@roles_required(*EDITORS)
def new_entry() -> ResponseReturnValue:
    return _edit(None)


@bp.route("/info/<int:entry_id>", methods=["GET", "POST"], endpoint="edit_info_entry")
@roles_required(*EDITORS)
def edit_entry(entry_id: int) -> ResponseReturnValue:
    return _edit(db.session.get(InfoEntry, entry_id) or abort(404))


@bp.post("/info/<int:entry_id>/approve", endpoint="approve_info_entry")
@roles_required(*EDITORS)
def approve_entry(entry_id: int) -> ResponseReturnValue:
    entry = db.session.get(InfoEntry, entry_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired. Reload the page and try again."))
    info.approve(db.session, g.user, entry, utcnow())
    flash(_("Approved: the information line may send this answer."), "info")
    return redirect(url_for("admin.info_entries"))


@bp.post("/info/<int:entry_id>/audio", endpoint="info_entry_audio")
@csrf.exempt  # checked by posted_upload, once the larger request limit of this route is set
@roles_required(*EDITORS)
def upload_audio(entry_id: int) -> ResponseReturnValue:
    entry = db.session.get(InfoEntry, entry_id) or abort(404)
    try:
        form = posted_upload(AudioForm, MAX_AUDIO_BYTES)
    except CSRFError:
        return _refused_audio(entry, AudioForm(formdata=None), "expired")
    if form is None:
        return _refused_audio(entry, AudioForm(formdata=None), "too_large")
    if not form.validate_on_submit():  # its only check is the CSRF token's
        return _refused_audio(entry, AudioForm(formdata=None), "expired")
    upload = form.audio.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        info.set_audio(db.session, g.user, entry, None, None, utcnow())
        flash(_("The recorded answer was removed."), "info")
        return redirect(url_for("admin.edit_info_entry", entry_id=entry.id))
    content = upload.stream.read(MAX_AUDIO_BYTES + 1)
    try:
        checked = check(content, upload.filename, MAX_AUDIO_BYTES)
    except DocumentRefused as refused:
        return _refused_audio(entry, form, refused.reason)
    if checked.content_type not in PLAYABLE_AUDIO_TYPES:
        return _refused_audio(entry, form, "type")
    key = services().attachment_store.save(content)
    info.set_audio(db.session, g.user, entry, key, checked.content_type, utcnow())
    flash(_("The recorded answer was saved."), "info")
    return redirect(url_for("admin.edit_info_entry", entry_id=entry.id))


def _refused_audio(entry: InfoEntry, form: AudioForm, reason: str) -> ResponseReturnValue:
    """The entry's page again, the reason under the file field (and atop the page); the
    entry's own form as it is stored."""
    message = str(AUDIO_REFUSALS.get(reason, AUDIO_REFUSALS["type"]))
    form.audio.errors = [message]
    return _page(_entry_form(entry, bound=False), entry, refusal=message, audio_form=form,
                 status=413 if reason == "too_large" else 400)


@bp.get("/info/<int:entry_id>/audio", endpoint="info_entry_audio_file")
@roles_required(*EDITORS)
def play_audio(entry_id: int) -> ResponseReturnValue:
    entry = db.session.get(InfoEntry, entry_id) or abort(404)
    if not entry.audio_storage_key:
        abort(404)
    content = services().attachment_store.read(entry.audio_storage_key)
    response = Response(content, mimetype=entry.audio_content_type or "audio/mpeg")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _edit(entry: InfoEntry | None) -> ResponseReturnValue:
    form = _entry_form(entry)
    refusal = None
    if form.validate_on_submit():
        try:
            saved = info.save_entry(db.session, g.user, entry, _values(form), utcnow())
        except info.EntryRefused as refused:
            refusal = _refused(form, refused.reason)
        else:
            flash(_("The entry was saved. It is sent only once it is approved."), "info")
            return redirect(url_for("admin.edit_info_entry", entry_id=saved.id))
    return _page(form, entry, refusal=refusal, status=400 if form.is_submitted() else 200)


def _entry_form(entry: InfoEntry | None, bound: bool = True) -> EntryForm:
    """The entry's form: as posted (``bound``), else as the entry is stored."""
    data = _as_form_data(entry) if entry is not None else None
    form = EntryForm(obj=data) if bound else EntryForm(formdata=None, obj=data)
    form.asks.choices = [(kind, _question_kind(kind)) for kind in QUESTION_KINDS]
    form.locations.choices = _locations()
    return form


def _page(form: EntryForm, entry: InfoEntry | None, *, refusal: str | None = None,
          audio_form: AudioForm | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("admin/info_entry.html", form=form, entry=entry, refusal=refusal,
                           audio_form=audio_form or AudioForm(formdata=None),
                           confirm=ConfirmForm(formdata=None)), status


# The field a refusal is about, when it is about one field (the reason alone says which).
REFUSAL_FIELDS = {"code": "code", "code_taken": "code", "no_answer": "answer_ar",
                  "no_keywords": "keywords", "dates": "valid_to"}
WORD_LISTS = ("keywords", "also", "unless")


def _refused(form: EntryForm, reason: str) -> str:
    """Put the refusal's message under the field it is about, as that field's error (WCAG
    3.3.1); return what the top of the form says (the message itself if no field is marked)."""
    message = str(REFUSALS.get(reason, reason))
    field = _refused_field(form, reason)
    if field is None:
        return message
    field.errors = [*field.errors, message]
    return _("Check the fields marked below.")


def _refused_field(form: EntryForm, reason: str) -> Field | None:
    if reason == "too_long":  # which text: the first that is too long
        return next((form[name] for name in info.TEXTS
                     if len((form[name].data or "").strip()) > info.MAX_TEXT), None)
    if reason == "keywords":  # which word list: the first that does not parse
        for name in WORD_LISTS:
            words = [line.strip() for line in (form[name].data or "").splitlines()]
            try:
                faq.parse_keywords([word for word in words if word])
            except ValueError:
                return form[name]
        return None
    name = REFUSAL_FIELDS.get(reason)
    return form[name] if name else None


class _FormData:
    """An entry seen as the form wants it: lists as lines."""

    def __init__(self, entry: InfoEntry) -> None:
        for name in info.EDITABLE:
            value = getattr(entry, name)
            if name in ("keywords", "also", "unless", "examples"):
                value = "\n".join(value or [])
            setattr(self, name, value)


def _as_form_data(entry: InfoEntry) -> _FormData:
    return _FormData(entry)


def _values(form: EntryForm) -> dict[str, object]:
    def lines(text: str | None) -> list[str]:
        return [line.strip() for line in (text or "").splitlines() if line.strip()]
    return {
        "code": form.code.data, **{name: form[name].data for name in info.TEXTS},
        "keywords": lines(form.keywords.data),
        "also": lines(form.also.data), "asks": form.asks.data or [],
        "unless": lines(form.unless.data), "examples": lines(form.examples.data),
        "locations": form.locations.data or [], "valid_from": form.valid_from.data,
        "valid_to": form.valid_to.data, "active": bool(form.active.data),
    }


def _locations() -> list[tuple[str, str]]:
    locale = str(get_locale() or "ar")
    return [(governorate.code, governorate.name(locale))
            for governorate in services().org_data.governorates]


def _question_kind(kind: str) -> str:
    return {"when": _("When"), "where": _("Where"), "how": _("How"),
            "how_much": _("How much"), "why": _("Why"), "what": _("What"),
            "can": _("Can I / is it (yes or no)"), "who": _("Who")}.get(kind, kind)
