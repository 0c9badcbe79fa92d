from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from bot.language import SUPPORTED
from config.settings import REPLY_LANGUAGES, ConfigError, load_settings
from services import Services


def test_local_secrets_are_generated_once_into_instance(tmp_path: Path) -> None:
    first = load_settings(sawti_instance_path=tmp_path, secret_key=None, sawti_data_key=None,
                          sawti_env="development")
    second = load_settings(sawti_instance_path=tmp_path, secret_key=None, sawti_data_key=None,
                           sawti_env="development")
    assert first.secret_key == second.secret_key and len(first.secret_key or "") >= 32
    assert first.sawti_data_key == second.sawti_data_key != first.secret_key
    assert (tmp_path / "data_key").stat().st_mode & 0o077 == 0  # owner only


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"secret_key": None, "sawti_data_key": "d" * 40}, "SECRET_KEY",
                     id="missing-secret-key"),
        pytest.param({"secret_key": "s" * 40, "sawti_data_key": None}, "SAWTI_DATA_KEY",
                     id="missing-data-key"),
        pytest.param({"secret_key": "short", "sawti_data_key": "d" * 40}, "at least 32",
                     id="short-secret-key"),
    ],
)
def test_production_refuses_to_start_without_secrets(tmp_path: Path, overrides: dict,
                                                     message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(sawti_env="production", sawti_instance_path=tmp_path, **overrides)
    assert not (tmp_path / "secret_key").exists()


def test_unknown_environment_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SAWTI_ENV must be"):
        load_settings(sawti_env="staging", sawti_instance_path=tmp_path)


def test_environment_variables_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAWTI_ORG_NAME", "منظمة الأمل")
    monkeypatch.setenv("PUBLIC_URL", "https://crm.example.org/sawti")
    monkeypatch.setenv("SAWTI_INSTANCE_PATH", str(tmp_path))
    settings = load_settings()
    assert settings.sawti_org_name == "منظمة الأمل"
    assert settings.public_url == "https://crm.example.org/sawti"
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'sawti.db'}"


def test_production_disables_the_simulator_by_default(tmp_path: Path) -> None:
    settings = load_settings(sawti_env="production", sawti_instance_path=tmp_path,
                             secret_key="s" * 40, sawti_data_key="d" * 40)
    assert not settings.simulator_enabled
    app = create_app(settings)
    assert app.test_client().get("/simulator").status_code == 404


@pytest.mark.parametrize(("names", "language", "expected"), [
    pytest.param({}, "ar", "صوتي", id="default-arabic"),
    pytest.param({}, "en", "Sawti", id="default-english"),
    pytest.param({"SAWTI_ORG_NAME": "منظمة الأمل"}, "en", "منظمة الأمل",
                 id="own-name-without-english-kept"),
    pytest.param({"SAWTI_ORG_NAME": "منظمة الأمل", "SAWTI_ORG_NAME_EN": "Hope"}, "en", "Hope",
                 id="own-english-name"),
    pytest.param({"SAWTI_ORG_NAME": "منظمة الأمل", "SAWTI_ORG_NAME_EN": "Hope"}, "ar",
                 "منظمة الأمل", id="arabic-unchanged-by-english"),
    pytest.param({}, "ckb", "صوتي", id="default-kurdish-reads-the-arabic-name"),
    pytest.param({"SAWTI_ORG_NAME": "منظمة الأمل", "SAWTI_ORG_NAME_EN": "Hope"}, "ckb",
                 "منظمة الأمل", id="kurdish-never-gets-the-english-name"),
])
def test_the_organisation_is_named_in_the_readers_language(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: dict[str, str], language: str,
        expected: str) -> None:
    for name, value in names.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(sawti_instance_path=tmp_path)
    assert settings.org_name_in(language) == expected
    assert Services.build(settings).dialogue.org_name_in(language) == expected


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param(None, ("ar", "en", "ckb"), id="default-all"),
    pytest.param("ar,en", ("ar", "en"), id="kurdish-off"),
    pytest.param(" AR , ckb ,ar", ("ar", "ckb"), id="spaces-case-and-repeats"),
    pytest.param("ar", ("ar",), id="arabic-only"),
])
def test_reply_languages_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  value: str | None, expected: tuple[str, ...]) -> None:
    if value is not None:
        monkeypatch.setenv("SAWTI_REPLY_LANGUAGES", value)
    settings = load_settings(sawti_instance_path=tmp_path)
    assert settings.reply_languages == expected
    assert Services.build(settings).dialogue.reply_languages == expected


@pytest.mark.parametrize(("value", "message"), [
    pytest.param("ar,en,fr", "unknown language fr", id="unknown-language"),
    pytest.param("en,ckb", "must include ar", id="arabic-left-out"),
    pytest.param("", "must include ar", id="empty"),
])
def test_reply_languages_refused(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(sawti_instance_path=tmp_path, sawti_reply_languages=value)


def test_every_reply_language_is_one_the_dialogue_speaks() -> None:
    assert REPLY_LANGUAGES == SUPPORTED
