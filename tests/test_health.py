from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app import create_app
from casework.models import Message, utcnow
from config.settings import Settings
from extensions import db


@pytest.mark.parametrize("settings_overrides", [{"redis_url": None}])
def test_healthy_without_redis(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "dispatcher_lag_seconds": 0.0,
                              "redis": "not configured", "status": "ok", "spool_depth": 0}


def test_dispatcher_lag_is_the_oldest_due_message(
    client: FlaskClient, simulate: Callable[..., TestResponse], app_context: None,
) -> None:
    simulate("مشكلة")
    oldest = db.session.scalars(select(Message).where(Message.direction == "out")).first()
    assert oldest is not None
    oldest.next_attempt_at = utcnow() - timedelta(seconds=90)
    db.session.commit()
    lag = client.get("/healthz").json["dispatcher_lag_seconds"]
    assert 90 <= lag < 100


@pytest.mark.parametrize("settings_overrides", [{"redis_url": "redis://127.0.0.1:1/0"}])
def test_unreachable_redis_is_reported(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"] == "unavailable" and response.json["database"] == "ok"


@pytest.mark.parametrize("settings_overrides",
                         [{"database_url": "sqlite:////nonexistent/dir/x.db"}])
def test_unreachable_database_is_reported(settings: Settings) -> None:
    response = create_app(settings).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"
