"""In-process cost of one inbound message: milliseconds and SQL statements, with a profile.

A companion to ``bench/intake.py`` (which measures a real server): the same traffic is run
in this process over a fresh SQLite database, either through the Flask test client (the whole
webhook: routing, hooks, JSON, the simulator adapter) or straight into ``handle_inbound``.

    .venv/bin/python bench/profile_intake.py [--via client|direct] [--messages 2000]
                                             [--profile] [--top 25] [--redis URL]

It prints the CPU time per message and the part of it spent inside the write transaction
(on SQLite, holding the database's write lock: 1000 / that many ms bounds the messages per
second of any number of workers), and the SQL statements per message. ``--redis`` runs with
``REDIS_URL`` (dialogue sessions and the de-duplication fast path in Redis; give it a Redis
database of its own: the run empties it) and adds the wall-clock time, which includes waiting
for Redis. ``--profile`` runs
cProfile over the timed loop and prints the functions with the most cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path[:0] = [str(ROOT), str(BENCH_DIR)]

from flask import Flask  # noqa: E402
from intake import WEBHOOK_PATH, WebhookTraffic  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

WARMUP = 200


def build_app(instance: Path, redis_url: str | None = None) -> Flask:
    from app import create_app
    from config.settings import load_settings
    from extensions import db

    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    settings = load_settings(sawti_env="development", sawti_instance_path=instance,
                             sawti_simulator=True, redis_url=redis_url, database_url=None)
    application = create_app(settings)
    with application.app_context():
        db.create_all()
    return application


def requests(label: str) -> Iterator[tuple[bytes, dict[str, str]]]:
    for _method, _path, body, headers in WebhookTraffic(label)(0):
        assert body is not None
        yield body, headers


def via_client(application: Flask) -> Callable[[bytes, dict[str, str]], None]:
    client = application.test_client()

    def send(body: bytes, headers: dict[str, str]) -> None:
        response = client.post(WEBHOOK_PATH, data=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.get_data(as_text=True)}")

    return send


def via_direct(application: Flask) -> Callable[[bytes, dict[str, str]], None]:
    from bot.conversation import handle_inbound
    from casework.intake import Inbound
    from casework.models import utcnow
    from extensions import db
    from services import services

    def send(body: bytes, _headers: dict[str, str]) -> None:
        payload = json.loads(body)
        inbound = Inbound(channel="simulator", address=payload["tab"],
                          external_id=f"{payload['tab']}:{payload['id']}", text=payload["text"],
                          received_at=utcnow(), raw={"id": payload["id"]})
        with application.app_context():
            svc = services()
            handle_inbound(db.session, inbound, svc.vault, svc.dialogue)
            db.session.remove()

    return send


def count_statements(application: Flask) -> list[int]:
    from extensions import db

    counter = [0]
    with application.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.startswith("BEGIN"):  # the transaction's own, not the intake's
            counter[0] += 1

    return counter


class LockClock:
    """CPU time (this thread's) spent inside write transactions: from just after BEGIN to
    just after COMMIT or ROLLBACK. On SQLite that is how long the write lock is held, so
    1000 / (ms per message) bounds the messages per second any number of workers can store."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began: float | None = None
        event.listen(Session, "after_begin", self._begin)
        event.listen(Session, "after_commit", self._end)
        event.listen(Session, "after_rollback", self._end)

    def _begin(self, *_args: object) -> None:
        self._began = time.thread_time()

    def _end(self, *_args: object) -> None:
        if self._began is not None:
            self.seconds += time.thread_time() - self._began
            self._began = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--via", choices=("client", "direct"), default="client")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--redis", metavar="URL", help="run with this REDIS_URL")
    args = parser.parse_args(argv)

    instance = Path(tempfile.mkdtemp(prefix="sawti-profile-"))
    application = build_app(instance, args.redis)
    send = (via_client if args.via == "client" else via_direct)(application)
    for body, headers in islice(requests("warm"), WARMUP):
        send(body, headers)
    statements = count_statements(application)
    lock = LockClock()
    timed = list(islice(requests("timed"), args.messages))
    profiler = cProfile.Profile(time.thread_time) if args.profile else None  # CPU, not wall
    lock.seconds, cpu_began, wall_began = 0.0, time.thread_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for body, headers in timed:
        send(body, headers)
    if profiler:
        profiler.disable()
    cpu, wall = time.thread_time() - cpu_began, time.perf_counter() - wall_began
    print(f"{args.via}: {len(timed)} messages{' (under the profiler)' if profiler else ''}: "
          f"{cpu / len(timed) * 1000:.2f} ms CPU each, of which "
          f"{lock.seconds / len(timed) * 1000:.2f} ms in the write transaction; "
          f"{statements[0] / len(timed):.2f} SQL statements each (BEGIN, COMMIT not counted); "
          f"{wall / len(timed) * 1000:.2f} ms wall-clock each"
          f"{' (with REDIS_URL)' if args.redis else ''}")
    if profiler:
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
