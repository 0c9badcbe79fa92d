"""The services one application instance shares: settings, keys, data files, adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from bot.engine import DialogueSettings
from bot.sessions import redis_sessions
from casework.privacy import Vault
from casework.storage import AttachmentStore
from casework.triage import Lexicon, load_lexicon
from casework.triage_model import load_model
from channels import enabled_adapters
from channels.attachments import AttachmentFetcher
from channels.base import ChannelAdapter
from channels.dispatcher import Dispatcher
from channels.recent import RecentDeliveries, recent_deliveries
from config.data import OrgData, load_org_data
from config.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    vault: Vault
    org_data: OrgData
    dialogue: DialogueSettings
    adapters: dict[str, ChannelAdapter]
    attachment_store: AttachmentStore
    # The de-duplication fast path (Redis); None without REDIS_URL.
    recent: RecentDeliveries | None = None

    @classmethod
    def build(cls, settings: Settings) -> Services:
        assert settings.sawti_data_key is not None  # filled by Settings.with_local_secrets
        org_data, lexicon = load_config(settings.sawti_config_dir)
        dialogue = DialogueSettings(
            org_name=settings.sawti_org_name,
            org_name_en=settings.org_name_in("en"),
            org_data=org_data,
            attach_window=timedelta(hours=settings.sawti_case_attach_hours),
            followup_ack_interval=timedelta(minutes=settings.sawti_followup_ack_minutes),
            question_timeout=timedelta(minutes=settings.sawti_dialogue_timeout_minutes),
            inbound_per_minute=settings.sawti_inbound_per_minute,
            triage=lexicon,
            reply_languages=settings.reply_languages,
            sessions=redis_sessions(settings.redis_url),
        )
        store = AttachmentStore(settings.sawti_instance_path / "attachments")
        vault = Vault.from_settings(settings)
        recent = recent_deliveries(settings.redis_url, vault, settings.sawti_dedup_seconds)
        return cls(settings, vault, org_data, dialogue, enabled_adapters(settings), store,
                   recent)

    def dispatcher(self, session: Session) -> Dispatcher:
        """The worker's dispatcher, with the attachment fetcher, on the given session."""
        fetcher = AttachmentFetcher(session, self.adapters, self.attachment_store,
                                    self.settings.sawti_max_attachment_bytes,
                                    self.settings.sawti_attachment_fetch_attempts)
        return Dispatcher(session, self.adapters, self.vault, self.settings, fetcher=fetcher)

    def close(self) -> None:
        """Release what adapters hold open (connection pools, event loops)."""
        for adapter in set(self.adapters.values()):
            adapter.close()
        if self.recent is not None:
            self.recent.close()
        if self.dialogue.sessions is not None:
            self.dialogue.sessions.close()


CONFIG_FILES = ("grid.yaml", "categories.yaml", "locations.yaml", "triage.yaml",
                "triage_model.json")


def load_config(config_dir: Path) -> tuple[OrgData, Lexicon]:
    """The organisation's data files and the triage assistant, read once per process while
    the files are unchanged (each application instance used to spend 0.4 s parsing them)."""
    return _load_config(config_dir, tuple(_file_version(config_dir / name)
                                          for name in CONFIG_FILES))


def _file_version(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_mtime_ns, found.st_size


@lru_cache(maxsize=4)
def _load_config(config_dir: Path, _versions: tuple[tuple[int, int] | None, ...]
                 ) -> tuple[OrgData, Lexicon]:
    # OrgData, Lexicon and the model are frozen: one copy serves every application instance.
    lexicon = load_lexicon(config_dir / "triage.yaml",
                           load_model(config_dir / "triage_model.json"))
    return load_org_data(config_dir), lexicon


def services() -> Services:
    return current_app.extensions["sawti"]
