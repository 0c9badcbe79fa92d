"""``flask worker``: the dispatcher and the scheduler in one process; ``flask jobs``."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask

from casework.models import utcnow
from casework.scheduler import JOBS, Scheduler, job_named, leadership_for
from channels import spool, wakeup
from channels.base import SendError
from channels.telegram import TelegramAdapter
from extensions import db
from services import services

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    # Every commit that queued messages wakes an idle worker through Redis (if configured).
    wakeup.install(app, app.extensions["sawti"].settings.redis_url)

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Send what is due now, then exit.")
    @click.option("--no-scheduler", is_flag=True, help="Do not run the scheduled jobs.")
    def worker(once: bool, no_scheduler: bool) -> None:
        """Send queued messages through their channels and run the scheduled jobs (digest,
        reminders, alerts, surveys, monthly report) until stopped."""
        svc = services()
        dispatcher = svc.dispatcher(db.session)
        try:
            if once:
                spool.replay(app)  # requests kept while the database was away, first
                total = 0
                while attempted := dispatcher.run_once():
                    total += attempted
                click.echo(f"attempted {total} message(s)")
                return
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            scheduler = None
            if not no_scheduler:
                scheduler = Scheduler(app, leadership_for(svc.settings.redis_url))
                scheduler.start()
            log.info("worker started", extra={"channels": sorted(svc.adapters)})
            spool.Replayer(app, stop).start()
            try:
                dispatcher.run_forever(stop)
            finally:
                if scheduler is not None:
                    scheduler.shutdown()
            log.info("worker stopped")
        finally:
            dispatcher.close()
            svc.close()

    @app.cli.group("jobs")
    def jobs_group() -> None:
        """The scheduled jobs that ``flask worker`` runs."""

    @jobs_group.command("list")
    def list_jobs() -> None:
        """Name and interval of each scheduled job."""
        for job in JOBS:
            click.echo(f"{job.name}\tevery {job.every}")

    @jobs_group.command("run")
    @click.argument("name")
    def run_job(name: str) -> None:
        """Run one scheduled job now, in this process (it is idempotent)."""
        try:
            job = job_named(name)
        except KeyError as error:
            raise click.ClickException(str(error.args[0])) from None
        result = job.run(db.session, services(), utcnow())
        click.echo(f"{job.name}: {result}")

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
