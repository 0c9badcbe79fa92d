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
    gender: str | None
    age_group: str | None
    resolution: str | None
    timeline: list[TimelineEntry]


class CaseList(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; "
                                                "null on the last page.")


class TriageIn(Strict):
    level: int | None = None
    category: str | None = None
    location: str | None = None
    project: str | None = Field(default=None, max_length=64)
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

    model_config = ConfigDict(populate_by_name=True)
