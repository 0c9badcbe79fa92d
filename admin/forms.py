"""What the console's forms share: validators and fields whose messages come from Sawti's own
catalogue, and the check that a record of something that happened is not dated after today.

WTForms' Arabic catalogue leaves most plural forms empty (a ``Length(max=…)`` message falls
back to English), calls an integer a "real number", and has no translation of a multiple
choice's error; so the console's forms take these messages from here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, SelectMultipleField, ValidationError, widgets
from wtforms.validators import Length, StopValidation

from casework.manual import local_today
from casework.models import utcnow
from services import services

WHOLE_NUMBER = _l("Enter a whole number.")
NOT_IN_THE_LIST = _l("Choose only from the list.")
FUTURE_DATE = _l("The date cannot be in the future.")


def max_length(limit: int) -> Length:
    """``Length(max=limit)`` with a translated message that gives the limit."""
    message = lazy_ngettext("The text cannot be longer than %(count)s character.",
                            "The text cannot be longer than %(count)s characters.",
                            limit, count=format(limit, ","))
    return Length(max=limit, message=message)


def organisation_today() -> date:
    """Today where the organisation works (its time zone, not the server's)."""
    return local_today(utcnow(), services().settings.sawti_timezone)


class NotInFuture:
    """Refuses a date after today where the organisation works: a record of something that
    happened cannot be dated later."""

    def __init__(self, message: Any = FUTURE_DATE) -> None:
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, date) and field.data > organisation_today():
            raise ValidationError(str(self.message))


class WholeNumberField(IntegerField):
    """An integer field whose "not a number" error says what to type, and only that."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and not str(valuelist[0]).strip():
            self.data = None  # nothing typed: Optional or InputRequired decides
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(WHOLE_NUMBER)) from None

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()  # not a number: a range error too would only repeat it


class ChoicesField(SelectMultipleField):
    """Several choices from a list; a value not in it is refused with a translated message
    (not WTForms' untranslated one, which also repeats what was sent)."""

    def pre_validate(self, form: Any) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(str(NOT_IN_THE_LIST)) from None


class MultiCheckboxField(ChoicesField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for one-button actions."""
