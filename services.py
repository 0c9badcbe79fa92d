"""The services one application instance shares: settings, keys, data files, adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy.orm import Session

from bot.engine import DialogueSettings
from casework.privacy import Vault
from casework.storage import AttachmentStore
from casework.triage import load_lexicon
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
        org_data = load_org_data(settings.sawti_config_dir)
        lexicon = load_lexicon(settings.sawti_config_dir / "triage.yaml",
                               load_model(settings.sawti_config_dir / "triage_model.json"))
        dialogue = DialogueSettings(
            org_name=settings.sawti_org_name,
            org_data=org_data,
            attach_window=timedelta(hours=settings.sawti_case_attach_hours),
            followup_ack_interval=timedelta(minutes=settings.sawti_followup_ack_minutes),
            question_timeout=timedelta(minutes=settings.sawti_dialogue_timeout_minutes),
            inbound_per_minute=settings.sawti_inbound_per_minute,
            triage=lexicon,
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


def services() -> Services:
    return current_app.extensions["sawti"]
