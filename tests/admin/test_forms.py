"""The console's shared form helpers (admin/forms.py), and that every console form uses them:
no error message of a console form may fall back to English on an Arabic page."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, FieldList, FormField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import Length, NumberRange

import admin
from admin.forms import ChoicesField, WholeNumberField, max_length


def _console_forms() -> list[type[FlaskForm]]:
    modules = [getattr(admin, name) for name in dir(admin) if inspect.ismodule(getattr(admin,
                                                                                   name))]
    return sorted({form for module in modules for _name, form in inspect.getmembers(
        module, lambda value: inspect.isclass(value) and issubclass(value, FlaskForm)
        and value.__module__.startswith("admin."))}, key=lambda form: form.__qualname__)


def _fields(form: type[FlaskForm]) -> Iterator[tuple[str, type[Field], tuple[object, ...],
                                                dict[str, object]]]:
    """Every field of a form class, and of the forms inside its lists of forms (unbound)."""
    for name in dir(form):
        unbound = getattr(form, name)
        if not hasattr(unbound, "field_class"):
            continue
        label = f"{form.__module__.removeprefix('admin.')}.{form.__qualname__}.{name}"
        yield label, unbound.field_class, unbound.args, unbound.kwargs
        inner = unbound.args[0] if unbound.field_class is FieldList else None
        if inner is not None and inner.field_class is FormField:
            yield from _fields(inner.args[0])


FIELDS = list({label: pytest.param(field_class, args, kwargs, id=label)
               for form in _console_forms()
               for label, field_class, args, kwargs in _fields(form)}.values())


def test_the_console_forms_are_found() -> None:
    names = {form.__qualname__ for form in _console_forms()}
    assert {"EntryForm", "TrainingForm", "ParticipantForm", "SessionForm", "LoginForm",
            "CannedForm", "RevealForm", "TokenForm", "AuditFilterForm"} <= names
    labels = {param.id for param in FIELDS}
    assert {"programme.ParticipantForm.count", "programme.TrainingForm.participants",
            "entry.EntryForm.text", "info.EntryForm.locations"} <= labels


@pytest.mark.parametrize(("field_class", "args", "kwargs"), FIELDS)
def test_every_console_field_has_translated_messages(
    field_class: type[Field], args: tuple[object, ...], kwargs: dict[str, object],
) -> None:
    for validator in kwargs.get("validators") or ():  # type: ignore[attr-defined]
        if isinstance(validator, Length) and validator.min == -1:
            assert validator.message is not None, "use admin.forms.max_length"
        if isinstance(validator, NumberRange):
            assert validator.message is not None, "give NumberRange a translated message"
    if issubclass(field_class, IntegerField):
        assert issubclass(field_class, WholeNumberField)
    if issubclass(field_class, SelectMultipleField):
        assert issubclass(field_class, ChoicesField)
    if field_class is FormField:  # a plain wtforms.Form would get no translations at all
        assert issubclass(args[0], FlaskForm)  # type: ignore[arg-type]


@pytest.mark.parametrize(("limit", "lang", "expected"), [
    pytest.param(1, "ar", "لا يمكن أن يزيد النص على حرف واحد.", id="ar-one"),
    pytest.param(2, "ar", "لا يمكن أن يزيد النص على حرفين.", id="ar-two"),
    pytest.param(5, "ar", "لا يمكن أن يزيد النص على 5 أحرف.", id="ar-few"),
    pytest.param(20, "ar", "لا يمكن أن يزيد النص على 20 حرفاً.", id="ar-many"),
    pytest.param(200, "ar", "لا يمكن أن يزيد النص على 200 حرف.", id="ar-hundreds"),
    pytest.param(10_000, "ar", "لا يمكن أن يزيد النص على 10,000 حرف.", id="ar-thousands"),
    pytest.param(1, "en", "The text cannot be longer than 1 character.", id="en-one"),
    pytest.param(10_000, "en", "The text cannot be longer than 10,000 characters.",
                 id="en-thousands"),
])
def test_max_length_names_the_limit_in_the_page_language(app: Flask, limit: int, lang: str,
                                                         expected: str) -> None:
    class Form(FlaskForm):
        class Meta:
            csrf = False

        text = StringField(validators=[max_length(limit)])

    with app.test_request_context(f"/?lang={lang}"):
        form = Form(formdata=MultiDict({"text": "x" * (limit + 1)}))
        assert not form.validate()
        assert form.text.errors == [expected]
        assert Form(formdata=MultiDict({"text": "x" * limit})).validate()
