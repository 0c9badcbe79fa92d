"""gunicorn.conf.py: the web process's settings as gunicorn reads them from the environment."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from gunicorn.config import Config

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
ENVIRONMENT = ("PORT", "SAWTI_BIND", "WEB_CONCURRENCY", "SAWTI_WEB_THREADS",
               "SAWTI_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS", "SAWTI_LOG_FORMAT", "SAWTI_ENV")
DEFAULT_WORKERS = max(2, min(4, os.cpu_count() or 1))


def _load(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> dict[str, object]:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        pytest.param({}, {"bind": "127.0.0.1:5000", "workers": DEFAULT_WORKERS, "threads": 4,
                          "forwarded_allow_ips": "", "logconfig_dict": None},
                     id="defaults"),
        pytest.param({"PORT": "8000", "SAWTI_BIND": "10.0.0.5"}, {"bind": "10.0.0.5:8000"},
                     id="port-and-bind"),
        pytest.param({"WEB_CONCURRENCY": "3", "SAWTI_WEB_THREADS": "8"},
                     {"workers": 3, "threads": 8}, id="concurrency"),
        pytest.param({"SAWTI_TRUSTED_PROXIES": "1"},
                     {"forwarded_allow_ips": "127.0.0.1,::1"}, id="behind-local-nginx"),
        pytest.param({"SAWTI_TRUSTED_PROXIES": "2", "FORWARDED_ALLOW_IPS": "10.0.0.0/8"},
                     {"forwarded_allow_ips": "10.0.0.0/8"}, id="behind-a-balancer"),
        pytest.param({"SAWTI_TRUSTED_PROXIES": "0", "FORWARDED_ALLOW_IPS": "10.0.0.0/8"},
                     {"forwarded_allow_ips": ""}, id="no-proxy-trusted-means-none"),
        pytest.param({"SAWTI_ENV": "development"}, {"logconfig_dict": None}, id="text-logs"),
    ],
)
def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                       environment: dict[str, str],
                                       expected: dict[str, object]) -> None:
    conf = _load(monkeypatch, environment)
    for name, value in expected.items():
        assert conf.get(name) == value, name
    assert conf["preload_app"] is False
    assert conf["accesslog"] is None
    assert conf["control_socket_disable"] is True
    assert conf["max_requests"] > 0 and 0 < conf["max_requests_jitter"] < conf["max_requests"]
    assert conf["graceful_timeout"] <= conf["timeout"]


@pytest.mark.parametrize("environment", [
    pytest.param({"SAWTI_ENV": "production"}, id="production"),
    pytest.param({"SAWTI_LOG_FORMAT": "json"}, id="asked-for"),
])
def test_gunicorns_own_lines_are_json_when_the_apps_are(monkeypatch: pytest.MonkeyPatch,
                                                       environment: dict[str, str]) -> None:
    logging_config = _load(monkeypatch, environment)["logconfig_dict"]
    assert isinstance(logging_config, dict)
    assert logging_config["formatters"]["json"] == {"()": "logs.JsonFormatter"}
    assert logging_config["loggers"]["gunicorn.access"]["handlers"] == []
    assert logging_config["root"]["handlers"] == []  # the app installs its own


@pytest.mark.parametrize(("name", "value"), [
    pytest.param("WEB_CONCURRENCY", "many", id="not-a-number"),
    pytest.param("SAWTI_WEB_THREADS", "0", id="no-threads"),
    pytest.param("SAWTI_LOG_FORMAT", "xml", id="unknown-log-format"),
])
def test_a_bad_value_stops_start_up(monkeypatch: pytest.MonkeyPatch, name: str,
                                    value: str) -> None:
    with pytest.raises(ValueError, match=name):
        _load(monkeypatch, {name: value})


def test_gunicorn_accepts_every_value(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _load(monkeypatch, {"SAWTI_ENV": "production", "SAWTI_TRUSTED_PROXIES": "1"})
    config = Config()
    for name, value in conf.items():
        if name in config.settings:
            config.set(name, value)  # gunicorn's own validators
    assert config.worker_class_str == "gthread"
    assert config.forwarded_allow_ips == ["127.0.0.1", "::1"]


def test_loading_it_creates_no_app_and_no_database_connection() -> None:
    probe = ("import runpy, sys; runpy.run_path(sys.argv[1]); "
             "print(sorted({'app', 'sqlalchemy', 'psycopg', 'redis'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe, str(CONF)], cwd=CONF.parent,
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
