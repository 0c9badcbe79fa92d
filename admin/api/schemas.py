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


class Kpis(BaseModel):
    period_from: date = Field(alias="from")
    period_to: date = Field(alias="to")
    received: int
    received_by_channel: dict[str, int]
    received_by_level: dict[str, int]
    closed: int
    closed_within_deadline: int
    closed_within_deadline_share: float | None = Field(
        description="closed_within_deadline / closed; null when nothing closed")
    mean_days_to_close: float | None
    median_days_to_close: float | None
    open: int
    overdue: int

    model_config = ConfigDict(populate_by_name=True)
