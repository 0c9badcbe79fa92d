"""``flask worker``: the dispatcher (and, later, the scheduler) in one process."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask

from channels.base import SendError
from channels.telegram import TelegramAdapter
from extensions import db
from services import services

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Send what is due now, then exit.")
    def worker(once: bool) -> None:
        """Send queued messages through their channels until stopped."""
        svc = services()
        dispatcher = svc.dispatcher(db.session)
        try:
            if once:
                total = 0
                while attempted := dispatcher.run_once():
                    total += attempted
                click.echo(f"attempted {total} message(s)")
                return
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            log.info("worker started", extra={"channels": sorted(svc.adapters)})
            dispatcher.run_forever(stop)
            log.info("worker stopped")
        finally:
            svc.close()

    @app.cli.group("telegram")
    def telegram_group() -> None:
        """Telegram channel administration."""

    @telegram_group.command("set-webhook")
    def set_webhook() -> None:
        """Register PUBLIC_URL/webhooks/telegram with the secret token."""
        adapter = services().adapters.get("telegram")
        if not isinstance(adapter, TelegramAdapter):
            raise click.ClickException(
                "Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET.")
        try:
            adapter.set_webhook()
        except SendError as error:
            raise click.ClickException(f"Telegram refused the webhook: {error}") from error
        finally:
            adapter.close()
        click.echo("webhook registered")
