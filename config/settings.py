"""Typed settings read from the environment (names as in DESIGN.md's external contract).

For a local run the two secrets are generated once into ``instance/``; in production
(``SAWTI_ENV=production``) they must be given, and start-up stops with a clear message if not.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from logs import resolve_format

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
MIN_SECRET_LENGTH = 32
# Messages per second each channel may send (provider limits: Twilio queues SMS beyond its
# own rate, WhatsApp senders take about 80/s, a Telegram bot about 30/s, Twilio places one
# call per second by default).
DEFAULT_SEND_RATE = {"sms": 10, "whatsapp": 20, "telegram": 30, "voice": 1}
CALL_HOURS = re.compile(r"((?:[01]\d|2[0-3]):[0-5]\d)-((?:[01]\d|2[0-3]):[0-5]\d)")


# The languages the dialogue can answer in (bot.language.SUPPORTED); Arabic is the default and
# cannot be turned off.
REPLY_LANGUAGES = ("ar", "en", "ckb")
DEFAULT_REPLY_LANGUAGE = "ar"

DEFAULT_ORG_NAME = "صوتي"
DEFAULT_ORG_NAME_EN = "Sawti"


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    sawti_env: str = Field("development", description="development | production | test")
    sawti_instance_path: Path = DEFAULT_INSTANCE
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    sawti_data_key: str | None = None
    public_url: str | None = None
    sawti_org_name: str = DEFAULT_ORG_NAME
    # The name in English replies and reports; unset, the name above (or "Sawti" for ours).
    sawti_org_name_en: str | None = None
    sawti_config_dir: Path = PROJECT_ROOT / "config"
    sawti_timezone: str = "Asia/Damascus"

    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    # The bot's @username without the @: the t.me link and QR code of the awareness poster.
    telegram_bot_username: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_sms_number: str | None = None
    twilio_whatsapp_number: str | None = None
    twilio_voice_number: str | None = None
    twilio_api_url: str | None = None
    # An approved WhatsApp template (Content SID) telling a person a reply waits for them;
    # variable {{1}} is the case reference. Without it, late replies stay held.
    twilio_whatsapp_template_sid: str | None = None

    # None: on unless SAWTI_ENV=production.
    sawti_simulator: bool | None = None
    # A message from a contact whose case saw activity within this window joins that case.
    sawti_case_attach_hours: int = Field(72, ge=0)
    # "We added your message" is sent at most once per this many minutes per case.
    sawti_followup_ack_minutes: int = Field(10, ge=0)
    # A dialogue question left unanswered this long is forgotten.
    sawti_dialogue_timeout_minutes: int = Field(60, ge=1)
    # The languages the dialogue answers in, comma-separated: a message in another one it
    # recognises (Kurdish, with "ckb" left out) is answered in Arabic.
    sawti_reply_languages: str = ",".join(REPLY_LANGUAGES)
    sawti_send_max_attempts: int = Field(6, ge=1)
    sawti_send_backoff_seconds: float = Field(5.0, gt=0)
    sawti_send_backoff_max_seconds: float = Field(3600.0, gt=0)
    sawti_worker_poll_seconds: float = Field(0.25, gt=0)
    sawti_provider_timeout_seconds: float = Field(15.0, gt=0)
    sawti_max_request_bytes: int = Field(1024 * 1024, ge=1024)
    sawti_max_attachment_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    sawti_attachment_fetch_attempts: int = Field(5, ge=1)
    # Requests per token (Flask-Limiter notation).
    sawti_api_rate_limit: str = "120 per minute"
    # Messages from one sender beyond this many per minute are stored but not answered.
    sawti_inbound_per_minute: int = Field(20, ge=1)
    # With REDIS_URL: a stored delivery is remembered this long, so that a provider's retry
    # is answered without touching the database (0: off; the database always de-duplicates).
    sawti_dedup_seconds: int = Field(86400, ge=0)

    # Voice call-back line (Twilio Voice, on when TWILIO_VOICE_NUMBER is set too).
    # Calls are placed only within these local hours (SAWTI_TIMEZONE); "HH:MM-HH:MM".
    sawti_call_hours: str = "08:00-20:00"
    # Calls placed per call-back or reply before it is marked failed (busy, no answer...).
    sawti_call_max_attempts: int = Field(3, ge=1)
    # Wait before calling again after an unanswered call; doubles with each attempt.
    sawti_call_retry_minutes: float = Field(5.0, gt=0)
    # Missed calls from one number within this many minutes of a call-back make no other.
    sawti_callback_window_minutes: int = Field(15, ge=0)
    # Text-to-speech voice and language of every prompt without a recorded audio file.
    sawti_voice_name: str = "Polly.Zeina"
    sawti_voice_language: str = "arb"
    # Prompt name -> URL of a recorded audio file played instead of speech (JSON object).
    sawti_voice_prompts: dict[str, str] = Field(default_factory=dict)
    # What option 3 of the voice menu says; the catalogue's general text when unset.
    sawti_voice_info_text: str | None = None
    sawti_voice_max_recording_seconds: int = Field(180, ge=10, le=3600)

    # Alerts to staff by e-mail (on when SAWTI_SMTP_HOST is set) and the scheduled jobs.
    sawti_smtp_host: str | None = None
    sawti_smtp_port: int = Field(587, ge=1, le=65535)
    sawti_smtp_user: str | None = None
    sawti_smtp_password: str | None = None
    sawti_smtp_from: str | None = None
    sawti_smtp_starttls: bool = True
    # Local hour (SAWTI_TIMEZONE) from which the daily digest and referral reminders go out.
    sawti_digest_hour: int = Field(7, ge=0, le=23)
    # The monthly CRM report counts as submitted on time when marked submitted by this day
    # of the following month (local time).
    sawti_report_due_day: int = Field(10, ge=1, le=28)

    # Safety (issue 10): retention, key rotation, abuse limits, crash recovery.
    # The encrypted address of a contact with no open case is erased this many days after
    # their last case closed (or after their last message, if they never opened a case).
    sawti_retention_contact_days: int = Field(90, ge=1)
    # Inbound attachment files are deleted this many days after they arrived.
    sawti_retention_attachment_days: int = Field(365, ge=1)
    # Earlier data keys, newest first, separated by commas: still read, never written
    # (``flask keys rotate`` re-encrypts what they encrypted with SAWTI_DATA_KEY).
    sawti_data_key_previous: str | None = None
    # The secret that keys pseudonyms; it never rotates. Unset: SAWTI_DATA_KEY (required as
    # soon as SAWTI_DATA_KEY_PREVIOUS is set, so a rotation cannot split a person in two).
    sawti_pseudonym_key: str | None = None
    # Requests per client IP (Flask-Limiter notation) on the provider webhooks: all of them,
    # and those refused (403 unverified, 400 malformed, 413 too large).
    sawti_webhook_rate_limit: str = "600 per minute"
    sawti_webhook_refusal_limit: str = "30 per minute"
    # Sign-in attempts (password or code) per client IP.
    sawti_login_rate_limit: str = "10 per minute"
    # Reverse proxies in front of Sawti whose X-Forwarded-For is trusted for the client IP
    # (0: none; behind one proxy, 1 — else every client shares the proxy's limits).
    sawti_trusted_proxies: int = Field(0, ge=0, le=5)
    # How long a dispatcher's claim on a message lasts; a worker that died mid-send leaves
    # the message to be sent again (at most once more) after this.
    sawti_send_lease_seconds: float = Field(120.0, gt=0)
    # Sends a worker has in flight at once, each to a different person (one person's messages
    # always go one after another). More is faster with a slow provider; a worker killed
    # mid-send may then send that many messages twice.
    sawti_send_concurrency: int = Field(4, ge=1, le=32)
    # Log lines as JSON objects or text; unset: json in production, text elsewhere (logs.py).
    sawti_log_format: str | None = None
    # With REDIS_URL, an idle worker is woken through Redis when messages are queued and
    # looks at the database anyway this often (without Redis: SAWTI_WORKER_POLL_SECONDS).
    sawti_worker_redis_poll_seconds: float = Field(5.0, gt=0)
    # Channel -> messages per second (JSON object), shared by all workers through Redis (each
    # worker's own without it); a channel not listed, or 0, is not limited.
    sawti_send_rate: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_SEND_RATE))

    @field_validator("sawti_env")
    @classmethod
    def _known_env(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"development", "production", "test"}:
            raise ValueError("SAWTI_ENV must be development, production or test")
        return value

    @field_validator("sawti_call_hours")
    @classmethod
    def _call_hours(cls, value: str) -> str:
        value = value.strip()
        match = CALL_HOURS.fullmatch(value)
        if match is None or match.group(1) == match.group(2):
            raise ValueError("SAWTI_CALL_HOURS must look like 08:00-20:00 (two different times)")
        return value

    @field_validator("sawti_reply_languages")
    @classmethod
    def _reply_languages(cls, value: str) -> str:
        codes = [code.strip().lower() for code in value.split(",") if code.strip()]
        unknown = sorted(set(codes) - set(REPLY_LANGUAGES))
        if unknown:
            raise ValueError(f"SAWTI_REPLY_LANGUAGES: unknown language {', '.join(unknown)} "
                             f"(known: {', '.join(REPLY_LANGUAGES)})")
        if DEFAULT_REPLY_LANGUAGE not in codes:
            raise ValueError("SAWTI_REPLY_LANGUAGES must include ar: Arabic is the language "
                             "of every reply in no other")
        return ",".join(dict.fromkeys(codes))

    @field_validator("sawti_send_rate")
    @classmethod
    def _send_rate(cls, value: dict[str, int]) -> dict[str, int]:
        if any(rate < 0 for rate in value.values()):
            raise ValueError("SAWTI_SEND_RATE: messages per second cannot be negative")
        return value

    @field_validator("sawti_log_format")
    @classmethod
    def _log_format(cls, value: str | None) -> str | None:
        return resolve_format(value, None) if value else None

    @model_validator(mode="after")
    def _pseudonym_key_pinned(self) -> Settings:
        if self.previous_data_keys and not self.sawti_pseudonym_key:
            raise ValueError(
                "SAWTI_DATA_KEY_PREVIOUS is set but SAWTI_PSEUDONYM_KEY is not: set "
                "SAWTI_PSEUDONYM_KEY to the key that has keyed pseudonyms so far (the "
                "SAWTI_DATA_KEY in use before the first rotation), or every person would "
                "become a new contact")
        return self

    @property
    def previous_data_keys(self) -> tuple[str, ...]:
        """SAWTI_DATA_KEY_PREVIOUS as a list, newest first."""
        keys = (self.sawti_data_key_previous or "").split(",")
        return tuple(key.strip() for key in keys if key.strip())

    @property
    def reply_languages(self) -> tuple[str, ...]:
        """SAWTI_REPLY_LANGUAGES as a tuple of language codes."""
        return tuple(self.sawti_reply_languages.split(","))

    @property
    def log_format(self) -> str:
        """``json`` or ``text``: SAWTI_LOG_FORMAT, else json in production."""
        return resolve_format(self.sawti_log_format, self.sawti_env)

    def org_name_in(self, language: str) -> str:
        """The organisation's name in a message or report in ``language``."""
        if language != "en":
            return self.sawti_org_name
        if self.sawti_org_name_en:
            return self.sawti_org_name_en
        return DEFAULT_ORG_NAME_EN if self.sawti_org_name == DEFAULT_ORG_NAME \
            else self.sawti_org_name

    @property
    def is_production(self) -> bool:
        return self.sawti_env == "production"

    @property
    def simulator_enabled(self) -> bool:
        return (not self.is_production) if self.sawti_simulator is None else self.sawti_simulator

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sawti_instance_path / 'sawti.db'}"

    def with_local_secrets(self) -> Settings:
        """Fill missing secrets: generated into instance/ locally, an error in production."""
        updates: dict[str, str] = {}
        for field, filename in (("secret_key", "secret_key"), ("sawti_data_key", "data_key")):
            value = getattr(self, field)
            if value and len(value) >= MIN_SECRET_LENGTH:
                continue
            if self.is_production or value:
                raise ConfigError(
                    f"{field.upper()} must be set to a random string of at least "
                    f"{MIN_SECRET_LENGTH} characters (for example: python -c "
                    "'import secrets; print(secrets.token_urlsafe(48))')."
                )
            updates[field] = _instance_secret(self.sawti_instance_path / filename)
        return self.model_copy(update=updates) if updates else self


def _instance_secret(path: Path) -> str:
    """Read a secret kept in instance/, creating it (owner-only) on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value, encoding="utf-8")
    return value


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (tests) taking precedence."""
    try:
        settings = Settings(**overrides)
    except ValueError as error:
        raise ConfigError(f"Invalid configuration: {error}") from error
    return settings.with_local_secrets()
