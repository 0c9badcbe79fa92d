"""``flask report monthly YYYY-MM --format xlsx|pdf|csv --out PATH [--lang ar|en]``.

This is the management report (see ``casework.report_files``): sensitive cases are counted,
not listed, because it goes beyond the people entitled to see them; ``--include-sensitive``
makes the PSEA unit's copy, which lists them.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask

from casework import programme
from casework.models import utcnow
from casework.report_files import FORMATS, LANGUAGES, WRITERS, build_report, parse_month
from extensions import db
from services import services


def register(app: Flask) -> None:
    @app.cli.group("report")
    def report() -> None:
        """Reports."""

    @report.command("monthly")
    @click.argument("month")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx",
                  show_default=True, help="xlsx; pdf; csv (a ZIP of CSV files for Power BI).")
    @click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="File to write.")
    @click.option("--lang", type=click.Choice(LANGUAGES), default="ar", show_default=True,
                  help="Language of the report.")
    @click.option("--include-sensitive", is_flag=True,
                  help="List sensitive cases too (the PSEA unit's copy).")
    def monthly(month: str, fmt: str, out: Path, lang: str, include_sensitive: bool) -> None:
        """Write the monthly CRM report of MONTH (YYYY-MM, in SAWTI_TIMEZONE)."""
        try:
            first = parse_month(month)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="MONTH") from error
        settings = services().settings
        result = build_report(db.session, first, org=services().org_data,
                              org_name=settings.org_name_in(lang),
                              tz=ZoneInfo(settings.sawti_timezone), lang=lang,
                              include_sensitive=include_sensitive, case_list=fmt != "pdf",
                              configured_channels=programme.configured_channels(settings),
                              due_day=settings.sawti_report_due_day)
        try:
            with out.open("wb") as handle:
                WRITERS[fmt](result, handle)
        except OSError as error:
            raise click.ClickException(f"cannot write {out}: {error.strerror}") from error
        programme.record_generated(db.session, first, utcnow())  # the submission log
        withheld = "" if include_sensitive else \
            f", {result.withheld_sensitive} sensitive counted only"
        click.echo(f"wrote {out} ({fmt}, {lang}, {len(result.cases)} cases listed{withheld})")
