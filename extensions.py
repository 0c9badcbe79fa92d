"""Flask extensions, created unbound and attached to an app with ``init_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from casework.models import Base

# Objects stay readable after commit: services commit, then callers read ids and fields.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
# Limits are declared where they apply (the API, the login); storage is set by create_app.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
