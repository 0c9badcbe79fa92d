"""Console: the accountability programme's records — projects, staff trainings and headcounts,
awareness sessions and surveys, channels per location, the monthly report's submission log,
lessons learned — and the printable awareness poster of each location.

Administrators and officers write them; PSEA staff and viewers read the lists (no forms, and
every POST is refused); focal points have no access. Services in ``casework.programme``
validate, audit and commit. Numbers and dates accept Arabic-Indic digits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from io import BytesIO
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FieldList,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from admin import bp
from admin.documents import posted_upload, too_large_message
from admin.forms import (
    FUTURE_DATE,
    ConfirmForm,
    MultiCheckboxField,
    NotInFuture,
    WholeNumberField,
    max_length,
    organisation_today,
)
from admin.security import roles_required
from casework import programme
from casework.access import can_list
from casework.documents import MAX_DOCUMENT_BYTES, DocumentRefused, check
from casework.models import Case, LessonStatus, Role, User
from casework.poster import UnknownLocation, render_poster
from casework.report_files import Labels, parse_month
from casework.reports import governorate_of, month_start
from casework.text import ascii_digits, clean_text
from extensions import csrf, db
from services import services

READERS = (Role.ADMIN, Role.OFFICER, Role.PSEA, Role.VIEWER)
EDITORS = (Role.ADMIN, Role.OFFICER)
MAX_COUNT = 1_000_000
PARTICIPANT_ROWS = 5
STRATEGY_TYPES = ("application/pdf", "image/")
SESSION_PEOPLE = ("women", "men", "girls", "boys")
NOBODY_ATTENDED = _l("A session needs at least one participant: give the number of women, men, "
                     "girls or boys.")

REFUSALS = {
    "required": _l("Fill in the required fields."),
    "too_long": _l("A text is too long."),
    "count": _l("A number must be a whole number from 0 to 1,000,000."),
    "location": _l("Choose a location from the list."),
    "channel": _l("Choose channels from the list."),
    "date": _l("Give a valid date."),
    "dates": _l("The end cannot be before the start."),
    "link": _l("The linked project, case or person does not exist."),
    "status": _l("Choose a status from the list."),
    "more_than_interviewed": _l("Aware, knowing how, and preferred channels cannot be more "
                                "than the people interviewed."),
    "submitted_at": _l("The submission date must be within or after the report's month, and "
                       "not in the future."),
    "case_reference": _l("No case you can open has this reference."),
    "future": FUTURE_DATE,
    "nobody_attended": NOBODY_ATTENDED,
    "nobody_interviewed": _l("A survey needs at least one person interviewed."),
}


# The field a service refusal is about, by its reason: a field's name, or a function giving the
# field (None: the refusal is about several fields, and is shown atop the form only).
RefusalFields = Mapping[str, str | Callable[[FlaskForm], Field | None]]


def _refused(form: FlaskForm, reason: str, fields: RefusalFields) -> str:
    """Put a service refusal's message under the field it is about, as a field's own error
    (WCAG 3.3.1); return what the top of the form says: the message itself when no one field
    is concerned."""
    message = str(REFUSALS.get(reason, reason))
    target = fields.get(reason)
    field = target(form) if callable(target) else (form[target] if target else None)
    if field is None:
        return message
    field.errors = [*field.errors, message]
    return _("Check the fields marked below.")


# --- fields that accept Arabic-Indic digits ---------------------------------------------------

def _count_range() -> NumberRange:
    return NumberRange(0, MAX_COUNT, message=REFUSALS["count"])


class CountField(WholeNumberField):
    """A whole number from 0; Arabic-Indic and Eastern Arabic-Indic digits are accepted (a text
    input: a number input refuses them)."""

    widget = widgets.TextInput()

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [Optional(), _count_range()])
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata([ascii_digits(str(value)).strip() for value in valuelist])


class DayField(DateField):
    """A date (YYYY-MM-DD); Arabic-Indic digits are accepted (a text input, for them)."""

    widget = widgets.TextInput()

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [Optional()])
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata([ascii_digits(str(value)).strip() for value in valuelist])


def _lines(text: str | None) -> list[str]:
    return [clean_text(line) for line in (text or "").splitlines() if clean_text(line)]


# --- forms ------------------------------------------------------------------------------------

class ProjectForm(FlaskForm):
    name = StringField(_l("Project name"), validators=[DataRequired(), max_length(200)])
    donor = StringField(_l("Donor"), validators=[max_length(200)])
    locations = MultiCheckboxField(_l("Locations"))
    start_date = DayField(_l("Start date"))
    end_date = DayField(_l("End date"))
    team = TextAreaField(_l("Implementing team"), validators=[max_length(5000)])
    has_strategy = BooleanField(_l("Has a strategy for informing communities about the CRM"))
    focal_point_id = SelectField(_l("Focal point for referrals"))


class StrategyForm(FlaskForm):
    """The strategy document's upload: drawn with the console's field macros, so that a refused
    file's reason is shown under the file field and read with it."""

    class Meta:
        csrf = False  # checked by posted_upload, once the larger request limit is set

    file = FileField(_l("The project's strategy for informing communities about the CRM (PDF "
                        "or image)"))


class ParticipantForm(FlaskForm):
    """One row of a training's participants: a FlaskForm for the translated messages, without
    a CSRF token of its own (the training form's token covers the rows)."""

    class Meta:
        csrf = False


    organisation = StringField(_l("Organisation"), validators=[max_length(200)])
    count = CountField(_l("Participants"))
    own_staff = BooleanField(_l("Our own staff"))


class TrainingForm(FlaskForm):
    held_on = DayField(_l("Date"), validators=[InputRequired(), NotInFuture()])
    location = SelectField(_l("Location"))
    title = StringField(_l("Title"), validators=[max_length(200)])
    topics = TextAreaField(_l("Topics, one per line"))
    participants = FieldList(FormField(ParticipantForm), label=_l("Participants by organisation"),
                             min_entries=PARTICIPANT_ROWS, max_entries=20)
    notes = TextAreaField(_l("Notes"), validators=[max_length(5000)])


class HeadcountForm(FlaskForm):
    location = SelectField(_l("Location"))
    headcount = CountField(_l("Staff headcount"), validators=[InputRequired(),
                                                             _count_range()])


class SessionForm(FlaskForm):
    held_on = DayField(_l("Date"), validators=[InputRequired(), NotInFuture()])
    location = SelectField(_l("Location"))
    project_id = SelectField(_l("Project"))
    women = CountField(_l("Women (approximate)"))
    men = CountField(_l("Men (approximate)"))
    girls = CountField(_l("Girls (approximate)"))
    boys = CountField(_l("Boys (approximate)"))
    channels_promoted = MultiCheckboxField(_l("Channels promoted"))
    materials = TextAreaField(_l("Materials used, one per line"))
    notes = TextAreaField(_l("Notes"), validators=[max_length(5000)])

    def validate(self, extra_validators: Any = None) -> bool:
        """Also: someone attended. The four counts are one question, so the first of them
        carries its error (a per-field validator would not run on an empty count)."""
        valid = super().validate(extra_validators)
        counts = [getattr(self, name) for name in SESSION_PEOPLE]
        if any(count.errors for count in counts) or any(count.data for count in counts):
            return valid
        self.women.errors.append(str(NOBODY_ATTENDED))
        return False


class SurveyForm(FlaskForm):
    location = SelectField(_l("Location"), validators=[DataRequired()])
    period_start = DayField(_l("Period from"), validators=[InputRequired(), NotInFuture()])
    period_end = DayField(_l("Period to"), validators=[InputRequired(), NotInFuture()])
    project_id = SelectField(_l("Project"))
    interviewed = CountField(_l("People interviewed"), validators=[
        InputRequired(REFUSALS["nobody_interviewed"]),
        NumberRange(1, MAX_COUNT, message=REFUSALS["nobody_interviewed"])])
    aware = CountField(_l("Aware of the CRM"))
    know_how = CountField(_l("Know how to use it"))
    notes = TextAreaField(_l("Notes"), validators=[max_length(5000)])


for _channel in programme.CHANNELS:  # one "prefer this channel" count per channel
    setattr(SurveyForm, f"prefer_{_channel}", CountField(_l("Prefer this channel")))


class ChannelForm(FlaskForm):
    location = SelectField(_l("Location"))
    channel = SelectField(_l("Channel"))
    promoted = SelectField(_l("Promoted"))
    working = SelectField(_l("Working"))
    note = StringField(_l("Note"), validators=[max_length(500)])


class SubmissionForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired()])
    submitted_on = DayField(_l("Submitted on (empty: today)"))
    note = StringField(_l("Note"), validators=[max_length(500)])


class LessonForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), max_length(200)])
    description = TextAreaField(_l("What happened and what we learned"),
                                validators=[max_length(5000)])
    recommendation = TextAreaField(_l("Recommendation"), validators=[max_length(5000)])
    status = SelectField(_l("Status of the recommendation"))
    case_reference = StringField(_l("Case reference (optional)"), validators=[max_length(20)])
    category = SelectField(_l("Category"))
    project_id = SelectField(_l("Project"))


# --- choices and names ------------------------------------------------------------------------

def _lang() -> str:
    return str(get_locale() or "ar")


def _labels() -> Labels:
    return Labels(services().org_data, _lang())


def _location_choices(*, blank: bool = True, districts: bool = True) -> list[tuple[str, str]]:
    labels = _labels()
    choices = [("", _("Not set"))] if blank else []
    for governorate in services().org_data.governorates:
        choices.append((governorate.code, labels.location(governorate.code)))
        if districts:
            choices += [(district.code, labels.location(district.code))
                        for district in governorate.districts]
    return choices


def _governorates() -> list[str]:
    return [governorate.code for governorate in services().org_data.governorates]


def _project_choices() -> list[tuple[str, str]]:
    return [("", _("None")), *((str(project.id), project.name)
                              for project in programme.list_projects(db.session))]


def _focal_point_choices() -> list[tuple[str, str]]:
    users = db.session.scalars(select(User).where(User.role == Role.FOCAL_POINT,
                                                  User.active.is_(True)).order_by(User.name))
    return [("", _("None")), *((str(user.id), user.name or user.email) for user in users)]


def _channel_choices() -> list[tuple[str, str]]:
    labels = _labels()
    return [(channel, labels.channel(channel)) for channel in programme.CHANNELS]


def _status_names() -> dict[str, str]:
    return {LessonStatus.OPEN: _("Open"), LessonStatus.IN_PROGRESS: _("In progress"),
            LessonStatus.DONE: _("Done")}


def _override_choices() -> list[tuple[str, str]]:
    return [("", _("As derived")), ("yes", _("Yes")), ("no", _("No"))]


def _yes_no(value: bool | None) -> str:
    return _labels().yes_no(value)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


# --- shared views -----------------------------------------------------------------------------

def _can_edit() -> bool:
    return g.user.role in EDITORS


def _list(title: str, columns: list[str], rows: list[tuple[list[str], str | None]],
          new_url: str | None, **extra: Any) -> ResponseReturnValue:
    """A table of records; the edit links and the "new" link only for editors."""
    editing = _can_edit()
    return render_template("programme/list.html", title=title, columns=columns,
                           rows=[(cells, url if editing else None) for cells, url in rows],
                           new_url=new_url if editing else None, **extra)


def _edit(form: FlaskForm, title: str, save: Callable[[], Any], done: str,
          back: str, fields: RefusalFields | None = None, **extra: Any) -> ResponseReturnValue:
    """Validate and save the form, or show it again (400) with what is wrong: a refusal of
    the service under the field it is about (``fields``)."""
    refusal = None
    if form.validate_on_submit():
        try:
            save()
        except programme.RecordRefused as refused:
            refusal = _refused(form, refused.reason, fields or {})
        else:
            flash(_("Saved."), "info")
            return redirect(done)
    elif form.is_submitted():
        refusal = _("Check the fields marked below.")
    status = 400 if form.is_submitted() else 200
    return render_template("programme/form.html", form=form, title=title, refusal=refusal,
                           back=back, **extra), status


def _without_nones(form: FlaskForm) -> FlaskForm:
    """Select fields filled from a record's None show "none chosen", not "None"."""
    for field in form:
        if isinstance(field, SelectField) and field.data in (None, "None"):
            field.data = ""
    return form


def _found(record: Any) -> Any:
    return record if record is not None else abort(404)


def _id(value: str | None) -> str:
    return value or ""


def _now() -> datetime:
    return datetime.now(UTC)


# --- overview ---------------------------------------------------------------------------------

@bp.get("/programme", endpoint="programme")
@roles_required(*READERS)
def overview() -> ResponseReturnValue:
    return render_template("programme/index.html",
                           locations=_location_choices(blank=False, districts=False))


@bp.get("/programme/poster/<code>", endpoint="programme_poster")
@roles_required(*READERS)
def poster(code: str) -> ResponseReturnValue:
    settings = services().settings
    states = programme.channel_availability(
        db.session, configured=programme.configured_channels(settings),
        locations=[governorate_of(code)], now=_now())
    available = [state.channel for state in states.get(governorate_of(code), [])
                 if state.promoted and state.working]
    try:
        pdf = render_poster(settings, code, channels=available, org=services().org_data)
    except UnknownLocation:
        abort(404)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="poster-{code}.pdf"'
    return response


# --- projects ---------------------------------------------------------------------------------

@bp.get("/programme/projects", endpoint="programme_projects")
@roles_required(*READERS)
def projects() -> ResponseReturnValue:
    labels = _labels()
    rows = [([project.name, project.donor,
              ", ".join(labels.location(code) for code in project.locations or []),
              _day(project.start_date), _day(project.end_date), _yes_no(project.has_strategy),
              (project.focal_point.name or project.focal_point.email)
              if project.focal_point else ""],
             url_for("admin.programme_project", project_id=project.id))
            for project in programme.list_projects(db.session)]
    columns = [_("Project name"), _("Donor"), _("Locations"), _("Start date"), _("End date"),
               _("CRM information strategy"), _("Focal point for referrals")]
    return _list(_("Projects"), columns, rows, url_for("admin.programme_new_project"))


@bp.route("/programme/projects/new", methods=["GET", "POST"],
          endpoint="programme_new_project")
@roles_required(*EDITORS)
def new_project() -> ResponseReturnValue:
    return _project_form(None)


@bp.route("/programme/projects/<int:project_id>", methods=["GET", "POST"],
          endpoint="programme_project")
@roles_required(*EDITORS)
def edit_project(project_id: int) -> ResponseReturnValue:
    return _project_form(_found(programme.get_project(db.session, project_id)))


def _project_form(project: Any) -> ResponseReturnValue:
    form = _project_fields(ProjectForm(obj=project), project)

    def save() -> None:
        values = {name: getattr(form, name).data for name in programme.PROJECT_FIELDS}
        values |= {name: clean_text(values[name]) for name in ("name", "donor", "team")}
        values["focal_point_id"] = _id(form.focal_point_id.data)
        programme.save_project(db.session, g.user, project, values, _now())
    title = _("Edit project") if project else _("New project")
    back = url_for("admin.programme_projects")
    return _edit(form, title, save, back, back, PROJECT_REFUSALS, project=project,
                 strategy_form=StrategyForm(formdata=None))


def _project_fields(form: ProjectForm, project: Any, posted: bool = True) -> ProjectForm:
    """The project form with its choices; the record's own values unless it was ``posted``."""
    form = _without_nones(form)
    form.locations.choices = _location_choices(blank=False)
    form.focal_point_id.choices = _focal_point_choices()
    if project is not None and not (posted and form.is_submitted()):
        form.focal_point_id.data = str(project.focal_point_id or "")
    return form


PROJECT_REFUSALS: RefusalFields = {"required": "name", "location": "locations",
                                   "date": "start_date", "dates": "end_date",
                                   "link": "focal_point_id"}
STRATEGY_REFUSALS = {
    "no_file": _l("Choose a file to attach."),
    "empty": _l("The file is empty."),
    "type": _l("Attach the strategy as a PDF or an image, at most %(size)s MB.",
               size=MAX_DOCUMENT_BYTES // (1024 * 1024)),
}


@bp.post("/programme/projects/<int:project_id>/strategy",
         endpoint="programme_project_strategy")
@csrf.exempt  # checked by posted_upload, once the larger request limit of this route is set
@roles_required(*EDITORS)
def upload_strategy(project_id: int) -> ResponseReturnValue:
    project = _found(programme.get_project(db.session, project_id))
    form = posted_upload(StrategyForm, MAX_DOCUMENT_BYTES)
    if form is None:
        return _refused_strategy(project, StrategyForm(formdata=None), "too_large")
    if request.form.get("remove"):
        programme.set_strategy_document(db.session, g.user, project, filename=None,
                                        content_type=None, storage_key=None, now=_now())
        flash(_("The strategy document was removed."), "info")
        return redirect(url_for("admin.programme_project", project_id=project.id))
    upload = form.file.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return _refused_strategy(project, form, "no_file")
    content = upload.stream.read(MAX_DOCUMENT_BYTES + 1)
    try:
        checked = check(content, upload.filename)
    except DocumentRefused as refused:
        return _refused_strategy(project, form, refused.reason)
    if not checked.content_type.startswith(STRATEGY_TYPES):
        return _refused_strategy(project, form, "type")
    key = services().attachment_store.save(content)
    programme.set_strategy_document(db.session, g.user, project, filename=checked.filename,
                                    content_type=checked.content_type, storage_key=key,
                                    now=_now())
    flash(_("The strategy document was attached."), "info")
    return redirect(url_for("admin.programme_project", project_id=project.id))


def _refused_strategy(project: Any, form: StrategyForm, reason: str) -> ResponseReturnValue:
    """The project's page again, the reason under the file field (and atop the page); the
    project's own form as it is stored."""
    message = too_large_message(MAX_DOCUMENT_BYTES) if reason == "too_large" \
        else str(STRATEGY_REFUSALS.get(reason, STRATEGY_REFUSALS["type"]))
    form.file.errors = [message]
    project_form = _project_fields(ProjectForm(formdata=None, obj=project), project,
                                   posted=False)
    back = url_for("admin.programme_projects")
    return render_template("programme/form.html", form=project_form, title=_("Edit project"),
                           refusal=message, back=back, project=project, strategy_form=form
                           ), 413 if reason == "too_large" else 400


@bp.get("/programme/projects/<int:project_id>/strategy", endpoint="programme_strategy_file")
@roles_required(*READERS)
def strategy_file(project_id: int) -> ResponseReturnValue:
    project = _found(programme.get_project(db.session, project_id))
    if not project.strategy_storage_key:
        abort(404)
    content = services().attachment_store.read(project.strategy_storage_key)
    response = send_file(BytesIO(content), mimetype=project.strategy_content_type,
                         as_attachment=True, download_name=project.strategy_filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- trainings and headcounts -----------------------------------------------------------------

@bp.get("/programme/trainings", endpoint="programme_trainings")
@roles_required(*READERS)
def trainings() -> ResponseReturnValue:
    return _trainings_page(HeadcountForm() if _can_edit() else None)


def _trainings_page(headcount_form: HeadcountForm | None, status: int = 200
                    ) -> ResponseReturnValue:
    labels = _labels()
    rows = [([_day(item.held_on), labels.location(item.location) if item.location else "",
              item.title, ", ".join(item.topics or []),
              ", ".join(f"{row.organisation}: {row.count}" for row in item.participants),
              str(item.participant_count)],
             url_for("admin.programme_training", training_id=item.id))
            for item in programme.list_trainings(db.session)]
    columns = [_("Date"), _("Location"), _("Title"), _("Topics"),
               _("Participants by organisation"), _("Participants")]
    if headcount_form is not None:
        headcount_form.location.choices = _location_choices(blank=False, districts=False)
    counts = programme.headcounts(db.session)
    page = _list(_("Staff trainings"), columns, rows, url_for("admin.programme_new_training"),
                 headcounts=[(labels.location(code), counts[code]) for code in counts],
                 headcount_form=headcount_form)
    return page, status


@bp.route("/programme/trainings/new", methods=["GET", "POST"],
          endpoint="programme_new_training")
@roles_required(*EDITORS)
def new_training() -> ResponseReturnValue:
    return _training_form(None)


@bp.route("/programme/trainings/<int:training_id>", methods=["GET", "POST"],
          endpoint="programme_training")
@roles_required(*EDITORS)
def edit_training(training_id: int) -> ResponseReturnValue:
    return _training_form(_found(programme.get_training(db.session, training_id)))


def _training_form(training: Any) -> ResponseReturnValue:
    form = _without_nones(TrainingForm(obj=_TrainingData(training) if training else None))
    form.location.choices = _location_choices()

    def save() -> None:
        values = {"held_on": form.held_on.data, "location": form.location.data,
                  "title": clean_text(form.title.data), "topics": _lines(form.topics.data),
                  "notes": clean_text(form.notes.data)}
        rows = [{"organisation": clean_text(entry.organisation.data),
                 "count": entry.count.data or 0, "own_staff": bool(entry.own_staff.data)}
                for entry in form.participants
                if clean_text(entry.organisation.data) or entry.count.data]
        programme.save_training(db.session, g.user, training, values, _now(), rows)
    title = _("Edit training") if training else _("New training")
    back = url_for("admin.programme_trainings")
    return _edit(form, title, save, back, back, TRAINING_REFUSALS)


def _row_without_organisation(form: FlaskForm) -> Field | None:
    """The organisation of the first participants' row with a count but no organisation."""
    return next((entry.organisation for entry in form.participants
                 if entry.count.data and not clean_text(entry.organisation.data)), None)


def _row_count_out_of_range(form: FlaskForm) -> Field | None:
    return next((entry.count for entry in form.participants
                 if not 0 <= (entry.count.data or 0) <= MAX_COUNT), None)


TRAINING_REFUSALS: RefusalFields = {"date": "held_on", "future": "held_on",
                                    "location": "location",
                                    "required": _row_without_organisation,
                                    "count": _row_count_out_of_range}


class _TrainingData:
    """A training as the form wants it: topics as lines, participants as row objects."""

    def __init__(self, training: Any) -> None:
        self.held_on, self.location, self.title = training.held_on, training.location, \
            training.title
        self.topics, self.notes = "\n".join(training.topics or []), training.notes
        self.participants = list(training.participants)


@bp.post("/programme/headcount", endpoint="programme_headcount")
@roles_required(*EDITORS)
def headcount() -> ResponseReturnValue:
    form = HeadcountForm()
    form.location.choices = _location_choices(blank=False, districts=False)
    if not form.validate_on_submit():
        return _trainings_page(form, 400)
    programme.set_headcount(db.session, g.user, form.location.data, form.headcount.data,
                            _now())
    flash(_("Saved."), "info")
    return redirect(url_for("admin.programme_trainings"))


# --- awareness sessions and surveys -----------------------------------------------------------

@bp.get("/programme/sessions", endpoint="programme_sessions")
@roles_required(*READERS)
def awareness_sessions() -> ResponseReturnValue:
    labels = _labels()
    rows = [([_day(item.held_on), labels.location(item.location) if item.location else "",
              item.project.name if item.project else "",
              f"{item.women} / {item.men} / {item.girls} / {item.boys}",
              ", ".join(labels.channel(code) for code in item.channels_promoted or []),
              ", ".join(item.materials or [])],
             url_for("admin.programme_session", record_id=item.id))
            for item in programme.list_awareness_sessions(db.session)]
    columns = [_("Date"), _("Location"), _("Project"), _("Women / men / girls / boys"),
               _("Channels promoted"), _("Materials used")]
    return _list(_("Awareness sessions"), columns, rows, url_for("admin.programme_new_session"))


@bp.route("/programme/sessions/new", methods=["GET", "POST"],
          endpoint="programme_new_session")
@roles_required(*EDITORS)
def new_awareness_session() -> ResponseReturnValue:
    return _session_form(None)


@bp.route("/programme/sessions/<int:record_id>", methods=["GET", "POST"],
          endpoint="programme_session")
@roles_required(*EDITORS)
def edit_awareness_session(record_id: int) -> ResponseReturnValue:
    return _session_form(_found(programme.get_awareness_session(db.session, record_id)))


def _session_form(record: Any) -> ResponseReturnValue:
    form = _without_nones(SessionForm(obj=record))
    form.location.choices = _location_choices()
    form.project_id.choices = _project_choices()
    form.channels_promoted.choices = _channel_choices()
    if record is not None and not form.is_submitted():
        form.project_id.data = str(record.project_id or "")
        form.materials.data = "\n".join(record.materials or [])

    def save() -> None:
        values = {"held_on": form.held_on.data, "location": form.location.data,
                  "project_id": _id(form.project_id.data),
                  "channels_promoted": form.channels_promoted.data or [],
                  "materials": _lines(form.materials.data), "notes": clean_text(form.notes.data)}
        values |= {name: getattr(form, name).data or 0 for name in SESSION_PEOPLE}
        programme.save_awareness_session(db.session, g.user, record, values, _now())
    title = _("Edit awareness session") if record else _("New awareness session")
    back = url_for("admin.programme_sessions")
    return _edit(form, title, save, back, back, SESSION_REFUSALS)


# "nobody attended": the four counts are one question; the first carries its error.
SESSION_REFUSALS: RefusalFields = {"date": "held_on", "future": "held_on",
                                   "location": "location", "link": "project_id",
                                   "channel": "channels_promoted", "nobody_attended": "women"}


@bp.get("/programme/surveys", endpoint="programme_surveys")
@roles_required(*READERS)
def surveys() -> ResponseReturnValue:
    labels = _labels()
    rows = [([labels.location(item.location), f"{_day(item.period_start)} – "
              f"{_day(item.period_end)}", item.project.name if item.project else "",
              str(item.interviewed), _share(item.aware, item.interviewed),
              _share(item.know_how, item.interviewed),
              ", ".join(f"{labels.channel(code)}: {count}"
                        for code, count in (item.preferred_channels or {}).items())],
             url_for("admin.programme_survey", survey_id=item.id))
            for item in programme.list_surveys(db.session)]
    columns = [_("Location"), _("Period"), _("Project"), _("People interviewed"),
               _("Aware of the CRM"), _("Know how to use it"), _("Preferred channels")]
    return _list(_("Awareness surveys"), columns, rows, url_for("admin.programme_new_survey"))


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole * 100:.0f}%)" if whole else str(part)


@bp.route("/programme/surveys/new", methods=["GET", "POST"], endpoint="programme_new_survey")
@roles_required(*EDITORS)
def new_survey() -> ResponseReturnValue:
    return _survey_form(None)


@bp.route("/programme/surveys/<int:survey_id>", methods=["GET", "POST"],
          endpoint="programme_survey")
@roles_required(*EDITORS)
def edit_survey(survey_id: int) -> ResponseReturnValue:
    return _survey_form(_found(programme.get_survey(db.session, survey_id)))


def _survey_form(survey: Any) -> ResponseReturnValue:
    form = _without_nones(SurveyForm(obj=survey))
    form.location.choices = _location_choices()
    form.project_id.choices = _project_choices()
    labels = _labels()
    for channel in programme.CHANNELS:
        field = getattr(form, f"prefer_{channel}")
        field.label.text = _("Prefer: %(channel)s", channel=labels.channel(channel))
        if survey is not None and not form.is_submitted():
            field.data = (survey.preferred_channels or {}).get(channel, 0)
    if survey is not None and not form.is_submitted():
        form.project_id.data = str(survey.project_id or "")

    def save() -> None:
        values: dict[str, Any] = {
            name: getattr(form, name).data or 0 for name in ("interviewed", "aware", "know_how")}
        values |= {"location": form.location.data, "period_start": form.period_start.data,
                   "period_end": form.period_end.data, "project_id": _id(form.project_id.data),
                   "notes": clean_text(form.notes.data),
                   "preferred_channels": {channel: getattr(form, f"prefer_{channel}").data or 0
                                          for channel in programme.CHANNELS}}
        programme.save_survey(db.session, g.user, survey, values, _now())
    title = _("Edit awareness survey") if survey else _("New awareness survey")
    back = url_for("admin.programme_surveys")
    return _edit(form, title, save, back, back, SURVEY_REFUSALS)


def _survey_date_in_future(form: FlaskForm) -> Field:
    start = form.period_start.data
    return form.period_start if start and start > organisation_today() else form.period_end


def _more_than_interviewed(form: FlaskForm) -> Field | None:
    """The count larger than the people interviewed; None when it is the preferred channels
    together (several fields: the refusal stays atop the form)."""
    interviewed = form.interviewed.data or 0
    return next((field for field in (form.aware, form.know_how)
                 if (field.data or 0) > interviewed), None)


SURVEY_REFUSALS: RefusalFields = {"location": "location", "date": "period_start",
                                  "future": _survey_date_in_future, "dates": "period_end",
                                  "link": "project_id", "nobody_interviewed": "interviewed",
                                  "more_than_interviewed": _more_than_interviewed}


# --- channels per location --------------------------------------------------------------------

@bp.route("/programme/channels", methods=["GET", "POST"], endpoint="programme_channels")
@roles_required(*READERS)
def channels() -> ResponseReturnValue:
    if request.method == "POST" and not _can_edit():
        abort(403)
    form = ChannelForm() if _can_edit() else None
    refusal, status = None, 200
    if form is not None:
        _channel_form_choices(form)
        if form.is_submitted():
            refusal = _save_channel(form)
            if refusal is None:
                flash(_("Saved."), "info")
                return redirect(url_for("admin.programme_channels"))
            status = 400
    states = programme.channel_availability(
        db.session, configured=programme.configured_channels(services().settings),
        locations=_governorates(), now=_now())
    return render_template("programme/channels.html", states=states, labels=_labels(),
                           form=form, refusal=refusal), status


def _channel_form_choices(form: ChannelForm) -> None:
    form.location.choices = _location_choices(blank=False, districts=False)
    form.channel.choices = _channel_choices()
    form.promoted.choices = form.working.choices = _override_choices()


def _save_channel(form: ChannelForm) -> str | None:
    if not form.validate_on_submit():
        return _("Check the fields marked below.")
    flags = {"": None, "yes": True, "no": False}
    try:
        programme.set_channel_availability(
            db.session, g.user, form.location.data, form.channel.data,
            promoted=flags[form.promoted.data], working=flags[form.working.data],
            note=clean_text(form.note.data), now=_now())
    except programme.RecordRefused as refused:
        return _refused(form, refused.reason, {"location": "location", "channel": "channel"})
    return None


# --- the monthly report's submissions ---------------------------------------------------------

@bp.route("/programme/reports", methods=["GET", "POST"], endpoint="programme_reports")
@roles_required(*READERS)
def reports() -> ResponseReturnValue:
    if request.method == "POST" and not _can_edit():
        abort(403)
    form = SubmissionForm() if _can_edit() else None
    refusal, status = None, 200
    if form is not None and form.is_submitted():
        refusal = _mark_submitted(form)
        if refusal is None:
            flash(_("The report was marked submitted."), "info")
            return redirect(url_for("admin.programme_reports"))
        status = 400
    due_day = services().settings.sawti_report_due_day
    rows = [(item, programme.due_date(item.month, due_day))
            for item in programme.list_submissions(db.session)]
    return render_template("programme/reports.html", rows=rows, form=form, refusal=refusal,
                           confirm=ConfirmForm(), due_day=due_day, moment=_moment,
                           on_time=_on_time), status


def _on_time(submitted_at: datetime | None, due: date) -> bool | None:
    return None if submitted_at is None else submitted_at.date() <= due


def _mark_submitted(form: SubmissionForm) -> str | None:
    if not form.validate_on_submit():
        return _("Check the fields marked below.")
    try:
        month = parse_month(form.month.data or "")
    except ValueError:
        form.month.errors = [_("Write the month as YYYY-MM, for example 2026-03.")]
        return _("Check the fields marked below.")
    now = _now()
    when = datetime.combine(form.submitted_on.data, time(12), UTC) \
        if form.submitted_on.data else None
    if when is not None and when.date() == now.date():
        when = now
    try:
        programme.mark_submitted(db.session, g.user, month, now, submitted_at=when,
                                 note=clean_text(form.note.data))
    except programme.RecordRefused as refused:
        return _refused(form, refused.reason, {"submitted_at": "submitted_on"})
    return None


@bp.post("/programme/reports/<month>/unsubmit", endpoint="programme_report_unsubmit")
@roles_required(*EDITORS)
def unsubmit(month: str) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired. Reload the page and try again."))
    try:
        first = month_start(parse_month(month))
    except ValueError:
        abort(404)
    programme.unmark_submitted(db.session, g.user, first)
    flash(_("The submission was undone."), "info")
    return redirect(url_for("admin.programme_reports"))


# --- lessons learned --------------------------------------------------------------------------

@bp.get("/programme/lessons", endpoint="programme_lessons")
@roles_required(*READERS)
def lessons() -> ResponseReturnValue:
    labels, statuses = _labels(), _status_names()
    rows = [([_day(item.created_at.date()), item.title, item.recommendation,
              statuses.get(item.status, item.status), item.case.reference if item.case else "",
              labels.category(item.category) if item.category else "",
              item.project.name if item.project else ""],
             url_for("admin.programme_lesson", lesson_id=item.id))
            for item in programme.list_lessons(db.session)]
    columns = [_("Recorded"), _("Title"), _("Recommendation"), _("Status"), _("Case"),
               _("Category"), _("Project")]
    return _list(_("Lessons learned"), columns, rows, url_for("admin.programme_new_lesson"))


@bp.route("/programme/lessons/new", methods=["GET", "POST"], endpoint="programme_new_lesson")
@roles_required(*EDITORS)
def new_lesson() -> ResponseReturnValue:
    return _lesson_form(None)


@bp.route("/programme/lessons/<int:lesson_id>", methods=["GET", "POST"],
          endpoint="programme_lesson")
@roles_required(*EDITORS)
def edit_lesson(lesson_id: int) -> ResponseReturnValue:
    return _lesson_form(_found(programme.get_lesson(db.session, lesson_id)))


def _lesson_form(lesson: Any) -> ResponseReturnValue:
    form = _without_nones(LessonForm(obj=lesson))
    form.status.choices = list(_status_names().items())
    form.category.choices = [("", _("None")), *(
        (category.code, category.name(_lang())) for category in services().org_data.categories)]
    form.project_id.choices = _project_choices()
    if lesson is not None and not form.is_submitted():
        form.project_id.data = str(lesson.project_id or "")
        form.category.data = lesson.category or ""
        form.case_reference.data = lesson.case.reference if lesson.case else ""

    def save() -> None:
        values = {"title": clean_text(form.title.data), "status": form.status.data,
                  "description": clean_text(form.description.data),
                  "recommendation": clean_text(form.recommendation.data),
                  "category": form.category.data or None,
                  "project_id": _id(form.project_id.data),
                  "case_id": _case_id(form.case_reference.data)}
        programme.save_lesson(db.session, g.user, lesson, values, _now())
    title = _("Edit lesson learned") if lesson else _("New lesson learned")
    back = url_for("admin.programme_lessons")
    return _edit(form, title, save, back, back, LESSON_REFUSALS)


LESSON_REFUSALS: RefusalFields = {"required": "title", "status": "status",
                                  "case_reference": "case_reference", "link": "project_id"}


def _case_id(reference: str | None) -> int | None:
    """The id of the case with this reference, if the user may see it listed."""
    wanted = ascii_digits(reference or "").strip()
    if not wanted:
        return None
    case = db.session.scalars(select(Case).where(Case.reference == wanted)).first()
    if case is None or not can_list(g.user, case):
        raise programme.RecordRefused("case_reference")
    return case.id

