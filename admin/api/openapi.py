"""Operations declared once: the same declaration registers the Flask route, tells the
handler which pydantic model validates its body, and writes the OpenAPI 3.1 document — so the
document cannot drift from what the handlers accept and return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint
from pydantic import BaseModel

from admin.api.schemas import Problem

PROBLEM_RESPONSES = {
    400: "Malformed request", 401: "Missing or invalid bearer token",
    403: "Not allowed for this token's role", 404: "No such case (or not visible to you)",
    409: "Conflicts with the case's state", 413: "Request body too large",
    422: "Invalid fields", 429: "Too many requests (see Retry-After)",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" or "query"
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI style: /cases/{reference}
    operation_id: str
    summary: str
    response: type[BaseModel]
    status: int = 200
    body: type[BaseModel] | None = None
    parameters: tuple[Parameter, ...] = ()
    errors: tuple[int, ...] = (400, 401, 403, 404, 413, 422, 429)
    handler: Callable[..., Any] | None = field(default=None, repr=False)


OPERATIONS: list[Operation] = []
# Free text in a query: anything but NUL, which no field can store (the app answers 400).
QUERY_TEXT: dict[str, Any] = {"type": "string", "pattern": "^[^\\u0000]*$"}
REFERENCE = Parameter("reference", "path", {"type": "string", "pattern": "^[0-9]{7}$"},
                      "The case reference (7 digits, the last a check digit)", required=True)


def operation(bp: Blueprint, op: Operation) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        op.handler = handler
        OPERATIONS.append(op)
        flask_path = op.path.replace("{", "<").replace("}", ">")
        bp.add_url_rule(flask_path, endpoint=op.operation_id, view_func=handler,
                        methods=[op.method])
        return handler
    return register


def document(server_url: str = "/api/v1") -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    _add_schema(Problem, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sawti API", "version": "1",
                 "description": "Cases addressed by reference; bearer tokens "
                                "(`flask tokens create EMAIL`); errors as "
                                "application/problem+json (RFC 9457). No response ever "
                                "contains a phone number or Telegram id."},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "parameters": [
            {"name": p.name, "in": p.location, "required": p.required, "schema": p.schema,
             "description": p.description}
            for p in op.parameters
        ],
        "responses": {
            str(op.status): {"description": "Success", "content": {
                "application/json": {"schema": _add_schema(op.response, schemas)}}},
            **{str(code): {"description": PROBLEM_RESPONSES[code], "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
               for code in op.errors},
        },
    }
    if op.body is not None:
        spec["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _add_schema(op.body, schemas, "validation")}}}
    return spec


def _add_schema(model: type[BaseModel], schemas: dict[str, Any],
                mode: str = "serialization") -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}",
                                     mode=mode)  # type: ignore[arg-type]
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}
