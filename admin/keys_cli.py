"""``flask keys rotate`` — re-encrypt stored secrets with the current ``SAWTI_DATA_KEY``."""

from __future__ import annotations

import click
from flask import Flask

from casework import keys
from casework.models import utcnow
from extensions import db
from services import services


def register(app: Flask) -> None:
    @app.cli.group("keys")
    def keys_group() -> None:
        """Data key rotation (see casework/keys.py for the procedure)."""

    @keys_group.command("rotate")
    @click.option("--batch", default=keys.BATCH, show_default=True,
                  help="Rows re-encrypted per transaction.")
    def rotate(batch: int) -> None:
        """Re-encrypt addresses and staff secrets under SAWTI_DATA_KEY_PREVIOUS with
        SAWTI_DATA_KEY. Safe to interrupt and run again; web and worker keep running."""
        vault = services().vault
        if not vault.rotating:
            click.echo("SAWTI_DATA_KEY_PREVIOUS is not set: values under an unknown key would "
                       "be reported as unreadable.", err=True)
        try:
            result = keys.rotate(db.session, vault, utcnow(), batch=max(1, batch),
                                 actor="cli", progress=_progress)
        except keys.PseudonymKeyMismatch as error:
            raise click.ClickException(str(error)) from None
        for name, count in result.rotated.items():
            click.echo(f"{name}: {count} re-encrypted, {result.current[name]} already current, "
                       f"{result.unreadable[name]} unreadable")
        if result.changed_meanwhile:
            click.echo(f"{result.changed_meanwhile} value(s) changed during the run: run again.")
        if result.total_unreadable:
            raise click.ClickException(
                f"{result.total_unreadable} value(s) cannot be read with any configured key; "
                "keep SAWTI_DATA_KEY_PREVIOUS until they are accounted for.")
        click.echo("done: every value is under the current key; SAWTI_DATA_KEY_PREVIOUS may "
                   "be removed once web and worker run without it.")


def _progress(name: str, rotated: int) -> None:
    click.echo(f"  {name}: {rotated} so far", err=True)
