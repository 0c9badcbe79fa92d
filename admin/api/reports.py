"""GET /api/v1/reports/kpis: the KPIs of casework.reports for a period."""

from __future__ import annotations

from datetime import date

from flask import abort, g, jsonify, request
from flask.typing import ResponseReturnValue

from admin.api import bp
from admin.api.openapi import Operation, Parameter, operation
from admin.api.schemas import Kpis
from casework.models import Role
from casework.reports import kpis
from casework.text import ascii_digits
from extensions import db

DATE = {"type": "string", "format": "date"}
REPORT_ROLES = set(Role)  # aggregates only: every role may read them


@operation(bp, Operation(
    "GET", "/reports/kpis", "get_kpis", "KPIs for a period (counts and durations only)",
    response=Kpis, errors=(400, 401, 403, 429),
    parameters=(Parameter("from", "query", DATE, "First day (YYYY-MM-DD)", required=True),
                Parameter("to", "query", DATE, "Last day, included", required=True)),
))
def get_kpis() -> ResponseReturnValue:
    if g.user.role not in REPORT_ROLES:
        abort(403)
    start, end = _date("from"), _date("to")
    if end < start:
        abort(400, description="'to' is before 'from'")
    report = kpis(db.session, start, end)
    body = Kpis(period_from=start, period_to=end, **{
        name: getattr(report, name) for name in Kpis.model_fields
        if name not in ("period_from", "period_to")})
    return jsonify(body.model_dump(mode="json", by_alias=True))


def _date(name: str) -> date:
    value = ascii_digits(request.args.get(name, ""))
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"'{name}' must be a date as YYYY-MM-DD")
