"""Intake throughput: messages per second through the simulator webhook vs a no-op endpoint.

A benchmark, not a test. It starts a real gunicorn server on 127.0.0.1 (a free port) over a
fresh SQLite database in a temporary instance directory and prints, side by side, the webhook
path (verify, parse, store, dialogue, outbox, one transaction) and a no-op route served by the
*same* worker processes, plus their ratio.

    .venv/bin/python bench/intake.py [--workers 2] [--threads 1] [--requests 3000]
                                     [--concurrency 8] [--seconds 60]
                                     [--noop-client auto|wrk|python] [--noop-seconds 5]
                                     [--floor]

The no-op route is not part of the application: gunicorn serves ``intake:bench_app()`` (this
module, with ``bench/`` on its python path), which is ``create_app()`` plus ``/_bench/noop``.

The client shares the machine's cores with the server, so it must not be what limits the
no-op ceiling: a Python client spends about as much CPU per request as the server's no-op.
The ceiling is therefore measured with wrk (Debian's ``wrk``; ``scripts/ensure-wrk`` installs
it) when it is there, over the same number of connections. The webhook is driven from client
threads in this process, because each person's messages must go in order and every one is
checked; at the webhook's rate the client's CPU is small (the table shows both).
``--floor`` adds two bench-only endpoints served by the same workers, which show what the
webhook's ratio could be at best: ``/_bench/store_one`` parses the same JSON body and stores it
with one INSERT and a commit (the least any durable intake does), and ``/_bench/find_and_store``
finds the person's last row, stores the message and queues one reply in one transaction (the
least an intake that answers does). They write to a scratch table, never to Sawti's.
``/_bench/sawti_minimum`` (``bench/sawti_floor.py``) writes the rows Sawti's webhook writes for
this traffic with the fewest hand-written statements and none of the dialogue code, to its own
database file: what no implementation of the same rows could beat.

Afterwards the rows in the database are counted: every webhook request sent must have stored
exactly one inbound message and been answered 2xx, otherwise the run exits with status 1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sawti_floor

if TYPE_CHECKING:
    from flask import Flask, Response
    from sqlalchemy import Table

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
HOST = "127.0.0.1"  # never anything else
NOOP_PATH = "/_bench/noop"
STORE_ONE_PATH = "/_bench/store_one"
FIND_AND_STORE_PATH = "/_bench/find_and_store"
SAWTI_MINIMUM_PATH = "/_bench/sawti_minimum"
FLOOR_TABLE = "bench_floor"
WEBHOOK_PATH = "/webhooks/simulator"
WARMUP_REQUESTS = 100
MESSAGES_PER_TAB = 5
TARGET_RATIO = 0.40
STARTUP_SECONDS = 30.0
REQUEST_TIMEOUT = 30.0
WRK_SCRIPT = BENCH_DIR / "wrk_summary.lua"

# Short complaints as people write them, in Syrian and Iraqi Arabic.
COMPLAINTS = (
    "ما وصلتني السلة الغذائية هالشهر، وعندي خمس ولاد",
    "صارلي شهرين ما استلمت القسيمة، شو السبب؟",
    "الموزع طلب مني مصاري مشان يعطيني الحصة",
    "المي بالمخيم مقطوعة من اسبوع والخزان فاضي",
    "الخيمة عم تدلف من المطر وما حدا رد علينا",
    "اسمي مو موجود بالقائمة مع اني مسجل من زمان",
    "الطحين اللي استلمناه خربان وفيه سوس",
    "المستوصف ما عنده دوا للسكري وامي مريضة",
    "ليش قطعتوا المساعدة عن عيلتي؟ ما تغير شي بوضعنا",
    "بدي اعرف وين صار طلبي للبطانيات، البرد كتير",
    "ما استلمنا المنحة النقدية لحد هسه",
    "الكرفان مالتنا يخر مي وماكو احد يصلحه",
    "شكد لازم ننتظر حتى توصلنا الحصة؟",
    "الموظف عاملنا بطريقة مو زينة يوم التوزيع",
    "الكهرباء مقطوعة بالمخيم من يومين والجو كلش حار",
    "ابني مريض وماكو سيارة تودينا للمستشفى",
    "سجلونا بالاستمارة بس ماكو اي رد لحد الان",
    "الكمية بالسلة قليلة ما تكفي عائلة من ثمان اشخاص",
    "المدرسة بالمخيم مسكرة والولاد قاعدين بالبيت",
    "اجوا ناس قالوا من المنظمة وطلبوا رقم البطاقة، هل هذا صحيح؟",
)
# Answers to the follow-up questions (governorate, then consent to be contacted).
LOCATION_ANSWERS = ("1", "2", "حلب", "إدلب", "ادلب")
CONSENT_ANSWERS = ("نعم", "1", "لا", "2", "ايوه")


# --- the app gunicorn serves -----------------------------------------------------------------

def bench_app() -> Flask:
    """``create_app()`` with one extra no-op route, so both endpoints share the same workers."""
    from app import create_app
    from extensions import csrf

    application = create_app()
    application.add_url_rule(NOOP_PATH, endpoint="bench_noop", view_func=_noop)
    for path, view in ((STORE_ONE_PATH, _store_one), (FIND_AND_STORE_PATH, _find_and_store),
                       (SAWTI_MINIMUM_PATH, sawti_floor.sawti_minimum)):
        application.add_url_rule(path, endpoint=view.__name__, view_func=csrf.exempt(view),
                                 methods=["POST"])
    return application


def _noop() -> Response:
    from flask import Response

    return Response(status=204)


def _floor_table() -> Table:
    from sqlalchemy import Column, Integer, MetaData, Table, Text

    return Table(FLOOR_TABLE, MetaData(), Column("id", Integer, primary_key=True),
                 Column("tab", Text, nullable=False, index=True),
                 Column("body", Text, nullable=False))


def _store_one() -> Response:
    """The floor of a durable intake: parse the body, one INSERT, commit."""
    from flask import Response, request

    from extensions import db

    payload = json.loads(request.get_data())
    db.session.execute(FLOOR.insert(), {"tab": payload["tab"], "body": payload["text"]})
    db.session.commit()
    return Response(status=204)


def _find_and_store() -> Response:
    """The floor of an intake that answers: find the person, store, queue a reply; commit."""
    from flask import Response, request
    from sqlalchemy import select

    from extensions import db

    payload = json.loads(request.get_data())
    tab = payload["tab"]
    db.session.execute(select(FLOOR.c.id).where(FLOOR.c.tab == tab)
                       .order_by(FLOOR.c.id.desc()).limit(1)).first()
    db.session.execute(FLOOR.insert(), [{"tab": tab, "body": payload["text"]}])
    db.session.execute(FLOOR.insert(), [{"tab": tab, "body": "reply"}])
    db.session.commit()
    return Response(status=204)


FLOOR = _floor_table()


# --- traffic -------------------------------------------------------------------------------

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers
Traffic = Callable[[int], Iterator[Request]]  # client thread number -> its requests


def noop_traffic(_thread: int) -> Iterator[Request]:
    while True:
        yield "GET", NOOP_PATH, None, {}


def floor_traffic(path: str, people: WebhookTraffic) -> Traffic:
    """The webhook's bodies (same size and shape) posted to a floor endpoint."""
    def requests(thread: int) -> Iterator[Request]:
        for _method, _path, body, headers in people(thread):
            yield "POST", path, body, headers
    return requests


@dataclass
class WebhookTraffic:
    """Each client thread plays one person after another, ~5 messages each, in order.

    A person's messages follow the dialogue: a complaint (opens a case; asked the governorate),
    the governorate, the consent answer, then two more complaints (added to the case).
    """

    label: str
    tabs: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, thread: int) -> Iterator[Request]:
        rng = random.Random(f"{self.label}-{thread}")
        headers = {"Content-Type": "application/json", "X-Sawti-Simulator": "1"}
        for person in range(10**9):
            tab = f"bench-{self.label}-{thread}-{person}"
            with self._lock:
                self.tabs.add(tab)
            texts = (rng.choice(COMPLAINTS), rng.choice(LOCATION_ANSWERS),
                     rng.choice(CONSENT_ANSWERS), rng.choice(COMPLAINTS), rng.choice(COMPLAINTS))
            for number, text in enumerate(texts[:MESSAGES_PER_TAB]):
                body = json.dumps({"tab": tab, "id": f"m{number}", "text": text},
                                  ensure_ascii=False).encode("utf-8")
                yield "POST", WEBHOOK_PATH, body, headers


# --- load generator ------------------------------------------------------------------------

@dataclass
class PhaseResult:
    name: str
    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    client_cpu: float | None = None  # seconds
    server_cpu: float | None = None  # seconds
    timed_out: bool = False
    reported_ms: dict[float, float] = field(default_factory=dict)  # percentiles (wrk's)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return self.reported_ms.get(fraction, float("nan"))
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[index] * 1000


class Tickets:
    """Hands out at most ``total`` request slots, and none after the deadline."""

    def __init__(self, total: int, deadline: float) -> None:
        self._left = total
        self._deadline = deadline
        self._lock = threading.Lock()
        self.timed_out = False

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            if time.monotonic() >= self._deadline:
                self.timed_out = True
                return False
            self._left -= 1
            return True


@dataclass
class ClientTally:
    """One client thread's requests on one kept-alive connection, added to a phase at the end."""

    connection: http.client.HTTPConnection
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    ok: int = 0

    def exchange(self, request: Request, since: float) -> None:
        """Send one request; its latency counts from ``since`` (a perf_counter time)."""
        method, path, body, headers = request
        self.sent += 1
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.errors[f"{type(error).__name__}: {error}"] += 1
            self.connection.close()
            return
        self.latencies.append(time.perf_counter() - since)
        if 200 <= response.status < 300:
            self.ok += 1
        else:
            snippet = payload[:160].decode("utf-8", "replace").strip()
            self.errors[f"HTTP {response.status}: {snippet}"] += 1

    def add_to(self, result: PhaseResult, lock: threading.Lock) -> None:
        self.connection.close()
        with lock:
            result.sent += self.sent
            result.ok += self.ok
            result.errors.update(self.errors)
            result.latencies.extend(self.latencies)


def run_phase(name: str, port: int, traffic: Traffic, total: int, concurrency: int,
              seconds: float, server_pid: int) -> PhaseResult:
    """Send ``total`` requests from ``concurrency`` threads (or stop at ``seconds``)."""
    result = PhaseResult(name)
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    tickets: list[Tickets] = []

    def client(thread: int) -> None:
        tally = ClientTally(http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT))
        requests = traffic(thread)
        start.wait()
        try:
            while tickets[0].take():
                tally.exchange(next(requests), time.perf_counter())
        finally:
            tally.add_to(result, lock)

    threads = [threading.Thread(target=client, args=(number,), name=f"{name}-{number}",
                                daemon=True) for number in range(concurrency)]
    for thread in threads:
        thread.start()
    client_before, server_before = _client_cpu(), _server_cpu(server_pid)
    began = time.monotonic()
    tickets.append(Tickets(total, began + seconds))
    start.wait()
    for thread in threads:
        thread.join()
    result.elapsed = time.monotonic() - began
    client_after, server_after = _client_cpu(), _server_cpu(server_pid)
    result.client_cpu = client_after - client_before
    if server_before is not None and server_after is not None:
        result.server_cpu = server_after - server_before
    result.timed_out = tickets[0].timed_out
    return result


def run_wrk_phase(name: str, port: int, path: str, concurrency: int, seconds: float,
                  server_pid: int) -> PhaseResult:
    """GET ``path`` for ``seconds`` with wrk over ``concurrency`` connections (one thread)."""
    command = ["wrk", "--threads", "1", "--connections", str(concurrency),
               "--duration", f"{seconds:g}s", "--timeout", f"{REQUEST_TIMEOUT:g}s",
               "--script", str(WRK_SCRIPT), f"http://{HOST}:{port}{path}"]
    client_before, server_before = _children_cpu(), _server_cpu(server_pid)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                          check=False)
    client_after, server_after = _children_cpu(), _server_cpu(server_pid)
    totals = _wrk_totals(done.stdout)
    if done.returncode != 0 or totals is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    result = PhaseResult(name, sent=totals["requests"], elapsed=totals["duration_us"] / 1e6,
                         client_cpu=client_after - client_before,
                         reported_ms={0.50: totals["p50_us"] / 1000,
                                      0.99: totals["p99_us"] / 1000})
    for kind in ("connect", "read", "write", "timeout"):
        if totals[kind]:
            result.errors[f"socket {kind} errors"] += totals[kind]
    if totals["status"]:
        result.errors["HTTP status >= 400"] += totals["status"]
    result.ok = result.sent - totals["status"]
    if server_before is not None and server_after is not None:
        result.server_cpu = server_after - server_before
    return result


def _wrk_totals(output: str) -> dict[str, int] | None:
    for line in output.splitlines():
        if line.startswith("SAWTI-WRK "):
            return {key: int(value) for key, value in
                    (item.split("=") for item in line.split()[1:])}
    return None


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _server_cpu(master_pid: int) -> float | None:
    """CPU seconds used so far by the gunicorn master and its live workers (Linux only)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # exited meanwhile
        fields = stat[stat.rindex(")") + 2:].split()
        # after "pid (comm) ": state ppid ... utime stime are fields 14 and 15 of the line
        if int(entry) == master_pid or int(fields[1]) == master_pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


# --- server ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def server_env(instance: Path) -> dict[str, str]:
    """This environment minus anything that would point the app elsewhere."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("SAWTI_")
           and key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FLASK_APP"}}
    env.update(SAWTI_INSTANCE_PATH=str(instance), SAWTI_ENV="development",
               SAWTI_SIMULATOR="true", FLASK_APP="app.py", PYTHONUNBUFFERED="1")
    return env


def create_schema(env: dict[str, str]) -> None:
    """``flask db upgrade``; it also writes the instance secrets the workers will share."""
    done = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")


def create_floor_table(database: Path) -> None:
    """The scratch table of the ``--floor`` endpoints, outside Sawti's schema."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{database}")
    try:
        FLOOR.metadata.create_all(engine)
    finally:
        engine.dispose()


def start_server(env: dict[str, str], port: int, workers: int, threads: int, log: Path
                 ) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers), "--threads", str(threads),
        "--chdir", str(ROOT), "--pythonpath", str(BENCH_DIR),
        "--error-logfile", str(log), "--log-level", "warning",
        "--graceful-timeout", "10",
        "--max-requests", "0",  # gunicorn.conf.py recycles workers: their CPU would go uncounted
        "intake:bench_app()",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_ready(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{_tail(log)}")
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", NOOP_PATH)
            if connection.getresponse().status == 204:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn not ready after {STARTUP_SECONDS:.0f}s:\n{_tail(log)}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            server.kill()
    server.wait(timeout=10)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- verification and report ---------------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    inbound: int
    outbound: int
    contacts: int
    cases: int


def count_rows(database: Path) -> Stored:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        def count(sql: str) -> int:
            return int(connection.execute(sql).fetchone()[0])

        return Stored(
            inbound=count("SELECT count(*) FROM messages WHERE direction = 'in' "
                          "AND channel = 'simulator'"),
            outbound=count("SELECT count(*) FROM messages WHERE direction = 'out'"),
            contacts=count("SELECT count(*) FROM contacts"),
            cases=count("SELECT count(*) FROM cases"),
        )
    finally:
        connection.close()


def check_floor_rows(instance: Path, sent: int, tabs: int) -> bool:
    """Print the rows /_bench/sawti_minimum stored, as for the webhook; True on a mismatch."""
    stored = count_rows(sawti_floor.database_path(instance))
    print(f"{SAWTI_MINIMUM_PATH} (its own database; requests incl. warm-up: {sent}):")
    failed = False
    for what, found, expected in (("inbound messages", stored.inbound, sent),
                                  ("contacts", stored.contacts, tabs),
                                  ("cases", stored.cases, tabs)):
        failed = failed or found != expected
        print(f"  {what:<17} {found:>6}  expected {expected:>6}  "
              f"{'ok' if found == expected else 'MISMATCH'}")
    print(f"  {'outbound queued':<17} {stored.outbound:>6}  "
          f"({stored.outbound / max(stored.inbound, 1):.2f} per inbound)")
    return failed


def print_table(results: list[PhaseResult]) -> None:
    header = (f"{'endpoint':<26}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}"
              f"{'p99 ms':>9}{'client cpu':>12}{'server cpu':>12}{'server ms/req':>15}")
    print(header)
    print("-" * len(header))
    for result in results:
        print(f"{result.name:<26}{result.sent:>9}{result.error_count:>8}{result.rate:>9.1f}"
              f"{result.percentile_ms(0.50):>9.1f}{result.percentile_ms(0.99):>9.1f}"
              f"{_cpu_share(result.client_cpu, result.elapsed):>12}"
              f"{_cpu_share(result.server_cpu, result.elapsed):>12}"
              f"{_cpu_per_request(result.server_cpu, result.sent):>15}")
    print("(cpu: % of one core over the timed phase, 100% = one core busy; server ms/req: "
          "server CPU time per request, which other load on the machine changes least)")


def _cpu_share(seconds: float | None, elapsed: float) -> str:
    if seconds is None or elapsed <= 0:
        return "n/a"
    return f"{seconds / elapsed * 100:.0f}%"


def _cpu_per_request(seconds: float | None, requests: int) -> str:
    if seconds is None or requests <= 0:
        return "n/a"
    return f"{seconds / requests * 1000:.2f}"


def print_errors(results: list[PhaseResult]) -> None:
    for result in results:
        for message, count in result.errors.most_common(5):
            print(f"  error [{result.name}] x{count}: {message}")
        if result.timed_out:
            print(f"  note [{result.name}]: stopped by --seconds after {result.sent} requests")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (default 1: sync worker; >1: gthread)")
    parser.add_argument("--requests", type=int, default=3000,
                        help="timed requests per endpoint (default 3000)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="client threads, one keep-alive connection each (default 8)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="cap on each phase (warm-up and timed), seconds (default 60)")
    parser.add_argument("--noop-client", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator of the no-op ceiling (default auto: wrk if "
                             "installed, else the Python client threads)")
    parser.add_argument("--noop-seconds", type=float, default=5.0,
                        help="duration of the no-op phase with wrk (default 5)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure the floor endpoints (one INSERT; a lookup and two "
                             "INSERTs; Sawti's rows by hand-written SQL) with the webhook's "
                             "bodies, same workers and client")
    args = parser.parse_args(argv)
    for name in ("workers", "threads", "requests", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.seconds <= 0 or args.noop_seconds <= 0:
        parser.error("--seconds and --noop-seconds must be positive")
    if args.noop_client == "auto":
        args.noop_client = "wrk" if shutil.which("wrk") else "python"
    elif args.noop_client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (scripts/ensure-wrk installs it)")
    return args


def _noop_client(args: argparse.Namespace) -> str:
    if args.noop_client == "wrk":
        return f"wrk, {args.noop_seconds:g} s"
    note = "" if shutil.which("wrk") else " (install wrk: scripts/ensure-wrk)"
    return f"the Python client, {args.requests} requests{note}"


def _load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import gunicorn

    print(f"sawti intake benchmark: gunicorn {gunicorn.__version__} "
          f"({'sync' if args.threads == 1 else 'gthread'}), {args.workers} worker(s) x "
          f"{args.threads} thread(s); {args.concurrency} client threads; "
          f"{args.requests} webhook requests; no-op ceiling by {_noop_client(args)}; "
          f"SQLite; Python {platform.python_version()}; {os.cpu_count()} CPU(s); "
          f"load average {_load_average()}")
    label = secrets.token_hex(3)
    instance = Path(tempfile.mkdtemp(prefix="sawti-bench-"))
    log = instance / "gunicorn.log"
    server: subprocess.Popen[bytes] | None = None
    try:
        env = server_env(instance)
        create_schema(env)
        create_floor_table(instance / "sawti.db")
        if args.floor:
            sys.path.append(str(ROOT))  # the schema comes from casework.models
            sawti_floor.create_database(f"sqlite:///{sawti_floor.database_path(instance)}")
        port = free_port()
        server = start_server(env, port, args.workers, args.threads, log)
        wait_until_ready(server, port, log)
        server_pid = server.pid

        def phase(name: str, traffic: Traffic, total: int) -> PhaseResult:
            return run_phase(name, port, traffic, total, args.concurrency, args.seconds,
                             server_pid)

        phase("noop warm-up", noop_traffic, WARMUP_REQUESTS)
        if args.noop_client == "wrk":
            noop = run_wrk_phase(f"GET {NOOP_PATH} (wrk)", port, NOOP_PATH, args.concurrency,
                                 args.noop_seconds, server_pid)
        else:
            noop = phase(f"GET {NOOP_PATH}", noop_traffic, args.requests)
        warm_traffic = WebhookTraffic(f"{label}w")
        warm = phase("webhook warm-up", warm_traffic, WARMUP_REQUESTS)
        timed_traffic = WebhookTraffic(f"{label}t")
        webhook = phase(f"POST {WEBHOOK_PATH}", timed_traffic, args.requests)
        floors, floor_tabs, floor_sent = [], set(), 0
        if args.floor:
            for number, path in enumerate((STORE_ONE_PATH, FIND_AND_STORE_PATH,
                                           SAWTI_MINIMUM_PATH)):
                people = WebhookTraffic(f"{label}f{number}w"), WebhookTraffic(f"{label}f{number}")
                floor_warm = phase(f"{path} warm-up", floor_traffic(path, people[0]),
                                   WARMUP_REQUESTS)
                floors.append(phase(f"POST {path}", floor_traffic(path, people[1]),
                                    args.requests))
                floor_sent = floor_warm.sent + floors[-1].sent  # the last: sawti_minimum's
                floor_tabs = people[0].tabs | people[1].tabs

        print()
        print_table([noop, webhook, *floors])
        print_errors([warm, noop, webhook, *floors])
        ratio = webhook.rate / noop.rate if noop.rate else 0.0
        print()
        for floor in floors:
            print(f"floor: {floor.name[5:]}/noop = "
                  f"{floor.rate / noop.rate * 100 if noop.rate else 0.0:.1f}%")
        print(f"ratio: webhook/noop = {ratio * 100:.1f}%")
        print(f"target: >= {TARGET_RATIO * 100:.0f}%  "
              f"({'met' if ratio >= TARGET_RATIO else 'NOT met'})")

        stored = count_rows(instance / "sawti.db")
        sent = warm.sent + webhook.sent
        accepted = warm.ok + webhook.ok
        tabs = len(warm_traffic.tabs | timed_traffic.tabs)
        checks = [("answered 2xx", accepted, sent), ("inbound messages", stored.inbound, sent),
                  ("contacts", stored.contacts, tabs), ("cases", stored.cases, tabs)]
        print()
        print(f"database check (webhook requests sent incl. warm-up: {sent}, 2xx: {accepted}; "
              f"tabs: {tabs}):")
        failed = False
        for what, found, expected in checks:
            verdict = "ok" if found == expected else "MISMATCH"
            failed = failed or found != expected
            print(f"  {what:<17} {found:>6}  expected {expected:>6}  {verdict}")
        print(f"  {'outbound queued':<17} {stored.outbound:>6}  "
              f"({stored.outbound / max(stored.inbound, 1):.2f} per inbound)")
        if args.floor:
            failed = check_floor_rows(instance, floor_sent, len(floor_tabs)) or failed
        return 1 if failed else 0
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
