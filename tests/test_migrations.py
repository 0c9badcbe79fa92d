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


def test_0016_gives_kept_entries_empty_sorani_and_unwinds(settings: Settings) -> None:
    """An entry written before the Sorani fields reads with them empty (its readers keep the
    Arabic answer), and going back removes only them."""
    app = create_app(settings)
    with app.app_context():
        upgrade(revision="0015")
        at = datetime(2026, 11, 30, 9, 0)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO info_entries (code, question_ar, question_en, answer_ar, answer_en, "
                "keywords, also, asks, unless, examples, locations, projects, active, "
                "created_at, updated_at) VALUES ('next_distribution', 'متى التوزيع؟', '', "
                "'قريباً', '', '[]', '[]', '[]', '[]', '[]', '[]', '[]', :yes, :at, :at)"),
                {"yes": True, "at": at})
        upgrade(revision="0016")
        with db.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT answer_ar, question_ckb, answer_ckb FROM info_entries")).one()
        assert tuple(row) == ("قريباً", "", "")
        downgrade(revision="0015")
        columns = {column["name"] for column in inspect(db.engine).get_columns("info_entries")}
        assert not {"question_ckb", "answer_ckb"} & columns and "answer_ar" in columns
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT code FROM info_entries")).scalar_one() == \
                "next_distribution"
        downgrade(revision="base")
        db.engine.dispose()
