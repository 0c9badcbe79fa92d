"""The Alembic migrations build exactly the schema the models describe, and unwind."""

from __future__ import annotations

from datetime import datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from casework.models import Base, include_in_autogenerate
from config.settings import Settings
from extensions import db


def test_upgrade_matches_models_and_downgrade_removes_everything(settings: Settings) -> None:
    app = create_app(settings)  # no create_all: the migrations alone build the schema
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True, "include_name": include_in_autogenerate})
            assert compare_metadata(context, Base.metadata) == []
        downgrade(revision="base")
        engine = create_engine(settings.sqlalchemy_url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        db.engine.dispose()


# (status, error code of a report kept before revision 0015, retryable after it)
KEPT_REPORTS = [
    ("failed", "30003", True),
    ("failed", "30008", True),
    ("failed", "63018", True),
    ("failed", "30005", False),
    ("failed", None, False),
    ("delivered", None, False),
]


def test_0015_marks_kept_failures_that_may_pass(settings: Settings) -> None:
    """A report kept before the retryable flag existed is applied as one kept after it."""
    app = create_app(settings)
    with app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as connection:
            for number, (status, code, _retryable) in enumerate(KEPT_REPORTS):
                connection.execute(text(
                    "INSERT INTO pending_statuses (channels, external_id, status, error_code, "
                    "opted_out, window_closed, received_at) VALUES ('sms,whatsapp', :sid, "
                    ":status, :code, :no, :no, :at)"),
                    {"sid": f"SM{number:032d}", "status": status, "code": code, "no": False,
                     "at": datetime(2026, 11, 30, 2, 0)})
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT status, error_code, retryable FROM pending_statuses ORDER BY id")).all()
        assert [(status, code, bool(retryable)) for status, code, retryable in rows] == \
            KEPT_REPORTS
        downgrade(revision="base")
        db.engine.dispose()
