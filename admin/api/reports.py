"""GET /api/v1/reports/kpis: the KPIs of casework.reports for a period."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, g, jsonify, request
from flask.typing import ResponseReturnValue

from admin.api import bp
from admin.api.openapi import QUERY_TEXT, Operation, Parameter, operation
from admin.api.schemas import Kpis
from casework import programme
from casework.access import REPORT_ROLES
from casework.programme_kpis import Ratio, programme_kpis
from casework.reports import DeadlineShare, KpiReport, MonthFigures, kpis
from casework.text import ascii_digits
from extensions import db
from services import services

DATE = {"type": "string", "format": "date"}


@operation(bp, Operation(
    "GET", "/reports/kpis", "get_kpis", "KPIs for a period (counts and durations only)",
    response=Kpis, errors=(400, 401, 403, 429),
    parameters=(Parameter("from", "query", DATE, "First day (YYYY-MM-DD), local time",
                          required=True),
                Parameter("to", "query", DATE, "Last day, included", required=True),
                Parameter("location", "query", {**QUERY_TEXT, "maxLength": 32},
                          "Only cases of this governorate or district code")),
))
def get_kpis() -> ResponseReturnValue:
    if g.user.role not in REPORT_ROLES:
        abort(403)
    start, end = _date("from"), _date("to")
    if end < start:
        abort(400, description="'to' is before 'from'")
    location = (request.args.get("location") or "").strip() or None
    if location is not None and services().org_data.location(location) is None:
        abort(400, description="'location' is not a location code of config/locations.yaml")
    tz = ZoneInfo(services().settings.sawti_timezone)
    report = kpis(db.session, start, end, tz=tz, location=location)
    body = Kpis(period_from=start, period_to=end, location=location, **_fields(report),
                programme=_programme(report, tz))
    return jsonify(body.model_dump(mode="json", by_alias=True))


def _programme(report: KpiReport, tz: ZoneInfo) -> dict[str, Any]:
    settings = services().settings
    figures = programme_kpis(
        db.session, report, tz=tz, configured=programme.configured_channels(settings),
        locations=[place.code for place in services().org_data.governorates],
        due_day=settings.sawti_report_due_day)
    database = figures.case_database
    return {
        "staff_trained": _ratio(figures.trained),
        "staff_trained_by_location": _ratios(figures.trained_by_location),
        "channels_by_location": _ratios(figures.channels_by_location),
        "working_channels": figures.working_channels,
        "closed_within_six_months": _ratio(figures.closed_within_six_months),
        "projects_with_strategy": _ratio(figures.projects_with_strategy),
        "aware": _ratio(figures.aware), "know_how": _ratio(figures.know_how),
        "aware_by_location": _ratios(figures.aware_by_location),
        "know_how_by_location": _ratios(figures.know_how_by_location),
        "preferred_channels": figures.preferred_channels,
        "case_database": {"two_factor": _ratio(database.two_factor),
                          "last_case_update": database.last_case_update,
                          "open_cases": database.open_cases,
                          "up_to_date": database.up_to_date, "met": database.met},
        "reports_on_time": _ratio(figures.reports_on_time),
        "report_months": [{"month": item.month.strftime("%Y-%m"), "due": item.due,
                           "submitted_on": item.submitted_on, "on_time": item.on_time}
                          for item in figures.report_months],
        "report_due_day": figures.due_day,
        "days_to_close": _ratio(figures.days_to_close),
        "mean_days_to_close": figures.mean_days_to_close,
        "median_days_to_close": figures.median_days_to_close,
    }


def _ratio(ratio: Ratio) -> dict[str, Any]:
    return {"numerator": ratio.numerator, "denominator": ratio.denominator,
            "share": ratio.share}


def _ratios(ratios: dict[str, Ratio]) -> dict[str, dict[str, Any]]:
    return {key: _ratio(value) for key, value in ratios.items()}


def _fields(report: KpiReport) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Kpis.model_fields:
        if name in ("period_from", "period_to", "location", "programme"):
            continue
        value = getattr(report, name)
        if name == "within_deadline_by_level":
            value = {key: _share(item) for key, item in value.items()}
        elif name in ("months", "six_months"):
            value = [_month(item) for item in value]
        values[name] = value
    return values


def _share(item: DeadlineShare) -> dict[str, Any]:
    return {**asdict(item), "share": item.share}


def _month(item: MonthFigures) -> dict[str, Any]:
    return {"month": item.month.strftime("%Y-%m"), "received": item.received,
            "closed": item.closed, "within": item.within, "share": item.share,
            "by_level": {key: _share(level) for key, level in item.by_level.items()}}


def _date(name: str) -> date:
    value = ascii_digits(request.args.get(name, ""))
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"'{name}' must be a date as YYYY-MM-DD")
