"""Sawti at scale, in one run on this machine: intake, dispatcher, console pages, memory.

A benchmark, not a test. Everything runs on 127.0.0.1 and is bounded in count and time.

1. Data: the PostgreSQL database ``sawti_bench_scale`` (dropped and created; the name comes from
   ``--postgres-url``; it must not be a database you use), schema by the Alembic migrations,
   filled by COPY with ``--cases`` cases and ``--messages-per-case`` × as many messages: the
   generator of ``bench/console.py`` (Syrian and Iraqi Arabic complaints in the spellings people
   use, statuses by age, repeat contacts, referrals). ``--keep`` reuses data of the same size.
2. Intake: gunicorn with the repository's ``gunicorn.conf.py`` (gthread) and
   ``WEB_CONCURRENCY`` 2, then 4, against that database and, as in production, Redis
   (``--redis-url``, a Redis database of the benchmark's own, emptied first), with Telegram
   and Twilio pointed at the local fakes of ``tests/fakes`` (wired as
   ``SAWTI_FAKE_PROVIDERS=1 make run`` wires them).
   Per worker count: the no-op ceiling of the same workers with wrk (``bench/intake.py``), then
   signed Telegram updates (secret token header) and Twilio SMS/WhatsApp webhooks
   (``X-Twilio-Signature`` for ``PUBLIC_URL`` + path) at full rate from client threads — each
   person's five messages in order, as the dialogue expects — then at half that rate, paced,
   with latency counted from each request's scheduled time.
3. Dispatcher: the outbox the webhooks queued is split in two; ``flask worker --no-scheduler``
   sends the first half with 1 process, the second with 2. Messages per second (span of
   ``sent_at``); the fakes' recorded sends are compared with the rows marked sent (a duplicate
   send shows as more sends than rows).
4. Console: queue page, a filtered page, an Arabic search and a case page through the real
   routes (test client, signed in as an officer, as in ``bench/console.py``); median of
   ``--runs``.
5. Memory: peak RSS (VmHWM) of every gunicorn worker and every ``flask worker`` process.

    .venv/bin/python bench/scale.py [--cases 1000000] [--messages-per-case 3] [--keep]
        [--requests 3000] [--seconds 60] [--paced-seconds 20] [--concurrency 16]
        [--web-workers 2,4] [--dispatch-workers 1,2] [--runs 15]
        [--skip-load] [--skip-pages] [--intake-db auto|scale|fresh]
        [--redis-url redis://127.0.0.1:6379/13 | --redis-url '']

References have 6 free digits: with more than ``FRESH_ABOVE`` generated cases a new case
would hardly find a free reference, so ``--intake-db auto`` then runs the intake and the
dispatcher on a fresh database of their own (``<name>_intake``, dropped afterwards) and says
so. The web processes get ``SAWTI_WEBHOOK_RATE_LIMIT`` raised (all traffic comes from one IP)
and the workers ``SAWTI_SEND_RATE`` lifted (``--send-rate``), so that the machine, not a
configured cap, is measured. The process exits 1 when a request failed or a send was
duplicated or lost.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import logging
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for _path in (str(ROOT), str(BENCH_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import console  # noqa: E402
import intake  # noqa: E402
import sawti_floor  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import Engine, create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from casework.models import User  # noqa: E402
from casework.queue import QueueFilters, find_cases  # noqa: E402
from config.data import load_org_data  # noqa: E402
from extensions import db  # noqa: E402
from tests.fakes.serve import SECRET_HEADER, TELEGRAM_PATH, TWILIO_PATH, Config, Demo  # noqa: E402
from tests.fakes.telegram_api import text_update  # noqa: E402
from tests.fakes.twilio_api import messaging_form, signed_form  # noqa: E402

HOST = intake.HOST
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sawti_bench_scale"
FRESH_ABOVE = 800_000
WEBHOOK_CHANNELS = (("telegram", 50), ("whatsapp", 30), ("sms", 20))
NO_SEND_RATE = '{"telegram": 0, "whatsapp": 0, "sms": 0}'
# Production mode: web and worker processes with REDIS_URL (dialogue sessions, de-duplication,
# wake-ups, limits). A database of the benchmark's own: it is emptied at the start.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
WEBHOOK_RATE_LIMIT = "1000000 per minute"
TARGET_RATIO = 0.40
TARGET_P99_MS = 100.0
TARGET_SEND_RATE = 300.0
TARGET_PAGE_MS = 200.0
TARGET_RSS_MB = 200.0
WORKER_START_SECONDS = 30.0
# Unique across runs (with --keep the database keeps earlier runs' updates and sends).
UPDATE_IDS = itertools.count(time.time_ns() // 1000)


# --- webhook traffic ---------------------------------------------------------------------------

@dataclass
class ProviderTraffic:
    """Each client thread plays one person after another, five messages each, in order, over
    Telegram (a signed Update) or Twilio SMS / WhatsApp (a signed form): a complaint, the
    governorate, consent, two more complaints — the dialogue of ``bench/intake.py``."""

    label: str
    public_url: str
    telegram_secret: str
    twilio_token: str
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, thread: int) -> Iterator[intake.Request]:
        rng = random.Random(f"{self.label}-{thread}")
        names, weights = zip(*WEBHOOK_CHANNELS, strict=True)
        while True:
            channel = rng.choices(names, weights)[0]
            texts = (rng.choice(intake.COMPLAINTS), rng.choice(intake.LOCATION_ANSWERS),
                     rng.choice(intake.CONSENT_ANSWERS), rng.choice(intake.COMPLAINTS),
                     rng.choice(intake.COMPLAINTS))
            chat_id = rng.randrange(10**11, 10**12)
            phone = f"+9639{rng.randrange(10**8):08d}"
            for body in texts:
                if channel == "telegram":
                    yield self._telegram(chat_id, body)
                else:
                    yield self._twilio(channel == "whatsapp", phone, body)

    def _telegram(self, chat_id: int, body: str) -> intake.Request:
        with self._lock:
            update_id = next(UPDATE_IDS)  # Sawti drops a repeated update_id as a replay
        payload = json.dumps(text_update(update_id, chat_id, body),
                             ensure_ascii=False).encode("utf-8")
        return "POST", TELEGRAM_PATH, payload, {"Content-Type": "application/json",
                                                SECRET_HEADER: self.telegram_secret}

    def _twilio(self, whatsapp: bool, phone: str, body: str) -> intake.Request:
        sender = f"whatsapp:{phone}" if whatsapp else phone
        form = messaging_form(whatsapp=whatsapp, Body=body, From=sender,
                              **({"WaId": phone.removeprefix("+")} if whatsapp else {}))
        params, signature = signed_form(self.public_url + TWILIO_PATH, form, self.twilio_token)
        return "POST", TWILIO_PATH, urlencode(params).encode("utf-8"), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature}


def run_paced(name: str, port: int, traffic: intake.Traffic, rate: float, total: int,
              concurrency: int, seconds: float, server_pid: int) -> intake.PhaseResult:
    """Send ``total`` requests at ``rate`` per second (request i is due at start + i / rate);
    a latency counts from the moment the request was due, so a client falling behind shows."""
    result = intake.PhaseResult(name)
    lock = threading.Lock()
    counter = iter(range(total))
    began = time.perf_counter() + 0.2
    deadline = began + seconds

    def client(thread: int) -> None:
        tally = intake.ClientTally(
            http.client.HTTPConnection(HOST, port, timeout=intake.REQUEST_TIMEOUT))
        requests = traffic(thread)
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                due = began + index / rate
                if due >= deadline:
                    result.timed_out = True
                    return
                time.sleep(max(0.0, due - time.perf_counter()))
                tally.exchange(next(requests), due)
        finally:
            tally.add_to(result, lock)

    threads = [threading.Thread(target=client, args=(number,), daemon=True)
               for number in range(concurrency)]
    server_before = intake._server_cpu(server_pid)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = max(time.perf_counter() - began, 1e-9)
    server_after = intake._server_cpu(server_pid)
    if server_before is not None and server_after is not None:
        result.server_cpu = server_after - server_before
    return result


# --- memory ------------------------------------------------------------------------------------

class PeakMemory:
    """Samples VmHWM (peak RSS) of the processes it is told about, by role, every 0.25 s; a
    gunicorn master's children are found anew each time (workers restart after max_requests)."""

    def __init__(self) -> None:
        self.peaks: dict[tuple[str, int], int] = {}  # (role, pid) -> kB
        self._masters: set[int] = set()
        self._workers: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def watch_gunicorn(self, master: int) -> None:
        with self._lock:
            self._masters.add(master)

    def watch_worker(self, pid: int) -> None:
        with self._lock:
            self._workers.add(pid)

    def sample(self) -> None:
        with self._lock:
            masters, workers = set(self._masters), set(self._workers)
        pids = [("flask worker", pid) for pid in workers]
        if masters:
            for entry in os.listdir("/proc"):
                if entry.isdigit() and _parent(int(entry)) in masters:
                    pids.append(("gunicorn worker", int(entry)))
        for role, pid in pids:
            peak = _vm_hwm_kb(pid)
            if peak is not None:
                key = (role, pid)
                self.peaks[key] = max(self.peaks.get(key, 0), peak)

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            self.sample()

    def peak_mb(self, role: str) -> tuple[float, int]:
        values = [kb for (name, _pid), kb in self.peaks.items() if name == role]
        return (max(values) / 1024 if values else float("nan")), len(values)


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])


def _vm_hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


# --- processes -------------------------------------------------------------------------------

def service_env(url: str, instance: Path, fakes: dict[str, str], send_rate: str,
                redis_url: str = "") -> dict[str, str]:
    """The bench app's environment: ``bench/intake.py``'s, on PostgreSQL (and Redis, unless
    ``redis_url`` is empty), with the fakes."""
    env = intake.server_env(instance)
    env.update(fakes)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(DATABASE_URL=url, SECRET_KEY="bench-secret-key-" + "x" * 32,
               SAWTI_DATA_KEY="bench-data-key-" + "y" * 32, SAWTI_SIMULATOR="false",
               SAWTI_WEBHOOK_RATE_LIMIT=WEBHOOK_RATE_LIMIT, SAWTI_SEND_RATE=send_rate,
               SAWTI_LOG_FORMAT="text")
    return env


def start_gunicorn(env: dict[str, str], port: int, workers: int, log: Path
                   ) -> subprocess.Popen[bytes]:
    """The repository's gunicorn.conf.py (gthread, SAWTI_WEB_THREADS), serving
    ``intake:bench_app()`` (the app plus the no-op route) on ``port``."""
    env = {**env, "WEB_CONCURRENCY": str(workers), "PORT": str(port), "SAWTI_BIND": HOST}
    command = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
               "--chdir", str(ROOT), "--pythonpath", str(BENCH_DIR),
               "--log-level", "warning", "intake:bench_app()"]
    with log.open("ab") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=output, stderr=output)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "-m", "flask", "worker", "--no-scheduler"],
                                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=output)


# --- phases ------------------------------------------------------------------------------------

@dataclass
class IntakeResult:
    workers: int
    noop: intake.PhaseResult
    full: intake.PhaseResult
    paced: intake.PhaseResult
    stored: int  # inbound rows added by the timed phases and their warm-up
    sent: int  # webhook requests sent, incl. warm-up
    floor: intake.PhaseResult | None = None  # /_bench/sawti_minimum, on its own database

    @property
    def ratio(self) -> float:
        return self.full.rate / self.noop.rate if self.noop.rate else 0.0


def intake_round(engine: Engine, env: dict[str, str], workers: int, args: argparse.Namespace,
                 memory: PeakMemory, workdir: Path, fakes: Config) -> IntakeResult:
    port = int(env["PUBLIC_URL"].rsplit(":", 1)[1])
    log = workdir / f"gunicorn-{workers}.log"
    server = start_gunicorn(env, port, workers, log)
    try:
        intake.wait_until_ready(server, port, log)
        memory.watch_gunicorn(server.pid)
        pid = server.pid
        intake.run_phase("noop warm-up", port, intake.noop_traffic, intake.WARMUP_REQUESTS,
                         args.concurrency, args.seconds, pid)
        noop = intake.run_wrk_phase(f"no-op, {workers} workers (wrk)", port, intake.NOOP_PATH,
                                    args.concurrency, args.noop_seconds, pid)
        before = _inbound(engine)
        label = f"{os.getpid()}-{workers}-{time.time_ns() % 10**6}"

        def traffic(suffix: str) -> ProviderTraffic:
            return ProviderTraffic(label + suffix, env["PUBLIC_URL"],
                                   fakes.telegram_webhook_secret, fakes.twilio_auth_token)

        warm = intake.run_phase("webhook warm-up", port, traffic("w"), intake.WARMUP_REQUESTS,
                                args.concurrency, args.seconds, pid)
        full = intake.run_phase(f"webhooks, {workers} workers", port, traffic("f"),
                                args.requests, args.concurrency, args.seconds, pid)
        half = max(full.rate / 2, 1.0)
        paced = run_paced(f"webhooks, {workers} workers, {half:.0f}/s", port, traffic("p"),
                          half, max(1, int(half * args.paced_seconds)), args.concurrency,
                          args.paced_seconds + 5, pid)
        floor = floor_phase(port, workers, args, pid, label) if args.floor else None
        memory.sample()
        for phase in (warm, full, paced, *([floor] if floor else [])):
            for message, count in phase.errors.most_common(3):
                print(f"  error [{phase.name}] x{count}: {message}")
        print(f"  {workers} workers: no-op {noop.rate:.0f}/s, webhooks {full.rate:.1f}/s "
              f"(p99 {full.percentile_ms(0.99):.0f} ms), paced {paced.rate:.1f}/s "
              f"(p99 {paced.percentile_ms(0.99):.0f} ms)", flush=True)
        return IntakeResult(workers, noop, full, paced, _inbound(engine) - before,
                            warm.sent + full.sent + paced.sent, floor)
    finally:
        intake.stop_server(server)


def floor_phase(port: int, workers: int, args: argparse.Namespace, pid: int, label: str
                ) -> intake.PhaseResult:
    """Sawti's rows by hand-written SQL (``bench/sawti_floor.py``) on the same workers, with
    the simulator's bodies: what no implementation of the webhook's rows could beat."""
    def people(suffix: str) -> intake.Traffic:
        return intake.floor_traffic(intake.SAWTI_MINIMUM_PATH,
                                    intake.WebhookTraffic(f"{label}{suffix}"))

    intake.run_phase("floor warm-up", port, people("mw"), intake.WARMUP_REQUESTS,
                     args.concurrency, args.seconds, pid)
    return intake.run_phase(f"hand-written floor, {workers} workers", port, people("m"),
                            args.requests, args.concurrency, args.seconds, pid)


def _inbound(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(
            "SELECT count(*) FROM messages WHERE direction = 'in' "
            "AND channel IN ('telegram', 'whatsapp', 'sms')")) or 0)


@dataclass
class DispatchResult:
    workers: int
    messages: int
    sent: int
    failed: int
    pending: int
    provider_sends: int
    retried: int
    rate: float  # sends per second over the span of sent_at
    seconds: float  # wall time from starting the workers until the batch was done

    @property
    def duplicates(self) -> int:
        return max(0, self.provider_sends - self.sent)


def queued_outbox(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(text(
            "SELECT id FROM messages WHERE direction = 'out' AND status = 'queued' "
            "ORDER BY id")))


def hold(engine: Engine, ids: list[int], until: datetime) -> None:
    with engine.begin() as connection:
        for start in range(0, len(ids), 10_000):
            connection.execute(text("UPDATE messages SET next_attempt_at = :at "
                                    "WHERE id = ANY(:ids)"),
                               {"at": until.replace(tzinfo=None), "ids": ids[start:start + 10_000]})


def dispatch_round(engine: Engine, env: dict[str, str], workers: int, batch: list[int],
                   demo: Demo, args: argparse.Namespace, memory: PeakMemory,
                   workdir: Path) -> DispatchResult:
    demo.telegram.reset()
    demo.twilio.reset()
    hold(engine, batch, datetime.now(UTC))  # due now
    log = workdir / f"worker-{workers}.log"
    started = time.perf_counter()
    processes = [start_worker(env, log) for _ in range(workers)]
    try:
        for process in processes:
            memory.watch_worker(process.pid)
        deadline = started + args.seconds + WORKER_START_SECONDS
        pending = len(batch)
        while time.perf_counter() < deadline:
            time.sleep(0.25)
            if any(process.poll() is not None for process in processes):
                raise RuntimeError(f"a worker exited:\n{intake._tail(log)}")
            pending = _count(engine, "status IN ('queued', 'sending')", batch)
            if pending == 0:
                break
        seconds = time.perf_counter() - started
        memory.sample()
    finally:
        for process in processes:
            intake.stop_server(process)
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL), "
            "count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE attempts > 1), "
            "extract(epoch FROM max(sent_at) - min(sent_at)) "
            "FROM messages WHERE id = ANY(:ids)"), {"ids": batch}).one()
    sent, failed, retried, span = int(row[0]), int(row[1]), int(row[2]), float(row[3] or 0)
    provider = len(demo.telegram.sent_messages()) + len(demo.twilio.sent_messages())
    rate = (sent - 1) / span if span > 0 and sent > 1 else 0.0
    result = DispatchResult(workers, len(batch), sent, failed, pending, provider, retried,
                            rate, seconds)
    print(f"  {workers} dispatcher(s): {sent}/{len(batch)} sent, {rate:.0f}/s, "
          f"provider saw {provider}, failed {failed}, still queued {pending}", flush=True)
    return result


def _count(engine: Engine, condition: str, ids: list[int]) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(
            f"SELECT count(*) FROM messages WHERE id = ANY(:ids) AND {condition}"),  # noqa: S608
            {"ids": ids}) or 0)


@dataclass(frozen=True)
class Page:
    label: str
    median_ms: float
    p95_ms: float
    matches: int | str


def measure_pages(app: Flask, runs: int) -> list[Page]:
    """The officer's queue, a filtered page, an Arabic search (``bench/console.py``'s views)
    and the first listed case's page, through the real routes."""
    pages = []
    with app.app_context():
        officer = db.session.scalars(
            select(User).where(User.email == console.OFFICER_EMAIL)).one()
        listed = find_cases(db.session, officer, QueueFilters(), 1, 1)
        reference = listed.items[0].case.reference if listed.items else "0000000"
        client = console.signed_in(app, officer)
        wanted = ("needs action (default)", "filtered: ", "search «سلة غذائية»")
        for view in console.views("officer", reference):
            if not view.label.startswith(wanted):
                continue
            found = find_cases(db.session, officer, view.filters, 1, 1)
            total: int | str = f"more than {found.total:,} matches" if found.more \
                else found.total
            db.session.rollback()
            timings, _rows = console.time_view(client, view, runs)
            pages.append(Page(f"queue: {view.label}", statistics.median(timings),
                              console._p95(timings), total))
        path = f"/admin/cases/{reference}?lang=en"
        timings = []
        for number in range(runs + 2):
            began = time.perf_counter()
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"case page: HTTP {response.status_code}")
            if number >= 2:  # two to warm caches and templates, as console.py does
                timings.append((time.perf_counter() - began) * 1000)
        count = db.session.scalar(text(
            "SELECT count(*) FROM messages m JOIN cases c ON c.id = m.case_id "
            "WHERE c.reference = :r"), {"r": reference})
        pages.append(Page("case page", statistics.median(timings), console._p95(timings),
                          f"{count} msgs"))
    return pages


# --- data --------------------------------------------------------------------------------------

def prepare(target: console.Target, cases: int, per_case: int, keep: bool) -> float | None:
    """The database with the wanted data (reused with --keep); seconds spent generating."""
    expected = (cases, cases * per_case)
    if keep:
        target.create()
        app = console.make_app(target)
        console.upgrade_schema(app)
        engine = create_engine(target.url)
        try:
            found = _scale_counts(engine)
        finally:
            engine.dispose()
            with app.app_context():
                db.engine.dispose()
        if found == expected:
            print("  reusing the generated data (--keep)")
            return None
        print(f"  found {found[0]:,} cases and {found[1]:,} messages: generating afresh")
    recreate(target)
    engine = create_engine(target.url)
    try:
        print(f"  generating {cases:,} cases and {expected[1]:,} messages ...", flush=True)
        return console.generate(engine, load_org_data(ROOT / "config"), cases, per_case)
    finally:
        engine.dispose()


def _scale_counts(engine: Engine) -> tuple[int, int]:
    """Generated cases and messages (what the webhooks of an earlier run added is left out)."""
    with engine.connect() as connection:
        cases = connection.scalar(text(
            "SELECT count(*) FROM cases c JOIN contacts k ON k.id = c.contact_id "
            "WHERE k.pseudonym LIKE 'bench%'")) or 0
        messages = connection.scalar(text(
            "SELECT count(*) FROM messages WHERE external_id LIKE 'bench-%'")) or 0
    return int(cases), int(messages)


def fresh_database(url: str, instance: Path) -> console.Target:
    name = f"{make_url(url).database}_intake"
    target = console.Target("postgresql", make_url(url).set(database=name).render_as_string(
        hide_password=False), instance)
    recreate(target)
    return target


def recreate(target: console.Target) -> None:
    """An empty database at the newest schema, through the migrations."""
    target.drop()
    target.create()
    app = console.make_app(target)
    console.upgrade_schema(app)
    with app.app_context():
        db.engine.dispose()


# --- report ------------------------------------------------------------------------------------

@dataclass
class Row:
    what: str
    result: str
    target: str
    met: bool | None  # None: no target


def verdict(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "NOT met")


def summary_rows(intakes: list[IntakeResult], dispatches: list[DispatchResult],
                 pages: list[Page], memory: PeakMemory) -> list[Row]:
    rows = []
    for result in intakes:
        full, paced = result.full, result.paced
        rows.append(Row(f"webhooks, {result.workers} web workers, full rate",
                        f"{full.rate:.1f}/s vs no-op {result.noop.rate:.0f}/s = "
                        f"{result.ratio * 100:.1f}%; p50 {full.percentile_ms(0.5):.0f} ms, "
                        f"p99 {full.percentile_ms(0.99):.0f} ms",
                        f">= {TARGET_RATIO * 100:.0f}% of no-op", result.ratio >= TARGET_RATIO))
        if result.floor is not None:
            floor = result.floor
            share = floor.rate / result.noop.rate * 100 if result.noop.rate else 0.0
            rows.append(Row(f"  floor: Sawti's rows by hand-written SQL, {result.workers} "
                            "workers", f"{floor.rate:.1f}/s = {share:.1f}% of the no-op; "
                            f"p99 {floor.percentile_ms(0.99):.0f} ms", "", None))
        p99 = paced.percentile_ms(0.99)
        rows.append(Row(f"webhooks, {result.workers} web workers, half rate",
                        f"{paced.rate:.1f}/s; p50 {paced.percentile_ms(0.5):.0f} ms, "
                        f"p99 {p99:.0f} ms", f"p99 < {TARGET_P99_MS:.0f} ms",
                        p99 < TARGET_P99_MS))
    for result in dispatches:
        rows.append(Row(f"dispatcher, {result.workers} worker(s)",
                        f"{result.rate:.0f} msg/s ({result.sent:,}/{result.messages:,} sent "
                        f"in {result.seconds:.1f} s incl. start-up)",
                        f">= {TARGET_SEND_RATE:.0f} msg/s", result.rate >= TARGET_SEND_RATE))
        rows.append(Row(f"dispatcher, {result.workers} worker(s), duplicates",
                        f"{result.duplicates} (provider saw {result.provider_sends:,}, "
                        f"retried {result.retried})", "0", result.duplicates == 0))
    for page in pages:
        matches = page.matches if isinstance(page.matches, str) \
            else f"{page.matches:,} matches"
        rows.append(Row(page.label, f"median {page.median_ms:.0f} ms, p95 {page.p95_ms:.0f} "
                        f"ms ({matches})",
                        f"median < {TARGET_PAGE_MS:.0f} ms", page.median_ms < TARGET_PAGE_MS))
    for role in ("gunicorn worker", "flask worker"):
        peak, processes = memory.peak_mb(role)
        if processes:
            rows.append(Row(f"peak RSS, {role}", f"{peak:.0f} MB (max of {processes} "
                            "processes seen)",
                            f"< {TARGET_RSS_MB:.0f} MB", peak < TARGET_RSS_MB))
    return rows


def print_rows(rows: list[Row]) -> None:
    width = max(len(row.what) for row in rows)
    result_width = max(len(row.result) for row in rows)
    print(f"{'what':<{width}}  {'result':<{result_width}}  {'target':<22}")
    print("-" * (width + result_width + 34))
    for row in rows:
        print(f"{row.what:<{width}}  {row.result:<{result_width}}  {row.target:<22}"
              f"{verdict(row.met)}")


def machine(url: str) -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            version = connection.scalar(text("SHOW server_version"))
    finally:
        engine.dispose()
    return (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPU(s), {model}; "
            f"load average {intake._load_average()}; PostgreSQL {version}; "
            f"Python {platform.python_version()}")


# --- main --------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--messages-per-case", type=int, default=3)
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated data, and reuse it when it is there")
    parser.add_argument("--postgres-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help="REDIS_URL of the web and worker processes (emptied first); "
                             "'' runs them without Redis")
    parser.add_argument("--requests", type=int, default=3000,
                        help="webhook requests at full rate, per worker count (default 3000)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="client threads / wrk connections (default 16)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="cap on each load phase and each dispatcher batch (default 60)")
    parser.add_argument("--noop-seconds", type=float, default=5.0,
                        help="wrk duration of the no-op ceiling (default 5)")
    parser.add_argument("--paced-seconds", type=float, default=20.0,
                        help="duration of the half-rate phase (default 20)")
    parser.add_argument("--web-workers", default="2,4", help="gunicorn worker counts")
    parser.add_argument("--dispatch-workers", default="1,2", help="flask worker counts")
    parser.add_argument("--send-rate", default=NO_SEND_RATE,
                        help=f"SAWTI_SEND_RATE of the workers (default {NO_SEND_RATE}: none)")
    parser.add_argument("--send-concurrency", type=int, default=4,
                        help="SAWTI_SEND_CONCURRENCY of the workers (default 4, as shipped)")
    parser.add_argument("--runs", type=int, default=15, help="timed requests per page")
    parser.add_argument("--intake-db", choices=("auto", "scale", "fresh"), default="auto",
                        help=f"where intake and dispatch run (auto: fresh above "
                             f"{FRESH_ABOVE:,} cases)")
    parser.add_argument("--skip-load", action="store_true",
                        help="no intake, dispatcher or memory phases")
    parser.add_argument("--skip-pages", action="store_true", help="no console pages")
    parser.add_argument("--floor", action="store_true",
                        help="also measure Sawti's rows by hand-written SQL on the same workers "
                             "(bench/sawti_floor.py; a database of its own, dropped after)")
    args = parser.parse_args(argv)
    if not 1 <= args.cases <= 10**6:
        parser.error("--cases must be between 1 and 1000000 (references have 6 free digits)")
    for name in ("messages_per_case", "requests", "concurrency", "runs", "send_concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if min(args.seconds, args.noop_seconds, args.paced_seconds) <= 0:
        parser.error("durations must be positive")
    try:
        args.web_workers = [int(n) for n in args.web_workers.split(",")]
        args.dispatch_workers = [int(n) for n in args.dispatch_workers.split(",")]
    except ValueError:
        parser.error("--web-workers and --dispatch-workers are lists like 2,4")
    if min(args.web_workers + args.dispatch_workers) < 1:
        parser.error("worker counts must be at least 1")
    url = make_url(args.postgres_url)
    if url.get_backend_name() != "postgresql" or url.database in (
            None, "", "postgres", "template0", "template1"):
        parser.error("--postgres-url must be PostgreSQL and name a database of its own "
                     "(it is dropped)")
    if args.intake_db == "auto":
        args.intake_db = "fresh" if args.cases > FRESH_ABOVE else "scale"
    if not args.skip_load and not shutil.which("wrk"):
        parser.error("wrk is not installed (scripts/ensure-wrk installs it)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sawti-bench-scale-"))
    target = console.Target("postgresql", args.postgres_url, workdir / "instance")
    print(f"sawti scale benchmark: {args.cases:,} cases, "
          f"{args.cases * args.messages_per_case:,} messages; "
          f"{machine(_admin_url(args.postgres_url))}", flush=True)
    generated = prepare(target, args.cases, args.messages_per_case, args.keep)
    intakes: list[IntakeResult] = []
    dispatches: list[DispatchResult] = []
    pages: list[Page] = []
    failures: list[str] = []
    memory = PeakMemory()
    fresh: console.Target | None = None
    try:
        if not args.skip_pages:
            print("console pages ...", flush=True)
            app = console.make_app(target)
            logging.getLogger("sawti.access").setLevel(logging.WARNING)  # a line per request
            try:
                pages = measure_pages(app, args.runs)
            finally:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
        if not args.skip_load:
            load_target = target
            if args.intake_db == "fresh":
                fresh = fresh_database(args.postgres_url, target.instance)
                load_target = fresh
                print(f"intake and dispatch on the fresh database "
                      f"{make_url(fresh.url).database} ({args.cases:,} cases leave too few "
                      "free references for new cases)")
            with memory:
                run_load(load_target, args, memory, workdir, intakes, dispatches, failures)
    finally:
        if fresh is not None:
            fresh.drop()
        if not args.keep:
            target.drop()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"Sawti at scale — {machine(_admin_url(args.postgres_url))}")
    print(f"data: {args.cases:,} cases, {args.cases * args.messages_per_case:,} messages"
          + (f" (generated in {generated:.0f} s)" if generated is not None else " (reused)")
          + f"; intake and dispatch on the {'fresh' if fresh else 'same'} database; "
          f"gunicorn.conf.py (gthread, {os.environ.get('SAWTI_WEB_THREADS', '4')} threads); "
          f"{args.concurrency} client threads; webhooks "
          + ", ".join(f"{name} {share}%" for name, share in WEBHOOK_CHANNELS)
          + f"; SAWTI_SEND_RATE {args.send_rate}; SAWTI_SEND_CONCURRENCY "
          f"{args.send_concurrency}; REDIS_URL {args.redis_url or 'unset'}")
    rows = summary_rows(intakes, dispatches, pages, memory)
    if rows:
        print_rows(rows)
    for failure in failures:
        print(f"CHECK FAILED: {failure}")
    met = all(row.met for row in rows if row.met is not None)
    print(f"\nall targets {'met' if met else 'NOT met'}; checks "
          f"{'failed' if failures else 'passed'}")
    return 1 if failures else 0


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def run_load(target: console.Target, args: argparse.Namespace, memory: PeakMemory,
             workdir: Path, intakes: list[IntakeResult], dispatches: list[DispatchResult],
             failures: list[str]) -> None:
    port = intake.free_port()
    public_url = f"http://{HOST}:{port}"
    config = Config(telegram_port=0, twilio_port=0, phone_port=0, public_url=public_url)
    engine = create_engine(target.url)
    demo = Demo(config)
    floor = floor_target(target) if args.floor else None
    try:
        demo.start()
        if args.redis_url:
            import redis

            redis.Redis.from_url(args.redis_url).flushdb()
        env = service_env(target.url, target.instance, demo.app_env(), args.send_rate,
                          args.redis_url)
        env["SAWTI_SEND_CONCURRENCY"] = str(args.send_concurrency)
        if floor is not None:
            env[sawti_floor.URL_VARIABLE] = floor.url
        target.instance.mkdir(parents=True, exist_ok=True)
        queued_before = set(queued_outbox(engine))
        for workers in args.web_workers:
            print(f"intake with {workers} gunicorn workers ...", flush=True)
            result = intake_round(engine, env, workers, args, memory, workdir, config)
            intakes.append(result)
            errors = result.full.error_count + result.paced.error_count
            if errors:
                failures.append(f"{workers} workers: {errors} webhook requests failed")
            if result.stored != result.sent:
                failures.append(f"{workers} workers: {result.sent} webhooks sent, "
                                f"{result.stored} inbound messages stored")
        outbox = [mid for mid in queued_outbox(engine) if mid not in queued_before]
        if not outbox:
            failures.append("the webhooks queued no outbound message")
            return
        rounds = args.dispatch_workers
        size = len(outbox) // len(rounds)
        batches = [outbox[i * size:(i + 1) * size if i < len(rounds) - 1 else None]
                   for i in range(len(rounds))]
        later = datetime.now(UTC) + timedelta(days=1)
        hold(engine, outbox, later)  # nothing due until its round
        for workers, batch in zip(rounds, batches, strict=True):
            print(f"dispatcher with {workers} worker(s), {len(batch):,} messages ...",
                  flush=True)
            result = dispatch_round(engine, env, workers, batch, demo, args, memory, workdir)
            dispatches.append(result)
            if result.duplicates:
                failures.append(f"{workers} dispatcher(s): {result.duplicates} duplicate sends")
            if result.sent + result.failed != result.messages:
                lost = result.messages - result.sent - result.failed
                failures.append(f"{workers} dispatcher(s): {lost} messages neither sent nor "
                                "failed")
    finally:
        demo.stop()
        engine.dispose()
        if floor is not None:
            floor.drop()


def floor_target(target: console.Target) -> console.Target:
    """An empty database beside the benchmark's, with Sawti's schema, for the floor."""
    url = make_url(target.url)
    floor = console.Target("postgresql", url.set(database=f"{url.database}_floor")
                           .render_as_string(hide_password=False), target.instance)
    floor.drop()
    floor.create()
    sawti_floor.create_database(floor.url)
    return floor


if __name__ == "__main__":
    sys.exit(main())
