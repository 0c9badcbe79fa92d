"""The officer console's queue at scale: how long its pages take with 200,000 cases.

A benchmark, not a test. For each database it builds a dedicated one with the Alembic
migrations (so the real indexes are measured), fills it with generated cases, contacts,
messages (realistic Arabic complaints: phrases, locations, spelling variants) and referrals by
bulk inserts (SQLite executemany, PostgreSQL COPY), then renders queue pages through the real
Flask route (test client, signed in) for an officer with locations and for a PSEA focal point,
and prints the median and 95th percentile of each.

    .venv/bin/python bench/console.py [--db sqlite|postgresql|both] [--cases 200000]
        [--messages-per-case 5] [--runs 15] [--keep]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/sawti_bench]
        [--sqlite-path /tmp/sawti-bench/console.db]

The PostgreSQL database is dropped and created by this script (its name comes from the URL; it
must not be a database you use). ``--keep`` keeps the generated data afterwards and reuses it
when it is there with the same size; without it the data is generated afresh and removed at
the end. The target is a median under 200 ms for every page.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import Connection, Engine, Table, create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from casework.models import Case, CaseStatus, Contact, Message, Referral, User  # noqa: E402
from casework.queue import QueueFilters, find_cases  # noqa: E402
from casework.references import damm_check_digit  # noqa: E402
from casework.text import normalize_for_matching  # noqa: E402
from config.data import OrgData, load_org_data  # noqa: E402
from config.settings import load_settings  # noqa: E402
from extensions import db  # noqa: E402

TARGET_MS = 200.0
SEED = 20261129
CHUNK_CASES = 20_000
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sawti_bench"
DEFAULT_SQLITE_PATH = Path(tempfile.gettempdir()) / "sawti-bench" / "console.db"
OFFICER_EMAIL = "bench-officer@example.org"
PSEA_EMAIL = "bench-psea@example.org"
OFFICER_LOCATIONS = ["SY-ID", "SY-HL"]
CHANNELS = (("telegram", 35), ("whatsapp", 35), ("sms", 20), ("voice", 7), ("in_person", 3))
_ROW = re.compile(r'<td class="ref"')

# Complaints as people write them (Syrian and Iraqi Arabic, MSA), in the spellings they use:
# with and without hamza, taa marbuta as haa, alef maqsura as yaa.
PHRASES = (
    "ما وصلتني السلة الغذائية هالشهر", "لم أستلم السلة الغذائية هذا الشهر",
    "السله الغذائيه ناقصه", "سلة غذائية وحدة ما بتكفي", "الكمية بالسلة قليلة",
    "صارلي شهرين ما استلمت القسيمة", "القسيمه ما اشتغلت بالمحل",
    "الموزع طلب مني مصاري مشان يعطيني الحصة", "المي بالمخيم مقطوعة من اسبوع",
    "الخزان فاضي وما حدا عبّاه", "الخيمة عم تدلف من المطر", "ما حدا رد علينا",
    "اسمي مو موجود بالقائمة", "مع اني مسجل من زمان", "الطحين اللي استلمناه خربان وفيه سوس",
    "المستوصف ما عنده دوا للسكري", "امي مريضة وبدها علاج", "ليش قطعتوا المساعدة عن عيلتي",
    "بدي اعرف وين صار طلبي للبطانيات", "البرد كتير والاولاد مرضانين",
    "ما استلمنا المنحة النقدية لحد هسه", "الكرفان مالتنا يخر مي", "ماكو احد يصلحه",
    "شكد لازم ننتظر حتى توصلنا الحصة", "الموظف عاملنا بطريقة مو زينة يوم التوزيع",
    "الكهرباء مقطوعة بالمخيم من يومين", "ابني مريض وماكو سيارة تودينا للمستشفى",
    "سجلونا بالاستمارة بس ماكو اي رد", "ما تكفي عائلة من ثمان اشخاص",
    "المدرسة بالمخيم مسكرة", "اجوا ناس قالوا من المنظمة وطلبوا رقم البطاقة",
    "شكراً الكم على المساعدة", "الله يجزيكم الخير على التوزيع", "بدنا حليب للأطفال",
    "الحمامات وسخة وما في تنظيف", "في ناس عم تاخد مساعدة وهي مو محتاجة",
    "لم يتم تسجيل اسمي في قوائم التوزيع", "أريد معرفة موعد التوزيع القادم",
    "متى موعد توزيع المدافئ", "الإيجار غالي وما عندي مصاري", "نطلب زيادة كمية المياه",
    "الطعام فاسد", "الخبز ناقص", "التوزيع كان فوضى وما في تنظيم",
    "ما في إضاءة بالليل بالمخيم", "بطاقتي ضاعت وبدي وحدة جديدة",
    "الدوا غالي بالصيدلية", "طلبت كرسي متحرك لأبوي من شهر", "المازوت ما وصل",
    "الفرشات اللي وزعتوها رقيقة كتير", "ممكن تسجلوني ببرنامج النقد",
)
SENSITIVE_PHRASES = (
    "المشرف طلب رقم تلفوني وصار يتصل فيني بالليل", "تم تهديدي من قبل احد العاملين",
    "الموظف طلب رشوة مقابل السلة", "في واحد من الفريق عم يضايق البنات",
    "المسؤول أخذ الحصص لأقاربه",
)
OPENERS = ("السلام عليكم", "مرحبا", "لو سمحت", "مساء الخير", "صباح الخير", "الله يخليكم",
           "يا جماعة", "")
CLOSERS = ("يا ريت تساعدونا", "الله يخليكم ردوا علينا", "شكراً", "ضروري", "")
FOLLOW_UPS = ("نعم", "1", "2", "لا", "شكرا", "ما حدا رد لهلأ", "متى بتردوا؟", "ايوه",
              "رقم البطاقة ٤٥٦٧٨٩", "الله يسلمكم")
ACK = "شكراً لتواصلك. رقم حالتك {reference}. سنرد عليك خلال ١٥ يوماً. رسالتك سرية."
REPLY = "مرحباً، تابعنا حالتك رقم {reference} مع الفريق المختص وسنتواصل معك قريباً."


# --- data generation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Vocabulary:
    districts: tuple[str, ...]  # location codes cases are filed under
    place_names: dict[str, tuple[str, ...]]  # code -> Arabic names and aliases
    categories: tuple[tuple[str, int], ...]  # (code, level)
    category_weights: tuple[float, ...]
    deadlines: dict[int | None, timedelta]
    sensitive_levels: frozenset[int]

    @classmethod
    def build(cls, org: OrgData) -> Vocabulary:
        districts, names = [], {}
        for governorate in org.governorates:
            for district in governorate.districts:
                districts.append(district.code)
                arabic = [name for name in (district.name_ar, *district.aliases)
                          if any("\u0600" <= char <= "\u06ff" for char in name)]
                names[district.code] = tuple(arabic) or (district.name_ar,)
        categories = tuple((item.code, item.default_level) for item in org.categories)
        sensitive = frozenset(level.level for level in org.grid.levels if level.sensitive)
        weights = tuple(0.4 if level in sensitive else 5.0 for _, level in categories)
        deadlines: dict[int | None, timedelta] = {None: org.grid.untriaged_deadline}
        deadlines.update({level.level: level.deadline for level in org.grid.levels})
        return cls(tuple(districts), names, categories, weights, deadlines, sensitive)


@dataclass
class Users:
    officer: int
    psea: int
    handlers: list[int]  # officers who get cases assigned
    focal_points: list[int]


class Generator:
    """Rows for one chunk of cases at a time (ids are given here, so no round trips)."""

    def __init__(self, vocabulary: Vocabulary, users: Users, cases: int, per_case: int,
                 now: datetime) -> None:
        self.words = vocabulary
        self.users = users
        self.now = now
        self.random = random.Random(SEED)
        self.references = self.random.sample(range(10 ** 6), cases)
        self.message_counts = _message_counts(self.random, cases, per_case)
        self.next_message_id = 1
        self.next_contact_id = 1
        self.contacts: list[tuple[int, str]] = []  # (id, channel) of contacts made so far
        channel_names, channel_weights = zip(*CHANNELS, strict=True)
        self.channel_names, self.channel_weights = channel_names, channel_weights

    def chunk(self, first: int, last: int) -> dict[str, list[dict[str, Any]]]:
        rows: dict[str, list[dict[str, Any]]] = {
            "contacts": [], "cases": [], "messages": [], "referrals": []}
        for case_id in range(first, last + 1):
            self._case(case_id, rows)
        return rows

    def _case(self, case_id: int, rows: dict[str, list[dict[str, Any]]]) -> None:
        rnd, words = self.random, self.words
        age = timedelta(days=rnd.uniform(0, 60) if rnd.random() < 0.3 else rnd.uniform(0, 730),
                        seconds=rnd.randrange(86_400))
        created = self.now - age
        status = _status(rnd, age)
        category, level = (None, None)
        if status != "new":
            category, level = rnd.choices(words.categories, words.category_weights)[0]
        sensitive = level in words.sensitive_levels
        location = None
        if rnd.random() < (0.95 if status != "new" else 0.5):
            location = rnd.choice(words.districts)
        channel = rnd.choices(self.channel_names, self.channel_weights)[0]
        contact_id = self._contact(channel, created, rows)
        body = str(10 ** 6 + self.references[case_id - 1])[1:]
        reference = body + str(damm_check_digit(body))
        deadline = words.deadlines[level]
        closed_at = None
        if status == "closed":
            closed_at = min(created + deadline * rnd.uniform(0.05, 1.1), self.now)
        messages = self._messages(case_id, contact_id, channel, created, reference,
                                  location, sensitive, rows)
        last_activity = max(closed_at or created, messages[-1])
        merged = None
        if status == "closed" and case_id > 10 and rnd.random() < 0.01:
            merged = rnd.randrange(1, case_id)
        rows["cases"].append({
            "id": case_id, "reference": reference, "contact_id": contact_id, "channel": channel,
            "status": status, "level": level, "sensitive": sensitive,
            "urgent": sensitive and rnd.random() < 0.3, "category": category,
            "location": location, "language": "ar", "consent_to_contact": rnd.random() < 0.7,
            "created_at": created, "acknowledged_at": created + timedelta(seconds=2),
            "due_at": created + deadline,
            "first_response_at": None if status == "new" else created + timedelta(
                hours=rnd.uniform(1, 96)),
            "closed_at": closed_at, "last_activity_at": last_activity,
            "delivery_failed_at": last_activity if status != "closed" and rnd.random() < 0.005
            else None,
            "assignee_id": rnd.choice(self.users.handlers)
            if status != "new" and not sensitive and rnd.random() < 0.7 else
            (self.users.psea if sensitive and status != "new" else None),
            "resolution": "تم الحل" if status == "closed" else None,
            "merged_into_id": merged,
        })
        self._referral(case_id, status, created, rows)

    def _contact(self, channel: str, created: datetime,
                 rows: dict[str, list[dict[str, Any]]]) -> int:
        if self.contacts and self.random.random() < 0.15:  # people write again
            return self.random.choice(self.contacts)[0]
        contact_id = self.next_contact_id
        self.next_contact_id += 1
        self.contacts.append((contact_id, channel))
        rows["contacts"].append({
            "id": contact_id, "channel": channel, "pseudonym": f"bench{contact_id:059d}",
            "language": "ar", "opted_out": False, "dialogue_state": "idle",
            "created_at": created, "last_inbound_at": created, "rate_window_count": 0,
        })
        return contact_id

    def _messages(self, case_id: int, contact_id: int, channel: str, created: datetime,
                  reference: str, location: str | None, sensitive: bool,
                  rows: dict[str, list[dict[str, Any]]]) -> list[datetime]:
        rnd = self.random
        moment = created
        times = []
        for index in range(self.message_counts[case_id - 1]):
            inbound = index % 2 == 0
            if inbound:
                body = self._complaint(location, sensitive) if index == 0 \
                    else self._follow_up(location)
            else:
                body = (ACK if index == 1 else REPLY).format(reference=reference)
            message_id = self.next_message_id
            self.next_message_id += 1
            rows["messages"].append({
                "id": message_id, "contact_id": contact_id, "case_id": case_id,
                "direction": "in" if inbound else "out", "channel": channel,
                "external_id": f"bench-{message_id}", "kind": "text", "body": body,
                "search_text": (normalize_for_matching(body) or None) if inbound else None,
                "language": "ar", "status": "received" if inbound else "delivered",
                "attempts": 0 if inbound else 1, "created_at": moment,
                "received_at": moment if inbound else None,
                "sent_at": None if inbound else moment,
                "delivered_at": None if inbound else moment + timedelta(seconds=3),
            })
            times.append(moment)
            moment += timedelta(seconds=2) if index == 0 else timedelta(
                hours=rnd.uniform(0.5, 72))
        return times

    def _complaint(self, location: str | None, sensitive: bool) -> str:
        rnd = self.random
        parts = [rnd.choice(OPENERS)]
        parts += rnd.sample(PHRASES, rnd.choice((1, 1, 2, 2, 3)))
        if sensitive:
            parts.append(rnd.choice(SENSITIVE_PHRASES))
        if location and rnd.random() < 0.4:
            parts.append(f"أنا من {rnd.choice(self.words.place_names[location])}")
        if rnd.random() < 0.1:
            parts.append("رقم البطاقة " + "".join(rnd.choice("٠١٢٣٤٥٦٧٨٩") for _ in range(6)))
        parts.append(rnd.choice(CLOSERS))
        return "، ".join(part for part in parts if part)

    def _follow_up(self, location: str | None) -> str:
        rnd = self.random
        if location and rnd.random() < 0.2:
            return rnd.choice(self.words.place_names[location])
        return rnd.choice(FOLLOW_UPS) if rnd.random() < 0.5 else rnd.choice(PHRASES)

    def _referral(self, case_id: int, status: str, created: datetime,
                  rows: dict[str, list[dict[str, Any]]]) -> None:
        rnd = self.random
        if status != "referred" and not (status == "closed" and rnd.random() < 0.05):
            return
        sent = created + timedelta(days=rnd.uniform(0.5, 3))
        answered = status == "closed" or rnd.random() < 0.4
        rows["referrals"].append({
            "case_id": case_id, "to_user_id": rnd.choice(self.users.focal_points),
            "message": "يرجى المتابعة", "due_at": sent + timedelta(days=3),
            "created_at": sent, "answer": "تمت المتابعة" if answered else None,
            "answered_at": min(sent + timedelta(days=rnd.uniform(0.2, 5)), self.now)
            if answered else None,
        })


def _status(rnd: random.Random, age: timedelta) -> str:
    if age < timedelta(days=3):
        weights = (50, 35, 10, 5)
    elif age < timedelta(days=30):
        weights = (5, 40, 20, 35)
    else:
        weights = (0.5, 2, 1.5, 96)
    return rnd.choices(("new", "open", "referred", "closed"), weights)[0]


def _message_counts(rnd: random.Random, cases: int, per_case: int) -> list[int]:
    """Between 1 and 2 × per_case - 1 messages per case, exactly cases × per_case in all."""
    counts = [1] * cases
    ceiling = max(1, 2 * per_case - 1)
    extra = cases * (per_case - 1)
    while extra > 0:
        for index in rnd.choices(range(cases), k=extra):
            if counts[index] < ceiling and extra > 0:
                counts[index] += 1
                extra -= 1
    return counts


# --- bulk inserts ------------------------------------------------------------------------------

def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows fast: COPY on PostgreSQL, executemany on SQLite. Column defaults the rows
    leave out are filled as SQLAlchemy would, and values pass through the column types."""
    if not rows:
        return
    dialect = connection.dialect
    names = list(rows[0])
    defaults = {column.name: column.default for column in table.columns
                if column.name not in names and not column.nullable
                and column.server_default is None and column.default is not None}
    columns = [table.columns[name] for name in [*names, *defaults]]
    processors = [column.type.dialect_impl(dialect).bind_processor(dialect)
                  for column in columns]

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        raw = [row[name] for name in names] + [
            default.arg(None) if default.is_callable else default.arg
            for default in defaults.values()]
        return tuple(value if process is None or value is None else process(value)
                     for value, process in zip(raw, processors, strict=True))

    column_list = ", ".join(column.name for column in columns)
    if dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(values(row))
        return
    marks = ", ".join("?" for _ in columns)
    insert = f"INSERT INTO {table.name} ({column_list}) VALUES ({marks})"  # noqa: S608
    connection.exec_driver_sql(insert, [values(row) for row in rows])


# --- databases ---------------------------------------------------------------------------------

@dataclass
class Target:
    name: str
    url: str
    instance: Path

    def drop(self) -> None:
        if self.name == "sqlite":
            path = Path(make_url(self.url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        database = make_url(self.url).database
        admin = create_engine(make_url(self.url).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()

    def create(self) -> None:
        if self.name == "sqlite":
            Path(make_url(self.url).database or "").parent.mkdir(parents=True, exist_ok=True)
            return
        database = make_url(self.url).database
        admin = create_engine(make_url(self.url).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": database})
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
        admin.dispose()


def make_app(target: Target) -> Flask:
    settings = load_settings(
        sawti_env="development", sawti_instance_path=target.instance,
        database_url=target.url, secret_key="bench-secret-key-" + "x" * 32,
        sawti_data_key="bench-data-key-" + "y" * 32, redis_url=None)
    return create_app(settings)


def upgrade_schema(app: Flask) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        cases = connection.scalar(select(func.count()).select_from(Case)) or 0
        messages = connection.scalar(select(func.count()).select_from(Message)) or 0
    return cases, messages


def create_users(engine: Engine) -> Users:
    def user(connection: Connection, email: str, role: str, locations: list[str]) -> int:
        result = connection.execute(User.__table__.insert().values(
            email=email, name=email.split("@")[0], role=role, password_hash="-",  # noqa: S106
            locations=locations, active=True, language="ar", failed_logins=0,
            session_version=1, created_at=datetime.now(UTC)).returning(User.id))
        return int(result.scalar_one())

    with engine.begin() as connection:
        return Users(
            officer=user(connection, OFFICER_EMAIL, "officer", OFFICER_LOCATIONS),
            psea=user(connection, PSEA_EMAIL, "psea", []),
            handlers=[user(connection, f"bench-handler-{n}@example.org", "officer", [])
                      for n in range(6)],
            focal_points=[user(connection, f"bench-focal-{n}@example.org", "focal_point", [])
                          for n in range(4)])


def generate(engine: Engine, org: OrgData, cases: int, per_case: int) -> float:
    started = time.perf_counter()
    users = create_users(engine)
    generator = Generator(Vocabulary.build(org), users, cases, per_case, datetime.now(UTC))
    tables = {"contacts": Contact.__table__, "cases": Case.__table__,
              "messages": Message.__table__, "referrals": Referral.__table__}
    for first in range(1, cases + 1, CHUNK_CASES):
        rows = generator.chunk(first, min(first + CHUNK_CASES - 1, cases))
        with engine.begin() as connection:
            for name in ("contacts", "cases", "messages", "referrals"):
                bulk_insert(connection, tables[name], rows[name])  # type: ignore[arg-type]
        if engine.dialect.name == "postgresql":
            # Each follow-up message rewrote its case's search document; autovacuum frees the
            # old versions as a service runs, so that the table does not grow with them.
            with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
                connection.exec_driver_sql("VACUUM case_search")
        done = min(first + CHUNK_CASES - 1, cases)
        print(f"  {done:>9,} cases, {generator.next_message_id - 1:>10,} messages "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    finish(engine)
    return time.perf_counter() - started


def finish(engine: Engine) -> None:
    """What a database in service has: sequences past the ids (PostgreSQL), statistics."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in ("contacts", "cases", "messages", "referrals", "users"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))")
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        with autocommit.connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum does in time


def database_size(engine: Engine, target: Target) -> str:
    if target.name == "sqlite":
        path = Path(make_url(target.url).database or "")
        size = sum(Path(f"{path}{suffix}").stat().st_size for suffix in ("", "-wal")
                   if Path(f"{path}{suffix}").exists())
    else:
        with engine.connect() as connection:
            size = connection.scalar(text("SELECT pg_database_size(current_database())")) or 0
    return f"{size / 2 ** 20:,.0f} MB"


# --- measuring ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class View:
    label: str
    query: dict[str, str]
    filters: QueueFilters


@dataclass(frozen=True)
class Result:
    user: str
    view: str
    median_ms: float
    p95_ms: float
    min_ms: float
    rows: int
    total: str  # "12,345", or "500+" where a search stopped counting


def views(role: str, reference: str) -> list[View]:
    filtered = ({"status": "open", "location": "SY-ID", "level": "3"} if role == "officer"
                else {"status": "open", "location": "SY-HL", "level": "5"})
    filters = QueueFilters(status=CaseStatus.OPEN, location=filtered["location"],
                           level=int(filtered["level"]))
    searches = [
        ("search «سلة غذائية»", "سلة غذائية"),
        ("search «سله غذائيه» (taa, hamza)", "سله غذائيه"),
        ("search «إدلب» (hamza)", "إدلب"),
        ("search «ادلب»", "ادلب"),
        ("search «لم أستلم» (2 letters)", "لم أستلم"),
        ("search «رشوة» (rare)", "رشوة"),
    ]
    return [
        View("first page (all cases)", {"view": "all"}, QueueFilters()),
        View("needs action (default)", {}, QueueFilters(needs_action=True)),
        View("filtered: " + "+".join(filtered.values()), {"view": "all", **filtered}, filters),
        *(View(label, {"q": query}, QueueFilters(text=query)) for label, query in searches),
        View("reference", {"q": reference}, QueueFilters(text=reference)),
    ]


def signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(user_id=user.id, session_version=user.session_version, totp_ok=True)
    return client


def measure(app: Flask, runs: int) -> list[Result]:
    results = []
    with app.app_context():
        people = {role: db.session.scalars(select(User).where(User.email == email)).one()
                  for role, email in (("officer", OFFICER_EMAIL), ("psea", PSEA_EMAIL))}
        for role, user in people.items():
            listed = find_cases(db.session, user, QueueFilters(), 1, 1)
            reference = listed.items[0].case.reference if listed.items else "0000000"
            client = signed_in(app, user)
            for view in views(role, reference):
                found = find_cases(db.session, user, view.filters, 1, 1)
                total = f"{found.total:,}{'+' if found.more else ''}"  # a search's count stops
                db.session.rollback()  # end the read transaction (SQLite takes a lock)
                timings, rows = time_view(client, view, runs)
                results.append(Result(role, view.label, statistics.median(timings),
                                      _p95(timings), min(timings), rows, total))
    return results


def time_view(client: FlaskClient, view: View, runs: int) -> tuple[list[float], int]:
    query = {"lang": "en", **view.query}
    rows = 0
    for _ in range(2):  # warm the caches and the templates
        response = client.get("/admin/queue", query_string=query)
        if response.status_code != 200:
            raise SystemExit(f"{view.label}: HTTP {response.status_code}")
        rows = len(_ROW.findall(response.get_data(as_text=True)))
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/admin/queue", query_string=query)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return timings, rows


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def print_table(title: str, results: list[Result]) -> bool:
    print()
    print(title)
    header = (f"{'user':<9}{'view':<40}{'median ms':>10}{'p95 ms':>9}{'min ms':>8}{'rows':>6}"
              f"{'matches':>9}  target")
    print(header)
    print("-" * len(header))
    met = True
    for result in results:
        ok = result.median_ms < TARGET_MS
        met = met and ok
        print(f"{result.user:<9}{result.view:<40}{result.median_ms:>10.1f}"
              f"{result.p95_ms:>9.1f}{result.min_ms:>8.1f}{result.rows:>6}{result.total:>9}  "
              f"{'ok' if ok else 'MISSED'}")
    return met


# --- main --------------------------------------------------------------------------------------

def run(target: Target, args: argparse.Namespace) -> bool:
    print(f"\n== {target.name}: {make_url(target.url).render_as_string(hide_password=True)}")
    expected = (args.cases, args.cases * args.messages_per_case)
    if not args.keep:
        target.drop()
    target.create()
    app = make_app(target)
    upgrade_schema(app)
    engine = create_engine(target.url)
    generated = None
    try:
        found = counts(engine)
        if found != expected:
            if found != (0, 0):
                print(f"  found {found[0]:,} cases and {found[1]:,} messages: generating afresh")
            engine.dispose()  # start from an empty database (an earlier run may have stopped)
            with app.app_context():
                db.engine.dispose()
            target.drop()
            target.create()
            app = make_app(target)
            upgrade_schema(app)
            engine = create_engine(target.url)
            print(f"  generating {args.cases:,} cases and {expected[1]:,} messages ...")
            generated = generate(engine, load_org_data(ROOT / "config"), args.cases,
                                 args.messages_per_case)
        else:
            print("  reusing the generated data (--keep)")
        size = database_size(engine, target)
        load_before = os.getloadavg()[0]
        results = measure(app, args.runs)
        load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        title = (f"{target.name}: {args.cases:,} cases, {expected[1]:,} messages, {size}; "
                 f"{args.runs} runs per view; {load}"
                 + (f"; data generated in {generated:.0f} s" if generated is not None else ""))
        return print_table(title, results)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        engine.dispose()
        if not args.keep:
            target.drop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--messages-per-case", type=int, default=5)
    parser.add_argument("--runs", type=int, default=15, help="timed requests per view")
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated data, and reuse it when it is there")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--sqlite-path", type=Path, default=DEFAULT_SQLITE_PATH)
    args = parser.parse_args(argv)
    if not 1 <= args.cases <= 900_000:
        parser.error("--cases must be between 1 and 900000 (references have 6 free digits)")
    if args.messages_per_case < 1 or args.runs < 1:
        parser.error("--messages-per-case and --runs must be at least 1")
    if make_url(args.postgres_url).database in (None, "", "postgres", "template0",
                                                  "template1"):
        parser.error("--postgres-url must name a database of its own (it is dropped)")
    return args


def targets(args: argparse.Namespace) -> Iterator[Target]:
    instance = args.sqlite_path.parent / "instance"
    if args.db in ("sqlite", "both"):
        yield Target("sqlite", f"sqlite:///{args.sqlite_path}", instance)
    if args.db in ("postgresql", "both"):
        yield Target("postgresql", args.postgres_url, instance)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"sawti console benchmark: Python {platform.python_version()}; "
          f"{os.cpu_count()} CPU(s); target median < {TARGET_MS:.0f} ms per page")
    met = [run(target, args) for target in targets(args)]
    print(f"\ntarget {'met' if all(met) else 'NOT met'}")
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
