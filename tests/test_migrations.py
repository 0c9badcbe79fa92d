"""The Alembic migrations build exactly the schema the models describe, and unwind."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

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
