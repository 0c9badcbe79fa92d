"""SMS and WhatsApp as a real deployment meets them: locations, delivery failures by error
code, STOP at Twilio, repeated form keys; the real twilio client against the local fake."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework.models import Case, Direction, Message
from extensions import db
from tests.channels.conftest import post_twilio
from tests.fakes.twilio_api import messaging_form, whatsapp_location_form

MESSAGING = "/webhooks/twilio/messaging"
STATUS = "/webhooks/twilio/status"


def _inbound() -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.direction == Direction.INBOUND)))


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- WhatsApp locations ---------------------------------------------------------------------

@pytest.mark.parametrize(("form", "coordinates", "text"), [
    pytest.param(whatsapp_location_form("35.9306", "36.6339"), (35.9306, 36.6339), "",
                 id="dropped-pin"),
    pytest.param(whatsapp_location_form("36.2021", "37.1343", label="مركز التوزيع",
                                        address="حلب، سوريا"),
                 (36.2021, 37.1343), "مركز التوزيع\nحلب، سوريا", id="named-place"),
    pytest.param(whatsapp_location_form("-33.5", "-70.25"), (-33.5, -70.25), "",
                 id="southern-western"),
])
def test_a_whatsapp_location_is_kept_on_the_case(
        client: FlaskClient, app_context: None, form: dict, coordinates: tuple[float, float],
        text: str) -> None:
    assert post_twilio(client, MESSAGING, form).status_code == 200
    [message] = _inbound()
    assert message.kind == "location" and message.body == text
    case = db.session.scalars(select(Case)).one()
    assert (case.latitude, case.longitude) == coordinates


@pytest.mark.parametrize("form", [
    pytest.param(whatsapp_location_form("north", "36.6"), id="latitude-not-a-number"),
    pytest.param(whatsapp_location_form("91", "36.6"), id="latitude-out-of-range"),
    pytest.param(whatsapp_location_form("35.9", "-180.5"), id="longitude-out-of-range"),
    pytest.param(whatsapp_location_form("nan", "36.6"), id="latitude-nan"),
    pytest.param(whatsapp_location_form("35.9", "inf"), id="longitude-infinite"),
    pytest.param(whatsapp_location_form("35.9", "36.6", Longitude=None),
                 id="latitude-without-longitude"),
])
def test_a_malformed_location_is_400(client: FlaskClient, app_context: None, form: dict
                                     ) -> None:
    assert post_twilio(client, MESSAGING, form).status_code == 400
    assert _count(Message) == 0


def test_an_sms_with_coordinate_fields_is_text(client: FlaskClient, app_context: None) -> None:
    """Only WhatsApp carries locations; SMS text is never read as one."""
    form = messaging_form(Body="شكوى", Latitude="35.9", Longitude="36.6")
    assert post_twilio(client, MESSAGING, form).status_code == 200
    [message] = _inbound()
    assert message.kind == "text"
