from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from casework.models import ApiToken, AuditEvent
from extensions import db


def test_create_shows_the_token_once_and_it_works(signed_in: Callable[..., FlaskClient]
                                                  ) -> None:
    client = signed_in("officer")
    page = client.post("/admin/tokens", data={"name": "Power BI"}).get_data(as_text=True)
    token = re.search(r'id="new-token">(sawti_[\w-]+)<', page).group(1)  # type: ignore[union-attr]
    assert token not in client.get("/admin/tokens").get_data(as_text=True)  # never again
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.name == "Power BI" and token not in stored.token_hash
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200


def test_revoke_own_token_but_not_someone_elses(signed_in: Callable[..., FlaskClient]) -> None:
    owner, other = signed_in("officer"), signed_in("psea")
    owner.post("/admin/tokens", data={"name": "script"})
    record = db.session.scalars(select(ApiToken)).one()
    assert other.post(f"/admin/tokens/{record.id}/revoke").status_code == 404
    assert owner.post(f"/admin/tokens/{record.id}/revoke").status_code == 302
    db.session.refresh(record)
    assert record.revoked_at is not None
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"token.created", "token.revoked"} <= actions


def test_admin_sees_every_token(signed_in: Callable[..., FlaskClient]) -> None:
    officer = signed_in("officer")
    officer.post("/admin/tokens", data={"name": "officer-script"})
    admin = signed_in("admin")
    assert "officer-script" in admin.get("/admin/tokens").get_data(as_text=True)
    psea = signed_in("psea")
    assert "officer-script" not in psea.get("/admin/tokens").get_data(as_text=True)
