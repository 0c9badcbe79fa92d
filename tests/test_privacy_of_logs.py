"""No phone number, Telegram id, tab id or message text ever reaches the logs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from channels.dispatcher import Dispatcher

SECRET_TEXT = "اسمي فاطمة ورقمي 0944123456 والموظف طلب مني مصاري"
TAB = "tab-private-person-7"


def test_a_whole_conversation_logs_nothing_personal(
    simulate: Callable[..., TestResponse], client: FlaskClient, dispatcher: Dispatcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    simulate(SECRET_TEXT, tab=TAB)
    simulate("1", tab=TAB)
    simulate("توقف", tab=TAB)
    client.post("/webhooks/simulator", json={"tab": TAB, "id": "x", "text": SECRET_TEXT})  # 403
    dispatcher.run_once()
    client.get("/simulator/messages?after=0", headers={"X-Sawti-Tab": TAB})
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records, "expected some log records (for example the rejected webhook)"
    for secret in (TAB, "0944123456", "فاطمة", "مصاري"):
        assert secret not in logged
