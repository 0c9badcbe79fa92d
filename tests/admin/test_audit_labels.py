"""Every action, actor and detail the code records in the audit trail has a label to read.

The source is scanned (ast) for `audit.record(session, "<action>", actor=…, <detail>=…)`, for
actions passed through a function's parameter to it (`_commit(…, "project.created")`), for
every `actor="<name>"` given to any call and for the module constants named *ACTOR.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale

from admin.audit_labels import (
    ACTION_LABELS,
    ACTOR_LABELS,
    DETAIL_LABELS,
    action_label,
    actor_label,
    detail_lines,
)

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", "tests", "bench", "migrations"}
NOT_DETAILS = {"case", "actor"}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIPPED & set(path.relative_to(ROOT).parts):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _is_audit_record(call: ast.Call) -> bool:
    return (isinstance(call.func, ast.Attribute) and call.func.attr == "record"
            and isinstance(call.func.value, ast.Name) and call.func.value.id == "audit")


def _argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    if len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _enclosing_functions(tree: ast.Module) -> dict[ast.AST, ast.FunctionDef]:
    """Each node in a function → the innermost function it is in."""
    found: dict[ast.AST, ast.FunctionDef] = {}

    def visit(node: ast.AST, function: ast.FunctionDef | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef) else function
            if inner is not None:
                found[child] = inner
            visit(child, inner)

    visit(tree, None)
    return found


def _actions(node: ast.expr | None, tree: ast.Module, where: str,
             functions: dict[ast.AST, ast.FunctionDef]) -> Iterator[str]:
    """The action strings ``node`` can be; a parameter is followed to the module's calls of
    its function. Raises for an action the scan cannot know."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _actions(node.body, tree, where, functions)
        yield from _actions(node.orelse, tree, where, functions)
    elif isinstance(node, ast.Name) and node in functions:
        function = functions[node]
        parameters = [argument.arg for argument in function.args.args]
        if node.id not in parameters:
            raise AssertionError(f"{where}: the action {node.id} is not a literal")
        position = parameters.index(node.id)
        calls = [call for call in ast.walk(tree) if isinstance(call, ast.Call)
                 and _called_name(call) == function.name]
        assert calls, f"{where}: {function.name} is never called in its module"
        for call in calls:
            yield from _actions(_argument(call, position, node.id), tree,
                                f"{where} via line {call.lineno}", functions)
    else:
        raise AssertionError(f"{where}: an action the scan cannot read")


def recorded_actions() -> set[str]:
    actions: set[str] = set()
    for path, tree in _modules():
        functions = _enclosing_functions(tree)
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and _is_audit_record(call):
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                actions |= set(_actions(_argument(call, 1, "action"), tree, where, functions))
    return actions


def recorded_actors() -> set[str]:
    actors = {"system"}  # audit.record's default
    for _path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                actors |= {keyword.value.value for keyword in node.keywords
                           if keyword.arg == "actor" and isinstance(keyword.value, ast.Constant)
                           and isinstance(keyword.value.value, str)}
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                actors |= {node.value.value for target in node.targets
                           if isinstance(target, ast.Name) and target.id.endswith("ACTOR")
                           and isinstance(node.value.value, str)}
    return actors


def recorded_details() -> set[str]:
    return {keyword.arg for _path, tree in _modules() for call in ast.walk(tree)
            if isinstance(call, ast.Call) and _is_audit_record(call)
            for keyword in call.keywords if keyword.arg and keyword.arg not in NOT_DETAILS}


@pytest.mark.parametrize(("kind", "recorded", "labelled"), [
    ("action", recorded_actions, ACTION_LABELS),
    ("actor", recorded_actors, ACTOR_LABELS),
    ("detail", recorded_details, DETAIL_LABELS),
], ids=["actions", "actors", "details"])
def test_everything_recorded_has_a_label(kind: str, recorded: object,
                                         labelled: dict[str, object]) -> None:
    assert callable(recorded)
    found = recorded()
    assert len(found) > 5, f"the scan found almost no {kind}s: it is broken"
    assert sorted(found - set(labelled)) == [], f"{kind}s without a label"


def test_the_scan_follows_actions_passed_through_a_function() -> None:
    assert {"project.created", "report.submitted", "info.updated"} <= recorded_actions()
    assert {"triage-assistant", "information-line", "cli", "contact"} <= recorded_actors()


@pytest.mark.parametrize(("language", "action", "actor", "detail"), [
    ("ar", "تسجيل دخول ناجح", "مساعد الفرز", "السبب"),
    ("en", "Signed in", "Triage assistant", "Reason"),
], ids=["arabic", "english"])
def test_labels_are_in_the_readers_language(app: Flask, language: str, action: str,
                                            actor: str, detail: str) -> None:
    with app.test_request_context(), force_locale(language):
        assert action_label("login.succeeded") == action
        assert actor_label("triage-assistant") == actor
        assert detail_lines({"reason": "x"}) == [(detail, "x")]


@pytest.mark.parametrize(("details", "lines"), [
    ({}, []),
    ({"unknown_key": "kept"}, [("unknown_key", "kept")]),
    ({"status": ["open", "closed"], "bulk": True}, [("Several cases at once", "Yes"),
                                                    ("Status", "Open → Closed")]),
    ({"user_ids": [3, 4], "entry": None}, [("Information entry", "—"),
                                           ("User numbers", "3, 4")]),
    ({"changes": {"level": [None, 3], "urgent": [False, True]}},
     [("Changes", "Level: — → 3; Urgent: No → Yes")]),
], ids=["none", "unknown-key-raw", "before-after-and-flag", "list-and-empty", "changes"])
def test_details_read_as_lines(app: Flask, details: dict[str, object],
                               lines: list[tuple[str, str]]) -> None:
    with app.test_request_context(), force_locale("en"):
        assert detail_lines(details) == lines


def test_unknown_codes_are_shown_as_stored(app: Flask) -> None:
    with app.test_request_context(), force_locale("ar"):
        assert action_label("nothing.like.this") == "nothing.like.this"
        assert actor_label("amal@example.org") == "amal@example.org"


@pytest.mark.parametrize(("details", "lines"), [
    ({"channel": "simulator"}, [("القناة", "محاكي الويب")]),
    ({"channel": "carrier-pigeon"}, [("القناة", "carrier-pigeon")]),
    ({"role": "focal_point", "user_id": 5}, [("الدور", "جهة التنسيق"), ("رقم المستخدم", "5")]),
    ({"status": ["referred", "closed"]}, [("الوضع", "محالة → مغلقة")]),
    ({"changes": {"status": ["new", "open"]}}, [("التغييرات", "الوضع: جديدة → مفتوحة")]),
    ({"fields": ["answer_ar", "keywords", "valid_to"]},
     [("الحقول", "الجواب بالعربية، كلمات الموضوع، صالحة حتى")]),
    ({"changed": ["active", "body_en"], "active": False},
     [("فعّال", "لا"), ("ما تغيّر", "فعّال، النص بالإنجليزية")]),
], ids=["channel", "unknown-channel-raw", "role", "status", "status-in-changes",
        "entry-fields", "canned-fields"])
def test_codes_among_the_values_read_in_arabic(app: Flask, details: dict[str, object],
                                               lines: list[tuple[str, str]]) -> None:
    with app.test_request_context(), force_locale("ar"):
        assert detail_lines(details) == lines
