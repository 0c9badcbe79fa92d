"""``flask worker``: the dispatcher (and, later, the scheduler) in one process."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask

from channels.dispatcher import Dispatcher
from extensions import db
from services import services

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Send what is due now, then exit.")
    def worker(once: bool) -> None:
        """Send queued messages through their channels until stopped."""
        svc = services()
        dispatcher = Dispatcher(db.session, svc.adapters, svc.vault, svc.settings)
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
