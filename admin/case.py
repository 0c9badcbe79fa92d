"""Console: one case — its whole timeline and what a case handler does to it.

Authorisation is ``casework.access`` on the server, for every request:
- a case the user may not see listed does not exist for them (404);
- listed but not openable (an officer and a sensitive case): a restricted summary only;
- each action checks ``can(user, Action.X, case)`` (403 when not allowed).
Every look at a sensitive case is audited (``case.viewed``). Contact details are never shown
here (``_case_contact.html`` handles the reveal action).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from admin import bp
from admin.audit_labels import actor_label
from admin.documents import posted_upload
from admin.languages import lang_attrs, localised
from admin.security import login_required
from casework import audit, cases
from casework import triage as assistant
from casework.access import Action, can, can_list
from casework.cases import CaseActionRefused
from casework.channel_names import channel_name
from casework.models import (
    Attachment,
    CannedResponse,
    Case,
    DeliveryStatus,
    InfoAnswer,
    InfoEntry,
    Message,
    Referral,
    Role,
    TriageSuggestion,
    User,
    utcnow,
)
from casework.programme import list_projects
from casework.replies import MAX_AUDIO_BYTES, ReplyAudio, ReplyRefused, queue_reply
from casework.status_names import status_name
from casework.text import as_written, ascii_digits
from extensions import csrf, db
from services import services

DEFAULT_REFERRAL_DAYS = 7
MAX_ID = 2**31 - 1  # ids beyond any row (and beyond what the database driver would bind)
# Served inline only when a browser cannot run them; anything else is a download.
INLINE_PREFIXES = ("audio/", "image/")
NOT_INLINE = ("image/svg+xml",)


# --- forms (every field is validated by casework.cases, which gives the reason codes) ----

class TriageForm(FlaskForm):
    level = SelectField(_l("Level"), validate_choice=False)
    category = SelectField(_l("Category"), validate_choice=False)
    location = SelectField(_l("Location"), validate_choice=False)
    project = StringField(_l("Project"))
    project_id = SelectField(_l("Linked programme project"), validate_choice=False)
    gender = SelectField(_l("Gender"), validate_choice=False)
    age_group = SelectField(_l("Age group"), validate_choice=False)
    urgent = BooleanField(_l("Urgent"))


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Internal note (never sent to the person)"))


class ReferralForm(FlaskForm):
    to_user = SelectField(_l("Refer to"), validate_choice=False)
    due_date = StringField(_l("Answer due by"), render_kw={"type": "date"})
    message = TextAreaField(_l("Message to the focal point"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"))


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Reply to the person"))
    audio = FileField(_l("Or a recorded answer to play in the call (MP3 or WAV)"))


class CloseForm(FlaskForm):
    resolution = TextAreaField(_l("Resolution: how the case was answered"))
    seen_message = HiddenField()  # the person's latest message on the page (see cases.close)


class ReopenForm(FlaskForm):
    pass


class MergeForm(FlaskForm):
    into_reference = StringField(_l("Reference of the case that continues"))


REFUSALS = {
    "empty": _l("This field is empty."),
    "too_long": _l("The text is too long."),
    "too_long_for_channel": _l("An SMS or WhatsApp message can carry at most 1,600 "
                               "characters: shorten the reply, or send it as two replies."),
    "invalid_level": _l("Choose a level of the grid."),
    "invalid_category": _l("Choose a category from the list."),
    "invalid_location": _l("Choose a location from the list."),
    "project_too_long": _l("The project name is longer than 64 characters."),
    "unknown_project": _l("Choose a programme project from the list."),
    "invalid_gender": _l("Choose a gender from the list."),
    "invalid_age_group": _l("Choose an age group from the list."),
    "invalid_recipient": _l("Refer to an active focal point, or to a colleague who can open "
                            "this case."),
    "due_required": _l("Give the date the answer is due."),
    "invalid_due": _l("The due date is not a valid date."),
    "due_in_past": _l("The due date must be in the future."),
    "closed": _l("A closed case cannot be referred; reopen it first."),
    "already_answered": _l("This referral was answered already."),
    "already_closed": _l("The case is closed already."),
    "unread_message": _l("The person wrote again after you opened the case. Read the new "
                         "message below before closing it; what you typed is kept."),
    "resolution_required": _l("Say how the case was resolved before closing it."),
    "not_closed": _l("Only a closed case can be reopened."),
    "already_merged": _l("This case is merged already."),
    "into_required": _l("Give the reference of the case to merge into."),
    "invalid_reference": _l("This is not a valid case reference; check the digits."),
    "same_case": _l("A case cannot be merged into itself."),
    "into_not_found": _l("There is no case with this reference that you can open."),
    "into_merged": _l("That case is itself merged into another; merge into the case that "
                      "continues."),
    "no_contact": _l("This case has no contact address to reply to."),
    "opted_out": _l("The person opted out; they get messages again only after writing to us."),
    "audio_channel": _l("A recorded answer can only be sent on the voice line; write the "
                        "reply instead."),
    "audio_type": _l("The recording must be an MP3 or WAV file."),
    "audio_too_large": _l("The recording is larger than %(size)d MB.",
                          size=MAX_AUDIO_BYTES // (1024 * 1024)),
    "csrf": _l("The form has expired. Reload the page and try again."),
    "invalid_form": _l("The form could not be read. Check it and try again."),
}


# The field of each form a refusal is about, by form (a section of the page) and reason: the
# message is also shown under that field, which it describes. A reason not listed here is
# about the form as a whole (the case is closed, the person opted out…).
_TRIAGE_FIELDS = {"invalid_level": "level", "invalid_category": "category",
                  "invalid_location": "location", "project_too_long": "project",
                  "unknown_project": "project_id", "invalid_gender": "gender",
                  "invalid_age_group": "age_group"}
REFUSAL_FIELDS: dict[str, dict[str, str]] = {
    "triage": _TRIAGE_FIELDS,
    "note": {"empty": "note", "too_long": "note"},
    "refer": {"invalid_recipient": "to_user", "due_required": "due_date",
              "invalid_due": "due_date", "due_in_past": "due_date", "empty": "message",
              "too_long": "message"},
    "answer": {"empty": "answer", "too_long": "answer"},
    "reply": {"empty": "reply", "too_long": "reply", "too_long_for_channel": "reply",
              "audio_channel": "audio", "audio_type": "audio", "audio_too_large": "audio"},
    "close": {"resolution_required": "resolution", "too_long": "resolution"},
    "merge": {"into_required": "into_reference", "invalid_reference": "into_reference",
              "same_case": "into_reference", "into_not_found": "into_reference",
              "into_merged": "into_reference"},
}


@dataclass(frozen=True)
class Refusal:
    section: str  # which form on the page it belongs to
    reason: str
    message: str


# --- the page ---------------------------------------------------------------------------

@bp.get("/cases/<reference>", endpoint="case")
@login_required
def case_page(reference: str) -> ResponseReturnValue:
    return _render(_listed_case(reference))


@bp.get("/cases/<reference>/attachments/<int:attachment_id>", endpoint="case_attachment")
@login_required
def case_attachment(reference: str, attachment_id: int) -> ResponseReturnValue:
    case = _listed_case(reference)
    _require(case, Action.VIEW)
    if attachment_id > MAX_ID:
        abort(404)
    attachment = db.session.scalars(
        select(Attachment).join(Message).where(Attachment.id == attachment_id,
                                               Message.case_id == case.id)).first()
    if attachment is None or not attachment.storage_key:
        abort(404)
    try:
        content = services().attachment_store.read(attachment.storage_key)
    except (OSError, ValueError):
        abort(404)
    if case.sensitive:
        audit.record(db.session, "case.viewed", case=case, actor=cases.actor_name(g.user),
                     part="attachment", attachment_id=attachment.id)
        db.session.commit()
    content_type = (attachment.content_type or "").strip().lower()
    inline = content_type.startswith(INLINE_PREFIXES) and \
        not content_type.startswith(NOT_INLINE)
    response = Response(content, mimetype=content_type if inline else
                        "application/octet-stream")
    response.headers["Content-Disposition"] = "inline" if inline else \
        f'attachment; filename="attachment-{attachment.id}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Whatever the bytes are, they never run as a page of this site.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- actions ------------------------------------------------------------------------------

@bp.post("/cases/<reference>/triage", endpoint="case_triage")
@login_required
def triage(reference: str) -> ResponseReturnValue:
    case = _listed_case(reference)
    _require(case, Action.TRIAGE)
    form = _triage_form(case, bound=True)

    def perform() -> str:
        values = {"level": form.level.data, "category": form.category.data,
                  "location": form.location.data, "project": form.project.data,
                  "project_id": form.project_id.data or None,
                  "gender": form.gender.data, "age_group": form.age_group.data,
                  "urgent": bool(form.urgent.data)}
        cases.triage(db.session, g.user, case, values, utcnow(),
                     org_data=services().org_data)
        if case.sensitive and not can(g.user, Action.VIEW, case):
            return _("Triage saved. The case is now sensitive: it is restricted to the PSEA "
                     "focal points, who were notified.")
        return _("Triage saved.")
    return _act(case, "triage", form, perform)


@bp.post("/cases/<reference>/notes", endpoint="case_note")
@login_required
def add_note(reference: str) -> ResponseReturnValue:
    case = _listed_case(reference)
    _require(case, Action.NOTE)
    form = NoteForm()

    def perform() -> str:
        cases.add_note(db.session, g.user, case, form.note.data, utcnow())
        return _("Note added.")
    return _act(case, "note", form, perform)


@bp.post("/cases/<reference>/referrals", endpoint="case_refer")
@login_required
def refer(reference: str) -> ResponseReturnValue:
    case = _listed_case(reference)
    _require(case, Action.REFER)
    form = _referral_form(case, bound=True)

    def perform() -> str:
        to_user = _user(form.to_user.data)
        due_at = _due_at(form.due_date.data)
        referral = cases.refer(db.session, g.user, case, to_user, due_at, form.message.data,
                               utcnow())
        return _("Case referred to %(name)s.", name=_person(referral.to_user))
    return _act(case, "refer", form, perform)


@bp.post("/cases/<reference>/referrals/<int:referral_id>/answer",
         endpoint="case_answer_referral")
@login_required
def answer_referral(reference: str, referral_id: int) -> ResponseReturnValue:
    case = _listed_case(reference)
    _require(case, Action.ANSWER_REFERRAL)
    referral = db.session.get(Referral, referral_id) if referral_id <= MAX_ID else None
    if referral is None or referral.case_id != case.id:
        abort(404)
    if referral.to_user_id != g.user.id:
        abort(403)  # someone else's referral on a case also referred to this user
    form = AnswerForm()

    def perform() -> str:
        cases.answer_referral(db.session, g.user, case, referral, form.answer.data, utcnow())
        return _("Your answer was added to the case.")
    return _act(case, f"answer-{referral.id}", form, perform)


@bp.post("/cases/<reference>/reply", endpoint="case_reply")
@csrf.exempt  # checked by posted_upload, once the larger request limit of this route is set
@login_required
def reply(reference: str) -> ResponseReturnValue:
    case = _listed_case(reference)
    _require(case, Action.REPLY)
    form = posted_upload(ReplyForm, MAX_AUDIO_BYTES)
    if form is None:  # a recording far too large: nothing of the request could be read
        form = ReplyForm(formdata=None)
        text = str(REFUSALS["audio_too_large"])
        _mark_field(form, "reply", "audio_too_large", text)
        return _render(case, 413, forms={"reply": form},
                       refusal=Refusal("reply", "audio_too_large", text))

    def perform() -> str:
        now = utcnow()
        outlook = cases.deliverability(case, now, services().adapters)
        queue_reply(db.session, case, form.reply.data or "", actor=cases.actor_name(g.user),
                    now=now, audio=_uploaded_audio(form), store=services().attachment_store)
        if outlook.can_send_now:
            return _("Reply queued; it will be sent now.")
        return _("Reply saved, but it cannot be delivered now: %(why)s",
                 why=_deliverability_text(outlook.reason))
    return _act(case, "reply", form, perform)


@bp.post("/cases/<reference>/close", endpoint="case_close")
@login_required
def close(reference: str) -> ResponseReturnValue:
    case = _listed_case(reference)
    _require(case, Action.CLOSE)
    form = CloseForm()

    def perform() -> str:
        cases.close(db.session, g.user, case, form.resolution.data, utcnow(),
                    seen_message_id=_id(form.seen_message.data))
        return _("Case closed.")
    return _act(case, "close", form, perform)


@bp.post("/cases/<reference>/reopen", endpoint="case_reopen")
@login_required
def reopen(reference: str) -> ResponseReturnValue:
    case = _listed_case(reference)
    _require(case, Action.REOPEN)
    form = ReopenForm()

    def perform() -> str:
        cases.reopen(db.session, g.user, case, utcnow())
        return _("Case reopened.")
    return _act(case, "reopen", form, perform)


@bp.post("/cases/<reference>/merge", endpoint="case_merge")
@login_required
def merge(reference: str) -> ResponseReturnValue:
    case = _listed_case(reference)
    _require(case, Action.MERGE)
    form = MergeForm()

    def perform() -> str:
        into = cases.merge(db.session, g.user, case, form.into_reference.data, utcnow())
        return _("Case merged into %(reference)s.", reference=into.reference)
    return _act(case, "merge", form, perform)


# --- plumbing -----------------------------------------------------------------------------

def _listed_case(reference: str) -> Case:
    """The case, if this user may see it listed; otherwise it does not exist for them."""
    found = db.session.scalars(
        select(Case).where(Case.reference == ascii_digits(reference).strip())).first()
    if found is None or not can_list(g.user, found):
        abort(404)
    return found


def _require(case: Case, action: Action) -> None:
    if not can(g.user, action, case):
        abort(403)


def _act(case: Case, section: str, form: FlaskForm, perform: Callable[[], str]
         ) -> ResponseReturnValue:
    """Validate the form (CSRF), run the service, then redirect with a flash or re-render."""
    if not form.validate_on_submit():
        reason = "csrf" if "csrf_token" in form.errors else "invalid_form"
        return _render(case, 400, forms={section: form},
                       refusal=Refusal(section, reason, str(REFUSALS[reason])))
    try:
        message = perform()
    except (CaseActionRefused, ReplyRefused) as refused:
        db.session.rollback()
        text = str(REFUSALS[refused.reason]) if refused.reason in REFUSALS else str(refused)
        _mark_field(form, section, refused.reason, text)
        return _render(case, 400, forms={section: form},
                       refusal=Refusal(section, refused.reason, text))
    flash(message, "info")
    if not can_list(g.user, case):  # e.g. a PSEA focal point lowered the level
        return redirect(url_for("admin.home"))
    anchor = "answers" if section.startswith("answer-") else section
    return redirect(url_for("admin.case", reference=case.reference, _anchor=anchor))


def _mark_field(form: FlaskForm, section: str, reason: str, text: str) -> None:
    """Put the refusal's message on the field it is about, if it is about one."""
    name = REFUSAL_FIELDS.get(section.split("-")[0], {}).get(reason)
    if name is not None:
        form[name].errors = [*form[name].errors, text]


def render_case(case: Case, status: int = 200, *, forms: dict[str, FlaskForm] | None = None,
                refusal: Refusal | None = None) -> ResponseReturnValue:
    """The case page; ``forms`` are submitted forms shown again with their errors."""
    return _render(case, status, forms=forms, refusal=refusal)


def _render(case: Case, status: int = 200, *, forms: dict[str, FlaskForm] | None = None,
            refusal: Refusal | None = None) -> ResponseReturnValue:
    user = g.user
    openable = can(user, Action.VIEW, case)
    if case.sensitive:
        audit.record(db.session, "case.viewed", case=case, actor=cases.actor_name(user),
                     part="page" if openable else "summary")
        db.session.commit()
    labels = _Labels(services().org_data, _locale())
    if not openable:
        return render_template("admin/case.html", case=case, restricted=True, labels=labels,
                               local_time=_local_time), status
    forms = forms or {}
    now = utcnow()
    allowed = {action.value: can(user, action, case) for action in Action}
    answers = [(referral, forms.get(f"answer-{referral.id}") or AnswerForm(formdata=None))
               for referral in case.referrals
               if allowed["answer_referral"] and referral.to_user_id == user.id
               and referral.answered_at is None]
    canned = list(db.session.scalars(
        select(CannedResponse).where(CannedResponse.active.is_(True))
        .order_by(CannedResponse.title))) if allowed["reply"] else []
    entries = cases.timeline(db.session, case)
    emails = {entry.actor for entry in entries if entry.actor and "@" in entry.actor}
    labels.names = {staff.email: staff.name or staff.email for staff in db.session.scalars(
        select(User).where(User.email.in_(emails)))} if emails else {}
    context: dict[str, Any] = {
        "case": case, "restricted": False, "labels": labels, "local_time": _local_time,
        "allowed": allowed, "refusal": refusal, "now": now, "entries": entries,
        "merged_into": db.session.get(Case, case.merged_into_id) if case.merged_into_id
        else None,
        "resolution": cases.resolution(db.session, case),
        "answers": answers, "canned": canned,
        "canned_id": request.args.get("canned", ""),
        "outlook": cases.deliverability(case, now, services().adapters),
        "deliverability_text": _deliverability_text,
        "assistant": _assistant_view(case, labels),
        "info_unsatisfied": db.session.scalar(select(InfoAnswer.id).where(
            InfoAnswer.case_id == case.id, InfoAnswer.satisfied.is_(False)).limit(1)) is not None,
        "triage_form": forms.get("triage") or _triage_form(case),
        "note_form": forms.get("note") or NoteForm(formdata=None),
        "refer_form": forms.get("refer") or _referral_form(case),
        "reply_form": forms.get("reply") or _reply_form(case),
        "close_form": _close_form(case, forms.get("close")),
        "reopen_form": forms.get("reopen") or ReopenForm(formdata=None),
        "merge_form": forms.get("merge") or MergeForm(formdata=None),
        "document_form": forms.get("document"),  # a refused upload (admin.documents)
    }
    return render_template("admin/case.html", **context), status


@dataclass(frozen=True)
class AssistantView:
    """What the triage assistant said of the case's messages, merged, for the triage card."""

    sensitive: bool
    urgent: bool
    category: str | None
    category_name: str | None
    level: int | None
    words: list[str]


def _assistant_view(case: Case, labels: _Labels) -> AssistantView | None:
    suggestions = assistant.suggestions_for(db.session, case)
    if not suggestions:
        return None
    flagged = [item for item in suggestions if item.sensitive or item.urgent]
    # A flag's category outweighs what later messages suggest («ما هي حالة شكواي؟» after a
    # report of a bribe is a question about the bribe, not a request for information).
    with_category = [item for item in suggestions if item.category]
    preferred = [item for item in with_category if item.sensitive or item.urgent] or with_category
    latest = preferred[-1] if preferred else suggestions[-1]
    words = dict.fromkeys(word for item in flagged for word in _flagged_words(item))
    category = services().org_data.category(latest.category)
    return AssistantView(
        sensitive=any(item.sensitive for item in suggestions),
        urgent=any(item.urgent for item in suggestions),
        category=latest.category, category_name=category.name(labels.locale) if category
        else None,
        level=max((item.level for item in suggestions if item.level is not None), default=None),
        words=list(words))


def _flagged_words(suggestion: TriageSuggestion) -> list[str]:
    """The words a flag rests on, as the person wrote them (the assistant keeps its keys)."""
    keys = [word for hit in suggestion.hits if hit.get("flag") for word in hit.get("words", [])]
    body = suggestion.message.body if suggestion.message is not None else None
    return as_written(body, keys, assistant.arabizi_letters) if body else keys


def _triage_form(case: Case, bound: bool = False) -> TriageForm:
    if bound:
        form = TriageForm()
    else:
        # Not graded yet: the assistant's suggestion is offered, for the officer to confirm.
        suggested = _assistant_view(case, _Labels(services().org_data, _locale())) \
            if case.level is None or case.category is None else None
        level = case.level if case.level is not None else (suggested.level if suggested else None)
        form = TriageForm(formdata=None, data={
            "level": "" if level is None else str(level),
            "category": case.category or (suggested.category if suggested else "") or "",
            "location": case.location or "",
            "project": case.project or "", "project_id": str(case.project_id or ""),
            "gender": case.gender or "",
            "age_group": case.age_group or "", "urgent": case.urgent})
    org, locale = services().org_data, _locale()
    levels = [(str(level.level), f"{level.level} — {level.name(locale)}")
              for level in org.grid.levels]
    form.level.choices = ([("", _("Not graded yet"))] if case.level is None else []) + levels
    form.category.choices = [("", _("Not set"))] + [
        (category.code, category.name(locale)) for category in org.categories]
    places = [("", _("Not known"))]
    for governorate in org.governorates:
        places.append((governorate.code, governorate.name(locale)))
        places += [(district.code, f"{governorate.name(locale)} / {district.name(locale)}")
                   for district in governorate.districts]
    form.location.choices = places
    form.project_id.choices = [("", _("None")), *((str(project.id), project.name)
                                                  for project in list_projects(db.session))]
    form.gender.choices = [("", _("Not recorded")), *_Labels.genders().items()]
    form.age_group.choices = [("", _("Not recorded")), *_Labels.age_groups().items()]
    return form


def _referral_form(case: Case, bound: bool = False) -> ReferralForm:
    if bound:
        form = ReferralForm()
    else:
        due = (utcnow().astimezone(_zone()).date() + timedelta(days=DEFAULT_REFERRAL_DAYS))
        form = ReferralForm(formdata=None, data={"due_date": due.isoformat()})
    roles = {Role.FOCAL_POINT: _("Focal point"), Role.PSEA: _("PSEA focal point"),
             Role.OFFICER: _("Accountability officer")}
    form.to_user.choices = [("", _("Choose a person"))] + [
        (str(user.id), f"{_person(user)} ({roles.get(Role(user.role), user.role)})")
        for user in cases.referral_targets(db.session, case) if user.id != g.user.id]
    return form


def _close_form(case: Case, submitted: FlaskForm | None) -> FlaskForm:
    """The close form, what was typed kept, carrying the latest message now on the page."""
    form = submitted or CloseForm(formdata=None)
    form.seen_message.data = str(cases.latest_inbound_id(db.session, case) or 0)
    return form


def _uploaded_audio(form: ReplyForm) -> ReplyAudio | None:
    upload = form.audio.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    return ReplyAudio(upload.stream.read(MAX_AUDIO_BYTES + 1), upload.filename)


def _reply_form(case: Case) -> ReplyForm:
    """The composer, pre-filled from a canned response when ``?canned=<id>`` asks for one."""
    text = ""
    canned_id = _id(request.args.get("canned"))
    if canned_id is not None:
        canned = db.session.get(CannedResponse, canned_id)
        if canned is not None and canned.active:
            preferred, other = ((canned.body_ar, canned.body_en) if _locale() == "ar"
                                else (canned.body_en, canned.body_ar))
            text = (preferred or other).replace("%(reference)s", case.reference)
    return ReplyForm(formdata=None, data={"reply": text})


def _user(value: str | None) -> User | None:
    user_id = _id(value)
    return db.session.get(User, user_id) if user_id is not None else None


def _id(value: str | None) -> int | None:
    """A row id typed or posted as text; None when it cannot be one."""
    text = ascii_digits(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _due_at(value: str | None) -> datetime | None:
    """The end of the chosen day, in the organisation's time zone."""
    if not value or not value.strip():
        return None
    try:
        day = date.fromisoformat(ascii_digits(value.strip()))
    except ValueError:
        raise CaseActionRefused("invalid_due", "The due date is not a valid date.") from None
    return datetime.combine(day, time(23, 59), tzinfo=_zone()).astimezone(UTC)


def _person(user: User | None) -> str:
    return (user.name or user.email) if user is not None else ""


def _locale() -> str:
    return str(get_locale() or "ar")


def _zone() -> ZoneInfo:
    return ZoneInfo(services().settings.sawti_timezone)


def _local_time(value: datetime | None) -> str:
    return value.astimezone(_zone()).strftime("%Y-%m-%d %H:%M") if value else ""


def _deliverability_text(reason: str | None) -> str:
    texts = {
        None: _("Will be sent now."),
        "opted_out": _("The person opted out: nothing is sent to them until they write "
                       "again."),
        "whatsapp_window": _("Held until they write again (WhatsApp 24 hours); they are told "
                             "that a reply is waiting."),
        "voice": _("The person used the voice line: the reply will be read to them in a "
                   "call-back, within calling hours."),
        "no_contact": _("There is no contact address: a reply cannot be sent."),
        "channel_unavailable": _("This channel is not available now: the reply waits in the "
                                 "outbox until it is."),
    }
    return texts.get(reason, reason or "")


class _Labels:
    """Names a person reads for the codes stored on cases, messages and audit rows."""

    def __init__(self, org: Any, locale: str) -> None:
        self.org, self.locale = org, locale
        self.names: dict[str, str] = {}  # staff email → name, for who did what

    @staticmethod
    def genders() -> dict[str, str]:
        return {"female": _("Female"), "male": _("Male"), "other": _("Other"),
                "unknown": _("Unknown")}

    @staticmethod
    def age_groups() -> dict[str, str]:
        return {"child": _("Child (under 18)"), "adult": _("Adult"),
                "elderly": _("Older person"), "unknown": _("Unknown")}

    def level(self, value: int | None) -> str:
        found = self.org.grid.get(value)
        return f"{found.level} — {found.name(self.locale)}" if found else _("Not graded yet")

    def category(self, code: str | None) -> str:
        found = self.org.category(code)
        return found.name(self.locale) if found else (code or _("Not set"))

    def location(self, code: str | None) -> str:
        found = self.org.location(code)
        if found is None:
            return code or _("Not known")
        parent = self.org.location(found.parent) if found.parent else None
        name = found.name(self.locale)
        return f"{parent.name(self.locale)} / {name}" if parent else name

    def status(self, value: str | None) -> str:
        return status_name(value, _)

    def delivery(self, value: str) -> str:
        return {DeliveryStatus.RECEIVED: _("Received"), DeliveryStatus.QUEUED: _("Queued"),
                DeliveryStatus.SENDING: _("Sending"), DeliveryStatus.SENT: _("Sent"),
                DeliveryStatus.DELIVERED: _("Delivered"), DeliveryStatus.READ: _("Read"),
                DeliveryStatus.FAILED: _("Not delivered"),
                DeliveryStatus.CANCELLED: _("Not sent"),
                DeliveryStatus.HELD: _("Held")}.get(value, value)

    def hold_reason(self, value: str | None) -> str:
        if value == "whatsapp_window":
            return _("until they write again (WhatsApp 24 hours)")
        return value or ""

    def channel(self, value: str) -> str:
        return channel_name(value, _)

    def actor(self, value: str | None) -> str:
        if value is None:
            return _("The person")
        return self.names.get(value) or actor_label(value)

    def automatic_resolution(self, entry: InfoEntry | None) -> str:
        if entry is None:
            return _("Answered automatically by the information line.")
        question, language = localised(entry.question_ar, entry.question_en)
        # The question may be in the other language (only that one written): marked so.
        said = Markup("<span{}>{}</span>").format(lang_attrs(language), question or entry.code)
        return escape(_("Answered automatically by the information line: %(question)s")
                      ) % {"question": said}

    def message_title(self, message: Message, actor: str | None) -> str:
        if message.direction == "in":
            return _("The person edited a message") if message.kind == "edit" \
                else _("The person wrote")
        if message.kind == "reply":
            return _("Reply by %(who)s", who=self.actor(actor))
        return _("Automatic message")

    def change(self, field: str, value: Any) -> str:
        """One side of a triage change, readable."""
        if value is None or value == "":
            return "—"
        shown: dict[str, Callable[[Any], str]] = {
            "level": self.level, "category": self.category, "location": self.location,
            "status": self.status,
            "gender": lambda code: self.genders().get(code, code),
            "age_group": lambda code: self.age_groups().get(code, code),
            "urgent": self.yes_no, "sensitive": self.yes_no,
            "due_at": lambda text: _local_time(datetime.fromisoformat(text)),
        }
        return shown.get(field, str)(value)

    @staticmethod
    def satisfaction(value: Any) -> str:
        return {1: _("satisfied"), 2: _("partly satisfied"), 3: _("not satisfied")}.get(
            value, str(value))

    @staticmethod
    def yes_no(value: Any) -> str:
        return _("Yes") if value else _("No")

    @staticmethod
    def field(name: str) -> str:
        return {"level": _("Level"), "category": _("Category"), "location": _("Location"),
                "project": _("Project"), "project_id": _("Linked programme project"),
                "gender": _("Gender"), "age_group": _("Age group"),
                "urgent": _("Urgent"), "sensitive": _("Sensitive"), "due_at": _("Due"),
                "status": _("Status")}.get(name, name)

    def event(self, event: Any) -> str:
        details = event.details or {}
        texts = {
            "case.created": lambda: _("Case opened from a message on %(channel)s",
                                      channel=self.channel(details.get("channel", ""))),
            "case.entered": lambda: _("Case entered by staff"),
            "case.acknowledged": lambda: _("The acknowledgement with the reference was sent"),
            "case.consent": lambda: (_("The person agreed to be contacted")
                                     if details.get("consent")
                                     else _("The person did not agree to be contacted")),
            "case.assigned": lambda: _("Case assigned"),
            "voice.unreachable": lambda: _("The person could not be reached by phone"),
            "voice.caller_reached": lambda: (
                _("The person who called was reached on a later call-back and left a "
                  "message: it opened case %(reference)s. This case stays open.",
                  reference=details["opened_reference"]) if details.get("opened_reference")
                else _("The person who called was reached on a later call-back. This case "
                       "stays open.")),
            "voice.recording_joined": lambda: (
                _("The person who called about case %(reference)s, merged into this one, was "
                  "reached on a later call-back and left a recording: it was added to this "
                  "case.", reference=details["from_reference"])
                if details.get("from_reference")
                else _("The person who called was reached on a later call-back and left a "
                       "recording: it was added to this case instead of opening a new one.")),
            "document.uploaded": lambda: _("A document was attached"),
            "contact.revealed": lambda: _("Contact details were revealed"),
            "case.triaged": lambda: _("Triage changed"),
            "case.restricted": lambda: _("Case restricted: sensitive level, visible only to "
                                         "the PSEA focal points"),
            "case.unrestricted": lambda: _("No longer sensitive: the restriction was lifted"),
            "psea.notified": lambda: _("PSEA focal points notified: %(count)s",
                                       count=len(details.get("user_ids") or [])),
            "case.closed": lambda: (
                _("Closed as a duplicate of case %(reference)s",
                  reference=details["duplicate_of"]) if details.get("duplicate_of")
                else _("Closed: answered automatically by the information line")
                if details.get("automatic")
                else _("Closed: the person who called was reached on a later call-back")
                if details.get("caller_reached") else _("Case closed")),
            "info.not_satisfied": lambda: _("The automatic answer did not satisfy the person"),
            "survey.sent": lambda: _("The satisfaction survey was sent"),
            "case.satisfaction": lambda: _("The person answered the satisfaction survey: "
                                           "%(answer)s", answer=self.satisfaction(
                                               (details.get("satisfaction") or [None, None])[-1])),
            "survey.reopen_declined": lambda: _("The person chose to keep the case closed"),
            "case.reopened": lambda: _("Case reopened"),
            "case.flagged_sensitive": lambda: _("The triage assistant flagged the case as "
                                                "possibly sensitive and restricted it"),
            "case.flagged_urgent": lambda: _("The triage assistant flagged the case as "
                                             "possibly urgent"),
            "case.merged": lambda: _("Merged into case %(reference)s",
                                     reference=details.get("into_reference", "")),
            "case.merge_received": lambda: _("Case %(reference)s was merged into this case",
                                             reference=details.get("from_reference", "")),
            "message.held": lambda: _("A reply is held until the person writes again "
                                      "(WhatsApp 24 hours)"),
            "message.failed": lambda: _("A message could not be delivered"),
            "attachment.fetch_failed": lambda: _("An attachment could not be downloaded"),
        }
        found = texts.get(event.action)
        return found() if found else event.action

    @staticmethod
    def is_audio(attachment: Attachment) -> bool:
        return attachment.kind in ("voice", "audio")

    @staticmethod
    def is_image(attachment: Attachment) -> bool:
        return attachment.kind == "image"
