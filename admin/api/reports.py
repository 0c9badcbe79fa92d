"""GET /api/v1/reports/kpis: the KPIs of casework.reports for a period."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, g, jsonify, request
from flask.typing import ResponseReturnValue

from admin.api import bp
from admin.api.openapi import Operation, Parameter, operation
from admin.api.schemas import Kpis
from casework.models import Role
from casework.reports import DeadlineShare, KpiReport, MonthFigures, kpis
from casework.text import ascii_digits
from extensions import db
from services import services

DATE = {"type": "string", "format": "date"}
REPORT_ROLES = set(Role)  # aggregates only: every role may read them


@operation(bp, Operation(
    "GET", "/reports/kpis", "get_kpis", "KPIs for a period (counts and durations only)",
    response=Kpis, errors=(400, 401, 403, 429),
    parameters=(Parameter("from", "query", DATE, "First day (YYYY-MM-DD), local time",
                          required=True),
                Parameter("to", "query", DATE, "Last day, included", required=True),
                Parameter("location", "query", {"type": "string", "maxLength": 32},
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
    report = kpis(db.session, start, end, tz=ZoneInfo(services().settings.sawti_timezone),
                  location=location)
    body = Kpis(period_from=start, period_to=end, location=location, **_fields(report))
    return jsonify(body.model_dump(mode="json", by_alias=True))


def _fields(report: KpiReport) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Kpis.model_fields:
        if name in ("period_from", "period_to", "location"):
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
