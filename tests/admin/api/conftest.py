"""API fixtures: a bearer token for a user of any role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casework.models import User
from casework.tokens import create_token
from extensions import db


class ApiClient:
    """A test client that sends the token on every request."""

    def __init__(self, client: FlaskClient, token: str, user: User) -> None:
        self.client, self.token, self.user = client, token, user

    def request(self, method: str, path: str, **kwargs: object):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: object):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: object):
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: object):
        return self.request("PATCH", path, **kwargs)


@pytest.fixture
def api(app: Flask, make_user: Callable[..., User]) -> Callable[..., ApiClient]:
    def make(role: str, **kwargs: object) -> ApiClient:
        user = make_user(role, **kwargs)
        return ApiClient(app.test_client(), create_token(db.session, user), user)
    return make
