"""Request and response bodies of the API; the handlers validate with these models and the
OpenAPI document is generated from them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Text = Field(min_length=1, max_length=4000)


class Strict(BaseModel):
    """Request bodies: unknown fields are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """An error, as RFC 9457 application/problem+json."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class CaseSummary(BaseModel):
    reference: str
    status: Literal["new", "open", "referred", "closed"]
    channel: str
    level: int | None
    sensitive: bool
    urgent: bool
    category: str | None
    location: str | None
    created_at: datetime
    due_at: datetime
    closed_at: datetime | None
    overdue: bool
    restricted: bool = Field(description="Listed for you, but its content is not: only the "
                                         "reference, level and dates are given.")


class TimelineEntry(BaseModel):
    at: datetime
    kind: Literal["message", "note", "referral", "referral_answer", "event"]
    direction: Literal["in", "out"] | None = None
    channel: str | None = None
    body: str | None = None
    status: str | None = None
    detail: str | None = None
    actor: str | None = None


class CaseDetail(CaseSummary):
    project: str | None
    project_id: int | None = Field(description="The programme project the case is linked to "
                                               "(GET /api/v1/projects)")
    gender: str | None
    age_group: str | None
    resolution: str | None = Field(description="How the case was resolved: the officer's "
                                                "words, or for a merge or an answer of the "
                                                "information line, a sentence saying so")
    timeline: list[TimelineEntry]
    latest_message_id: int | None = Field(
        default=None, description="The person's latest message on the case: send it as "
                                  "seen_message_id when closing, to be told (409) of a newer one")


class CaseList(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; "
                                                "null on the last page.")


class TriageIn(Strict):
    level: int | None = None
    category: str | None = None
    location: str | None = None
    project: str | None = Field(default=None, max_length=64)
    project_id: int | None = Field(default=None, description="Link to a programme project; "
                                                             "null unlinks")
    gender: Literal["female", "male", "other", "unknown"] | None = None
    age_group: Literal["child", "adult", "elderly", "unknown"] | None = None
    urgent: bool | None = None


class ReplyIn(Strict):
    body: str = Text


class ReplyOut(BaseModel):
    message_id: int
    status: str
    deliverable_now: bool
    reason: str | None = Field(description="Why it cannot go out now: opted_out, "
                                           "whatsapp_window, voice, no_contact")


class NoteIn(Strict):
    body: str = Text


class ReferralIn(Strict):
    to: str = Field(description="Email of the focal point (or officer) to refer to",
                    max_length=255)
    due_on: date
    message: str = Field(default="", max_length=4000)


class CloseIn(Strict):
    resolution: str = Text
    # The id of the person's latest message the client has shown; a later one is a 409.
    seen_message_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class Created(BaseModel):
    id: int


class DeadlineShare(BaseModel):
    closed: int
    within: int = Field(description="closed at or before the due time")
    share: float | None = Field(description="within / closed; null when nothing closed")


class MonthKpis(BaseModel):
    month: str = Field(description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")
    received: int
    closed: int
    within: int
    share: float | None
    by_level: dict[str, DeadlineShare] = Field(default_factory=dict)


class Ratio(BaseModel):
    numerator: float
    denominator: int
    share: float | None = Field(description="numerator / denominator; null (no data) when "
                                            "the denominator is 0")


class ReportMonth(BaseModel):
    month: str = Field(description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")
    due: date
    submitted_on: date | None = Field(description="local date it was marked submitted")
    on_time: bool


class CaseDatabase(BaseModel):
    two_factor: Ratio = Field(description="active users of case roles (officer, psea, "
                                          "focal_point) with two-factor sign-in / all")
    last_case_update: datetime | None = Field(description="the last recorded action on a case")
    open_cases: int
    up_to_date: bool = Field(description="last case update within 7 days, or no open case")
    met: bool | None = Field(description="every case-role user has 2FA and the record is up "
                                         "to date; null when nobody has a case role")


class ProgrammeKpis(BaseModel):
    """The job description's KPIs with numerators and denominators. Definitions:
    casework/programme_kpis.py. Organisation-wide with rows per governorate; the six-month
    and days-to-close figures follow the location asked for."""

    staff_trained: Ratio = Field(description="own staff trained in the last 365 days (capped "
                                             "at the headcount) / staff headcount")
    staff_trained_by_location: dict[str, Ratio]
    channels_by_location: dict[str, Ratio] = Field(
        description="channels working in each governorate / channels listed there")
    working_channels: dict[str, list[str]]
    closed_within_six_months: Ratio
    projects_with_strategy: Ratio = Field(
        description="projects running in the period with a CRM information strategy / all")
    aware: Ratio = Field(description="surveys of the last six months: aware / interviewed")
    know_how: Ratio = Field(description="know how to use the CRM / interviewed")
    aware_by_location: dict[str, Ratio]
    know_how_by_location: dict[str, Ratio]
    preferred_channels: dict[str, int]
    case_database: CaseDatabase
    reports_on_time: Ratio = Field(description="months of the last 12 whose report was "
                                               "marked submitted by the due day / months due")
    report_months: list[ReportMonth]
    report_due_day: int
    days_to_close: Ratio = Field(description="total days to close / cases closed (the mean)")
    mean_days_to_close: float | None
    median_days_to_close: float | None


class Kpis(BaseModel):
    """Definitions: casework/reports.py. Days are local days in the organisation's time zone;
    every figure is a count or a duration (sensitive cases as numbers only)."""

    period_from: date = Field(alias="from")
    period_to: date = Field(alias="to")
    timezone: str
    location: str | None = Field(default=None, description="the location asked for, if any")
    received: int
    received_by_channel: dict[str, int]
    received_by_level: dict[str, int]
    received_by_category: dict[str, int]
    received_by_location: dict[str, int] = Field(description="by governorate")
    received_by_gender: dict[str, int]
    received_by_age_group: dict[str, int]
    received_sensitive: int
    duplicates: int = Field(description="received as duplicates of another case; left out")
    closed: int
    closed_within_deadline: int
    closed_within_deadline_share: float | None = Field(
        description="closed_within_deadline / closed; null when nothing closed")
    within_deadline_by_level: dict[str, DeadlineShare]
    mean_days_to_close: float | None
    median_days_to_close: float | None
    months: list[MonthKpis] = Field(description="calendar months of the period, clipped to it")
    six_months: list[MonthKpis] = Field(
        description="the six whole months ending with the period's last month")
    six_months_closed: int
    six_months_within: int
    six_months_share: float | None
    open: int
    overdue: int
    open_by_age: dict[str, int] = Field(description="age in days: 0-2, 3-7, 8-15, 16-30, 31+")
    overdue_by_age: dict[str, int]
    referrals_sent: int
    referrals_answered: int
    referrals_overdue: int
    replies: int
    replies_delivered: int
    replies_sent: int = Field(description="accepted by the provider, no delivery report")
    replies_failed: int
    replies_pending: int
    surveys_sent: int
    satisfaction: dict[str, int] = Field(
        description="answers: 1 satisfied, 2 partly, 3 not satisfied")
    satisfaction_answers: int
    satisfied_share: float | None
    channels_by_location: dict[str, list[str]] = Field(
        description="channels cases of each governorate came through in the period")
    channels_per_location: dict[str, int]
    info_requests: int = Field(description="information requests: answered at once or not")
    info_answered: int
    info_satisfied: int
    info_answered_share: float | None
    info_satisfied_share: float | None
    closed_automatically: int = Field(description="cases closed without an officer's work")
    triage_sensitive_precision: float | None = Field(
        description="of the graded cases the triage assistant flagged sensitive, the share "
                    "officers kept sensitive")
    triage_sensitive_recall: float | None
    triage_urgent_precision: float | None
    triage_urgent_recall: float | None
    programme: ProgrammeKpis | None = Field(
        default=None, description="the accountability programme KPIs (seed KPIs)")

    model_config = ConfigDict(populate_by_name=True)


# --- programme records (read-only) -----------------------------------------------------------

class ProjectOut(BaseModel):
    id: int
    name: str
    donor: str
    locations: list[str]
    start_date: date | None
    end_date: date | None
    team: str
    has_strategy: bool
    strategy_document: bool = Field(description="a strategy document is attached")
    focal_point: str | None = Field(description="name of the focal point for referrals")
    created_at: datetime
    updated_at: datetime


class ProjectList(BaseModel):
    items: list[ProjectOut]


class LessonOut(BaseModel):
    id: int
    title: str
    description: str
    recommendation: str
    status: Literal["open", "in_progress", "done"]
    case_reference: str | None = Field(description="null when not linked, or linked to a "
                                                   "sensitive case you may not see")
    category: str | None
    project_id: int | None
    created_at: datetime
    updated_at: datetime


class LessonList(BaseModel):
    items: list[LessonOut]


class ParticipantOut(BaseModel):
    organisation: str
    own_staff: bool
    count: int


class TrainingOut(BaseModel):
    id: int
    held_on: date
    location: str | None
    title: str
    topics: list[str]
    participants: list[ParticipantOut]
    participant_count: int


class TrainingList(BaseModel):
    items: list[TrainingOut]


class AwarenessSessionOut(BaseModel):
    id: int
    held_on: date
    location: str | None
    project_id: int | None
    women: int
    men: int
    girls: int
    boys: int
    participants: int
    channels_promoted: list[str]
    materials: list[str]


class AwarenessSessionList(BaseModel):
    items: list[AwarenessSessionOut]


class AwarenessSurveyOut(BaseModel):
    id: int
    location: str
    period_start: date
    period_end: date
    project_id: int | None
    interviewed: int
    aware: int
    know_how: int
    preferred_channels: dict[str, int]


class AwarenessSurveyList(BaseModel):
    items: list[AwarenessSurveyOut]


class ReportSubmissionOut(BaseModel):
    month: str = Field(description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")
    generated_at: datetime | None
    last_generated_at: datetime | None
    submitted_at: datetime | None
    due: date
    on_time: bool | None = Field(description="null while not submitted and not yet due")


class ReportSubmissionList(BaseModel):
    items: list[ReportSubmissionOut]


class ChannelStateOut(BaseModel):
    location: str = Field(description="governorate code")
    channel: str
    configured: bool
    cases_90_days: int
    promoted: bool
    working: bool
    corrected: bool = Field(description="an officer corrected the derived values")
    note: str


class ChannelAvailabilityList(BaseModel):
    items: list[ChannelStateOut]
