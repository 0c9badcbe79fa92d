from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework.models import Message
from extensions import db


def test_worker_once_delivers_everything_due(app: Flask,
                                             simulate: Callable[..., TestResponse]) -> None:
    simulate("لم أستلم السلة الغذائية")
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "attempted 2 message(s)" in result.output
    with app.app_context():
        statuses = db.session.scalars(select(Message.status).where(Message.direction == "out"))
        assert list(statuses) == ["delivered", "delivered"]
