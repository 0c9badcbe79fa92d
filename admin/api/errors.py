"""Every API error as application/problem+json (RFC 9457)."""

from __future__ import annotations

from flask import Response, json
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from admin.api import bp
from admin.api.schemas import Problem

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body = Problem(title=title, status=status, detail=detail).model_dump()
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.errorhandler(HTTPException)
def http_problem(error: HTTPException) -> Response:
    headers = {name: value for name, value in error.get_headers()
               if name.lower() in ("retry-after", "www-authenticate")}
    if error.code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="sawti"')
    return problem(error.code or 500, error.name, error.description, headers)


@bp.errorhandler(ValidationError)
def validation_problem(error: ValidationError) -> Response:
    details = "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
        for item in error.errors(include_url=False)
    )
    return problem(422, "Unprocessable Content", details)
