"""The inbound spool: nothing a provider delivered is lost while the database is down.

When a provider webhook (Telegram; Twilio messaging, status, the voice hotline and the voice
status and recording callbacks) cannot reach the database, the request — verified first — is
appended to ``instance/spool/inbound.spool`` and the provider gets the answer it expects
(200 ``{"ok": true}``, empty TwiML, ``<Reject/>``, 204). Each entry is one line: the request
(path, query, the headers that verify it, body), sealed with the data key (``Vault.seal``),
so the file holds no readable number or text; it is written with ``fsync`` under an
exclusive lock, so several web processes may append at once.

``flask worker`` replays the spool once the database answers (``replay``): in order, each
entry through the same application code as a live request (verification included), so it is
exactly as idempotent as the webhooks themselves — a replay interrupted after an entry was
ingested but before its place was recorded ingests nothing twice. The read position is kept
in ``inbound.offset`` (written atomically); an entry the application refuses (403, 400, 404)
or that fails ``MAX_ATTEMPTS`` times goes to ``rejected.spool`` and is logged. ``/healthz``
shows the depth.

The interactive voice steps (the menu a caller is hearing) are not spooled: a caller cannot
wait for the database, and Twilio plays its own apology.

Ingest time: a replayed message's ``received_at`` is the time of the replay; the original
arrival time is in the entry and in the log line of the replay.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from abuse import REPLAY_FLAG
from casework.privacy import AddressDecryptionError
from extensions import db

log = logging.getLogger(__name__)

SPOOL_FILE, OFFSET_FILE, REJECTED_FILE, LOCK_FILE = (
    "inbound.spool", "inbound.offset", "rejected.spool", ".lock")
KEPT_HEADERS = ("Content-Type", "X-Twilio-Signature", "X-Telegram-Bot-Api-Secret-Token")
UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)
MAX_ATTEMPTS = 5
DONE, REJECTED, RETRY, WAIT = "done", "rejected", "retry", "wait"
REPLAY_BATCH = 200

# endpoint -> (adapter's channel, what the provider gets once the request is spooled)
TELEGRAM, TWILIO_MESSAGING, TWILIO_STATUS, VOICE, VOICE_CALLBACK = (
    "telegram", "messaging", "status", "voice", "voice_callback")
SPOOLED: dict[str, str] = {
    "channels.receive_webhooks_telegram": TELEGRAM,
    "channels.receive_webhooks_twilio_messaging": TWILIO_MESSAGING,
    "channels.receive_status_webhooks_twilio_status": TWILIO_STATUS,
    "channels.receive_webhooks_twilio_voice": VOICE,
    "channels.voice_message_status": VOICE_CALLBACK,
    "channels.voice_status": VOICE_CALLBACK,
    "channels.voice_recording": VOICE_CALLBACK,
}


class Spool:
    """The spool folder of one instance; safe to use from several processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def path(self) -> Path:
        return self.folder / SPOOL_FILE

    def append(self, sealed: bytes) -> None:
        """Append one entry durably (the provider is answered only after this returns)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._locked():
            new = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, sealed + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            if new:
                _fsync_dir(self.folder)

    def depth(self) -> int:
        """Entries not replayed yet."""
        if not self.path.exists():
            return 0
        offset = self._offset()
        with self.path.open("rb") as handle:
            handle.seek(offset)
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))

    def pending(self) -> Iterator[tuple[int, bytes]]:
        """(offset after the entry, entry) for each complete entry not replayed yet."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            handle.seek(self._offset())
            for line in handle:
                if not line.endswith(b"\n"):
                    return  # being written by a web process right now
                yield handle.tell(), line.rstrip(b"\n")

    def advance(self, offset: int) -> None:
        _write_atomically(self.folder / OFFSET_FILE, f"{offset} 0".encode())

    def failed_attempt(self) -> int:
        """Count a failed replay of the next entry; returns how many there were."""
        offset, attempts = self._position()
        _write_atomically(self.folder / OFFSET_FILE, f"{offset} {attempts + 1}".encode())
        return attempts + 1

    def reject(self, line: bytes) -> None:
        with self._locked():
            fd = os.open(self.folder / REJECTED_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                         0o600)
            try:
                os.write(fd, line + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)

    def compact(self) -> bool:
        """Empty the spool once everything in it was replayed (under the writers' lock)."""
        with self._locked():
            if not self.path.exists() or self._offset() < self.path.stat().st_size:
                return False
            # Offset first: a crash between the two steps replays (idempotently) rather than
            # skipping entries appended later.
            self.advance(0)
            with self.path.open("r+b") as handle:
                handle.truncate(0)
                os.fsync(handle.fileno())
        return True

    def _offset(self) -> int:
        return self._position()[0]

    def _position(self) -> tuple[int, int]:
        """(offset of the next entry, failed replays of it)."""
        try:
            fields = [int(part) for part in (self.folder / OFFSET_FILE).read_text().split()]
        except (FileNotFoundError, ValueError):
            return 0, 0
        offset, attempts = [*fields, 0, 0][:2]
        size = self.path.stat().st_size if self.path.exists() else 0
        return (offset, attempts) if 0 <= offset <= size else (0, 0)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def spool_for(app: Flask) -> Spool:
    return Spool(app.extensions["sawti"].settings.sawti_instance_path / "spool")


# --- the web side -------------------------------------------------------------------------

def register(app: Flask) -> None:
    """Wrap the spooled webhooks and the health check (after the blueprints are registered)."""
    for endpoint, kind in SPOOLED.items():
        view = app.view_functions.get(endpoint)
        if view is not None and not getattr(view, "spooled", False):
            app.view_functions[endpoint] = _spooling(view, kind)
    health = app.view_functions.get("channels.healthz")
    if health is not None and not getattr(health, "spooled", False):
        app.view_functions["channels.healthz"] = _with_depth(health)


def _spooling(view: Callable[..., ResponseReturnValue], kind: str
              ) -> Callable[..., ResponseReturnValue]:
    @wraps(view)
    def wrapped(**kwargs: Any) -> ResponseReturnValue:
        body = request.get_data(cache=True)  # before the view parses it (and 413 if too big)
        try:
            return view(**kwargs)
        except UNREACHABLE as error:
            _forget_transaction()
            if request.environ.get(REPLAY_FLAG):
                return _unavailable()
            if not _verified(kind, kwargs):
                return _refuse()
            _append(body, kind)
            log.warning("database unreachable: webhook request spooled",
                        extra={"kind": kind, "error": type(error).__name__})
            return _provider_answer(kind)

    wrapped.spooled = True  # type: ignore[attr-defined]
    return wrapped


def _with_depth(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    @wraps(view)
    def wrapped(**kwargs: Any) -> ResponseReturnValue:
        response = current_app.make_response(view(**kwargs))
        report = response.get_json(silent=True)
        if isinstance(report, dict):
            report["spool_depth"] = spool_for(current_app).depth()
            fresh = jsonify(report)
            fresh.status_code = response.status_code
            return fresh
        return response

    wrapped.spooled = True  # type: ignore[attr-defined]
    return wrapped


def _append(body: bytes, kind: str) -> None:
    entry = {
        "v": 1, "id": uuid.uuid4().hex, "at": time.time(), "kind": kind,
        "method": request.method, "path": request.path,
        "query": request.query_string.decode("latin-1"),
        "headers": {name: request.headers[name] for name in KEPT_HEADERS
                    if name in request.headers},
        "remote_addr": request.remote_addr or "",
        "body": base64.b64encode(body).decode("ascii"),
    }
    vault = current_app.extensions["sawti"].vault
    spool_for(current_app).append(vault.seal(json.dumps(entry).encode("utf-8")))


def _adapter(kind: str) -> Any:
    adapters = current_app.extensions["sawti"].adapters
    if kind == TELEGRAM:
        return adapters.get("telegram")
    if kind in (TWILIO_MESSAGING, TWILIO_STATUS):
        return adapters.get("sms") or adapters.get("whatsapp")
    return adapters.get("voice")


def _verified(kind: str, kwargs: dict[str, Any]) -> bool:
    adapter = _adapter(kind)
    if adapter is None or not adapter.verify(request):
        return False
    token = kwargs.get("token")
    return token is None or adapter.message_id(token) is not None


def _provider_answer(kind: str) -> Response:
    """What the provider expects once the request is safe: 200 and an empty answer (for
    the voice hotline, the usual free ``<Reject/>``; the call-back is queued on replay)."""
    if kind in (TELEGRAM, TWILIO_MESSAGING, VOICE):
        return _adapter(kind).webhook_response(())
    return Response(status=204)


def _refuse() -> Response:
    response = jsonify(error="Forbidden", detail="request could not be verified", status=403)
    response.status_code = 403
    return response


def _unavailable() -> Response:
    response = jsonify(error="Service Unavailable", detail="database unreachable", status=503)
    response.status_code = 503
    return response


def _forget_transaction() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the session is discarded anyway
        log.debug("rollback after a lost connection failed")
    db.session.remove()


# --- the worker side ----------------------------------------------------------------------

@dataclass
class ReplayResult:
    replayed: int = 0
    rejected: int = 0
    waiting: bool = False  # stopped because the database is (still) unreachable


def replay(app: Flask, limit: int = REPLAY_BATCH) -> ReplayResult:
    """Ingest spooled requests in order, through the application; returns what was done."""
    spool = spool_for(app)
    vault = app.extensions["sawti"].vault
    result = ReplayResult()
    client = app.test_client()
    for offset, line in spool.pending():
        if result.replayed + result.rejected >= limit:
            break
        outcome = _replay_one(client, vault, line)
        if outcome == WAIT:  # the database is still away: nothing is wrong with the entry
            result.waiting = True
            break
        if outcome == RETRY and spool.failed_attempt() < MAX_ATTEMPTS:
            result.waiting = True
            break
        if outcome == DONE:
            result.replayed += 1
        else:
            spool.reject(line)
            result.rejected += 1
            log.error("spooled request refused on replay; kept in rejected.spool")
        spool.advance(offset)
    spool.compact()
    if result.replayed or result.rejected:
        log.info("spool replayed", extra={"replayed": result.replayed,
                                          "rejected": result.rejected})
    return result


def _replay_one(client: Any, vault: Any, line: bytes) -> str:
    """DONE, REJECTED (will never be accepted), RETRY (an error) or WAIT (database down)."""
    try:
        entry = json.loads(vault.unseal(line))
        body = base64.b64decode(entry["body"])
    except (AddressDecryptionError, ValueError, KeyError, TypeError):
        return REJECTED
    response = client.open(
        entry["path"], method=entry["method"], query_string=entry["query"] or None,
        headers=entry["headers"], data=body,
        environ_base={"REMOTE_ADDR": entry.get("remote_addr") or "127.0.0.1",
                      REPLAY_FLAG: True})
    status = response.status_code
    response.close()
    if status < 300:
        return DONE
    if status == 503:
        return WAIT
    if status >= 500 or status == 429:
        return RETRY
    return REJECTED


class Replayer:
    """Replays the spool from a thread of ``flask worker`` whenever it has entries."""

    def __init__(self, app: Flask, stop: threading.Event, interval: float = 1.0) -> None:
        self.app, self.stop, self.interval = app, stop, interval
        self.thread = threading.Thread(target=self._run, name="spool-replayer", daemon=True)

    def start(self) -> Replayer:
        self.thread.start()
        return self

    def _run(self) -> None:
        spool = spool_for(self.app)
        while not self.stop.is_set():
            waiting = False
            try:
                if spool.depth():
                    with self.app.app_context():
                        waiting = replay(self.app).waiting
            except Exception:
                log.exception("spool replay failed; retrying")
                waiting = True
            self.stop.wait(self.interval * (5 if waiting else 1))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_suffix(".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    partial.replace(path)
    _fsync_dir(path.parent)
