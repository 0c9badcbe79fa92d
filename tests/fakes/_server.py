"""Shared machinery for the fake provider servers: a threaded Flask app on 127.0.0.1, request
recording and failure injection. The provider-specific parts live in telegram_api / twilio_api."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


@dataclass(frozen=True)
class Recorded:
    """One request as the fake saw it (before auth checks and failure injection)."""

    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, Any]  # form + query values; a repeated key becomes a list of str
    json: dict[str, Any] | None
    body: bytes
    auth: tuple[str, str] | None
    files: dict[str, bytes] = field(default_factory=dict)  # multipart uploads by field name


@dataclass
class _Failure:
    remaining: int
    status: int | None  # None: sleep `delay`, then answer normally
    body_json: dict[str, Any] | None
    delay: float
    match: str | None
    method: str | None

    def applies_to(self, method: str, path: str) -> bool:
        return (self.match is None or self.match in path) and (
            self.method is None or self.method.upper() == method
        )


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    mimetype="application/json")


class FakeServer:
    """Base class: subclasses register routes on `self.app` and implement `default_error`."""

    def __init__(self, name: str) -> None:
        self.app = Flask(name)
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._failures: list[_Failure] = []
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app.before_request(self._before_request)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                   request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"{type(self).__name__}-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in an injected delay
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- recording ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot (copy) of everything received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, match: str, method: str | None = None) -> list[Recorded]:
        """Recorded requests whose path contains `match` (and with that HTTP method)."""
        return [r for r in self.requests
                if match in r.path and (method is None or r.method == method.upper())]

    def reset(self) -> None:
        """Forget recorded requests and pending failures (subclasses also clear their state)."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()

    # -- failure injection -------------------------------------------------------------------

    def fail_next(self, n: int, status: int | None, body_json: dict[str, Any] | None = None,
                  delay: float = 0.0, *, match: str | None = None,
                  method: str | None = None) -> None:
        """Make the next `n` matching calls sleep `delay` seconds, then answer `status` with
        `body_json` (default: the provider's usual error body for that status). With
        status=None the call is answered normally after the delay. `match` is a substring of
        the path; `method` an HTTP method. Rules are consulted in the order they were added."""
        with self._lock:
            self._failures.append(_Failure(n, status, body_json, delay, match, method))

    def default_error(self, status: int) -> dict[str, Any]:
        raise NotImplementedError

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.applies_to(method, path):
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    return failure
        return None

    def _before_request(self) -> Response | None:
        body = request.get_data(cache=True)  # read first: form parsing reuses the cached body
        form: dict[str, Any] = {}
        for key in request.values:
            values = request.values.getlist(key)
            form[key] = values[0] if len(values) == 1 else values
        auth = request.authorization
        self._record(Recorded(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            form=form,
            json=request.get_json(silent=True) if request.is_json else None,
            body=body,
            auth=(auth.username or "", auth.password or "") if auth and auth.type == "basic"
            else None,
            files={name: f.read() for name, f in request.files.items()},
        ))
        for f in request.files.values():
            f.stream.seek(0)
        rejection = self.authenticate()
        if rejection is not None:
            return rejection
        failure = self._take_failure(request.method, request.path)
        if failure is None:
            return None
        if failure.delay and self._stopping.wait(failure.delay):
            return json_response(self.default_error(503), 503)  # server stopping
        if failure.status is None:
            return None
        return json_response(failure.body_json or self.default_error(failure.status),
                             failure.status)

    def authenticate(self) -> Response | None:
        """Return an error response to reject the current request (checked before failures)."""
        return None

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self._requests.append(recorded)
