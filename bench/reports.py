"""The monthly report and the dashboard at scale, on PostgreSQL.

A benchmark, not a test. It drops and creates the database ``sawti_bench_reports`` (the name
comes from ``--postgres-url``; it must not be a database you use), creates the schema from the
models, and fills it by COPY with one busy month (100,000 cases by default) plus a lighter
year of history before it (``--history-per-month`` cases each month), with their contacts,
inbound messages, officers' replies, referrals and survey answers. Then it measures:

- the monthly report of the busy month, end to end (KPIs, case list, trend alerts, file):
  XLSX, PDF and CSV — target under 10 s each;
- the dashboard page for the twelve months ending with it, through the real Flask route
  (test client, signed in as a viewer) — target under 1 s (median of ``--runs``).

    .venv/bin/python bench/reports.py [--cases 100000] [--history-per-month 10000]
        [--runs 5] [--keep] [--dashboard-only] [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/...]

``--keep`` reuses the data of an earlier run with the same sizes instead of generating it.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import Connection, Table, create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from app import create_app  # noqa: E402
from casework.models import Case, Contact, Message, Referral, User  # noqa: E402
from casework.references import damm_check_digit  # noqa: E402
from casework.report_files import FORMATS, build_report, render  # noqa: E402
from config.data import load_org_data  # noqa: E402
from config.settings import load_settings  # noqa: E402
from extensions import db  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sawti_bench_reports"
MONTH = date(2026, 10, 1)  # the busy month
ZONE = ZoneInfo("Asia/Damascus")
NOW = datetime(2026, 11, 1, 6, tzinfo=UTC)  # the report runs the morning after the month
REPORT_TARGET_S = 10.0
DASHBOARD_TARGET_S = 1.0
CHUNK = 20_000
SEED = 20261129
CHANNELS = (("telegram", 30), ("whatsapp", 30), ("sms", 20), ("voice", 12), ("box", 4),
            ("in_person", 4))
LEVELS = ((1, 40), (2, 20), (3, 18), (4, 12), (5, 5), (None, 5))
GENDERS = (("female", 45), ("male", 40), ("unknown", 5), (None, 10))
AGES = (("adult", 60), ("child", 10), ("elderly", 15), (None, 15))
REPLY_STATES = (("delivered", 70), ("read", 10), ("sent", 12), ("failed", 5), ("queued", 3))


def main() -> None:
    options = _options()
    url = options.postgres_url
    if make_url(url).get_backend_name() != "postgresql":
        sys.exit("this benchmark runs on PostgreSQL: give a postgresql+psycopg:// URL")
    instance = Path(tempfile.mkdtemp(prefix="sawti-bench-reports-"))
    app = _app(url, instance)
    months = [_month(MONTH, back) for back in range(12, 0, -1)]
    sizes = [(first, options.history_per_month) for first in months] + [(MONTH, options.cases)]
    with app.app_context():
        expected = sum(count for _first, count in sizes)
        if not (options.keep and _case_count(url) == expected):
            _recreate(url)
            db.engine.dispose()
            db.create_all()
            seconds = _fill(sizes)
            print(f"generated {expected:,} cases in {seconds:.0f} s")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        _report_header(url)
        report_times = {} if options.dashboard_only else _measure_reports(app)
        dashboard_times = _measure_dashboard(app, options.runs)
        cpu = _measure_dashboard_cpu(app, url, options.runs)
    _summary(report_times, dashboard_times, cpu)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--history-per-month", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--dashboard-only", action="store_true")
    parser.add_argument("--postgres-url", default=DEFAULT_URL)
    return parser.parse_args()


def _app(url: str, instance: Path) -> Flask:
    settings = load_settings(
        sawti_env="development", sawti_instance_path=instance, database_url=url,
        secret_key="bench-secret-key-" + "x" * 32, sawti_data_key="bench-data-key-" + "y" * 32,
        redis_url=None, sawti_timezone=ZONE.key)
    return create_app(settings)


def _recreate(url: str) -> None:
    database = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
    admin.dispose()


def _case_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(Case)) or 0
    except SQLAlchemyError:  # no database or no table yet: generate
        return -1
    finally:
        engine.dispose()


# --- data ------------------------------------------------------------------------------------

def _fill(sizes: list[tuple[date, int]]) -> float:
    began = time.perf_counter()
    org = load_org_data(ROOT / "config")
    districts = [d.code for g in org.governorates for d in g.districts]
    categories = [c.code for c in org.categories]
    rnd = random.Random(SEED)
    with db.engine.begin() as connection:
        users = [_user(connection, f"fp{n}@example.org", "focal_point") for n in range(5)]
        _user(connection, "viewer@example.org", "viewer")
    next_id = 1
    for first, count in sizes:
        start = datetime.combine(first, datetime.min.time(), tzinfo=ZONE)
        span = (datetime.combine(_month(first, -1), datetime.min.time(), tzinfo=ZONE)
                - start).total_seconds()
        done = 0
        while done < count:
            size = min(CHUNK, count - done)
            rows = _chunk(rnd, next_id, size, start, span, districts, categories, users)
            with db.engine.begin() as connection:
                for table, values in rows.items():
                    _copy(connection, table, values)
            next_id += size
            done += size
        print(f"  {first:%Y-%m}: {count:,} cases", flush=True)
    return time.perf_counter() - began


def _chunk(rnd: random.Random, first_id: int, size: int, start: datetime, span: float,
           districts: list[str], categories: list[str], users: list[int]
           ) -> dict[Table, list[dict[str, Any]]]:
    rows: dict[Table, list[dict[str, Any]]] = {
        Contact.__table__: [], Case.__table__: [], Message.__table__: [],
        Referral.__table__: []}  # type: ignore[dict-item]
    for case_id in range(first_id, first_id + size):
        created = (start + timedelta(seconds=rnd.uniform(0, span))).astimezone(UTC)
        level = _pick(rnd, LEVELS)
        channel = _pick(rnd, CHANNELS)
        due = created + timedelta(hours=72 if level == 5 else 360)
        closed = created + timedelta(days=rnd.expovariate(1 / 8)) if rnd.random() < 0.8 \
            else None
        if closed is not None and closed > NOW:
            closed = None
        rows[Contact.__table__].append({  # type: ignore[index]
            "id": case_id, "channel": channel, "pseudonym": f"bench-{case_id}",
            "language": "ar", "opted_out": False, "dialogue_state": "idle",
            "created_at": created, "rate_window_count": 0})
        satisfied = rnd.random() < 0.4 and closed is not None
        rows[Case.__table__].append({  # type: ignore[index]
            "id": case_id, "reference": _reference(case_id), "contact_id": case_id,
            "channel": channel, "status": "closed" if closed else rnd.choice(
                ("new", "open", "referred")),
            "level": level, "sensitive": level == 5, "urgent": False,
            "category": rnd.choice(categories) if rnd.random() < 0.95 else None,
            "location": rnd.choice(districts) if rnd.random() < 0.9 else None,
            "language": "ar", "created_at": created, "due_at": due, "closed_at": closed,
            "last_activity_at": closed or created, "gender": _pick(rnd, GENDERS),
            "age_group": _pick(rnd, AGES),
            "survey_sent_at": closed + timedelta(hours=1) if satisfied else None,
            "satisfaction": rnd.choice((1, 1, 1, 2, 3)) if satisfied else None,
            "satisfaction_at": closed + timedelta(hours=5) if satisfied else None})
        messages = rows[Message.__table__]  # type: ignore[index]
        for number in range(2):
            messages.append({"contact_id": case_id, "case_id": case_id, "direction": "in",
                             "channel": channel, "kind": "text", "body": "…",
                             "status": "received", "attempts": 0,
                             "created_at": created + timedelta(minutes=number)})
        if closed is not None:
            messages.append({"contact_id": case_id, "case_id": case_id, "direction": "out",
                             "channel": channel, "kind": "reply", "body": "…",
                             "status": _pick(rnd, REPLY_STATES), "attempts": 1,
                             "created_at": closed - timedelta(minutes=5)})
        if rnd.random() < 0.1:
            sent = created + timedelta(days=1)
            rows[Referral.__table__].append({  # type: ignore[index]
                "case_id": case_id, "to_user_id": rnd.choice(users), "message": "",
                "due_at": sent + timedelta(days=5), "created_at": sent,
                "answered_at": sent + timedelta(days=3) if rnd.random() < 0.7 else None})
    return rows


def _user(connection: Connection, email: str, role: str) -> int:
    result = connection.execute(User.__table__.insert().values(
        email=email, name=email, role=role, password_hash="-", locations=[],  # noqa: S106
        active=True, language="ar", failed_logins=0, session_version=1,
        created_at=datetime.now(UTC)).returning(User.id))
    return int(result.scalar_one())


def _copy(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY rows in, through the column types (UTC datetimes become naive UTC)."""
    if not rows:
        return
    dialect = connection.dialect
    names = list(rows[0])
    processors = [table.columns[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(
                value if process is None or value is None else process(value)
                for value, process in zip((row[name] for name in names), processors,
                                          strict=True)))
    if "id" in names:
        connection.execute(text(  # the table name is one of the models', not input
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {table.name}))"))


def _pick(rnd: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    return rnd.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def _reference(number: int) -> str:
    digits = f"{number:06d}"
    return digits + str(damm_check_digit(digits))


def _month(first: date, back: int) -> date:
    index = first.year * 12 + first.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


# --- measurements ----------------------------------------------------------------------------

def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def _measure_reports(app: Flask) -> dict[str, float]:
    services = app.extensions["sawti"]
    times: dict[str, float] = {}

    def build(case_list: bool = True) -> Any:
        return build_report(db.session, MONTH, org=services.org_data, org_name="صوتي",
                            tz=ZONE, lang="ar", now=NOW, case_list=case_list)

    seconds, report = _timed(build)
    print(f"report data (KPIs, {len(report.cases):,} listed cases, trend alerts): "
          f"{seconds:.2f} s")
    for fmt in FORMATS:
        def whole(fmt: str = fmt) -> bytes:
            db.session.rollback()
            return render(build(case_list=fmt != "pdf"), fmt)

        seconds, data = _timed(whole)
        times[fmt] = seconds
        print(f"monthly report {fmt}: {seconds:.2f} s end to end, {len(data) / 1e6:.1f} MB")
    return times


def _measure_dashboard(app: Flask, runs: int) -> list[float]:
    client, path = _dashboard_client(app)
    times = []
    for _run in range(runs + 1):
        seconds, response = _timed(lambda: client.get(path))
        assert response.status_code == 200, response.status_code
        times.append(seconds)
    times = times[1:]  # the first run warms caches (templates, catalogues)
    print(f"dashboard, a year ({path.split('?')[1]}): median {statistics.median(times):.3f} s, "
          f"max {max(times):.3f} s over {runs} runs")
    return times


def _measure_dashboard_cpu(app: Flask, url: str, runs: int) -> float:
    """CPU seconds one dashboard request costs: this process plus every PostgreSQL backend
    of the database (parallel query off, so no short-lived worker escapes the count). On a
    busy shared machine wall time mostly measures the wait for a core; this does not."""
    database = make_url(url).database
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            f'ALTER DATABASE "{database}" SET max_parallel_workers_per_gather = 0')
    db.engine.dispose()
    try:
        client, path = _dashboard_client(app)
        client.get(path)
        spent = []
        for _run in range(runs):
            before = _cpu_seconds(database)
            assert client.get(path).status_code == 200
            spent.append(_cpu_seconds(database) - before)
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                f'ALTER DATABASE "{database}" RESET max_parallel_workers_per_gather')
        db.engine.dispose()
    median = statistics.median(spent)
    print(f"dashboard, a year: {median:.3f} s of CPU per request (web process + PostgreSQL, "
          f"serial plans), median over {runs} runs")
    return median


def _cpu_seconds(database: str | None) -> float:
    """utime + stime of this process and of the database's PostgreSQL backends (Linux)."""
    with db.engine.connect() as connection:
        pids = list(connection.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": database}))
    ticks = os.sysconf("SC_CLK_TCK")
    total = sum(os.times()[:2])
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _dashboard_client(app: Flask) -> tuple[Any, str]:
    viewer = db.session.scalar(select(User).where(User.email == "viewer@example.org"))
    assert viewer is not None
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(user_id=viewer.id, session_version=viewer.session_version, totp_ok=True)
    first, last = _month(MONTH, 11), _month(MONTH, -1) - timedelta(days=1)
    return client, f"/admin/dashboard?lang=ar&from={first}&to={last}"


def _report_header(url: str) -> None:
    with db.engine.connect() as connection:
        cases = connection.scalar(select(func.count()).select_from(Case))
        messages = connection.scalar(select(func.count()).select_from(Message))
        version = connection.scalar(text("SHOW server_version"))
    print(f"PostgreSQL {version} ({make_url(url).database}): {cases:,} cases, "
          f"{messages:,} messages; {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")


def _summary(reports: dict[str, float], dashboard: list[float], cpu: float) -> None:
    rows: Iterator[tuple[str, float, float]] = iter([
        *[(f"monthly report {fmt}", seconds, REPORT_TARGET_S)
          for fmt, seconds in reports.items()],
        ("dashboard, a year (median)", statistics.median(dashboard), DASHBOARD_TARGET_S),
        ("dashboard, a year (CPU)", cpu, DASHBOARD_TARGET_S)])
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    out = io.StringIO()
    for name, seconds, target in rows:
        verdict = "met" if seconds < target else "NOT MET"
        out.write(f"{name:32} {seconds:7.2f} s   target < {target:g} s   {verdict}\n")
    print(out.getvalue(), end="")


if __name__ == "__main__":
    main()
