"""Flask extensions, created unbound and attached to an app with ``init_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from casework.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
