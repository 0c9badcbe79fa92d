"""A fake Twilio REST API for the real twilio.rest.Client, plus inbound webhook form builders.

The client must be pointed at the fake by an HTTP client that swaps scheme+host of each URL
for ``fake.url`` and keeps the path (see RedirectingClient in test_fakes.py). twilio 9.13
sends create() parameters as ``application/x-www-form-urlencoded`` with HTTP Basic auth
(account_sid, auth_token); list parameters such as MediaUrl repeat the key.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from flask import Response, request
from twilio.request_validator import RequestValidator

from ._server import FakeServer, json_response

API_HOST = "https://api.twilio.com"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
_API = "/2010-04-01/Accounts/<account_sid>"


def twilio_error(code: int, message: str, status: int) -> dict[str, Any]:
    """Twilio's (legacy, non RFC-9457) error body, which TwilioRestException is built from."""
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


INVALID_TO = twilio_error(21211, "The 'To' number is not a valid phone number.", 400)
UNSUBSCRIBED = twilio_error(21610, "Attempt to send to unsubscribed recipient", 400)
OUTSIDE_WINDOW = twilio_error(
    63016, "Failed to send freeform message because you are outside the allowed window. "
    "If you are using WhatsApp, please use a Message Template.", 400)
UNAUTHENTICATED = twilio_error(20003, "Authenticate", 401)
RATE_LIMITED = twilio_error(20429, "Too Many Requests", 429)
_DEFAULT_ERRORS = {400: INVALID_TO, 401: UNAUTHENTICATED, 429: RATE_LIMITED,
                   500: twilio_error(20500, "An internal server error has occurred", 500)}


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: two-letter prefix (SM, MM, CA, ME, RE, ...) + 32 hex digits."""
    return prefix + uuid.uuid4().hex


def _now() -> str:
    return format_datetime(datetime.now(UTC))  # RFC 2822, e.g. "Mon, 06 Jan 2025 10:00:00 +0000"


class FakeTwilio(FakeServer):
    """Fake Messages.json / Calls.json / Media / Recordings endpoints with Basic auth."""

    def __init__(self, account_sid: str = DEFAULT_ACCOUNT_SID,
                 auth_token: str = "test-auth-token") -> None:
        super().__init__("fake-twilio")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._messages: list[dict[str, Any]] = []
        self._calls: list[dict[str, Any]] = []
        self._media: dict[str, tuple[bytes, str]] = {}  # path -> (content, content type)
        # Called with the new message's SID before the API answers: a test reports on the
        # message the way Twilio may, before the sender has even read the response.
        self.before_answering: Callable[[str], None] | None = None
        for rule, view, methods in [
            (f"{_API}/Messages.json", self._create_message, ["POST"]),
            (f"{_API}/Calls.json", self._create_call, ["POST"]),
            (f"{_API}/Messages/<message_sid>/Media/<media_sid>", self._get_media, ["GET"]),
            (f"{_API}/Recordings/<recording>", self._get_recording, ["GET"]),
        ]:
            self.app.add_url_rule(rule, view_func=view, methods=methods)

    # -- test-facing API ---------------------------------------------------------------------

    def sent_messages(self) -> list[dict[str, Any]]:
        """Form fields of each successful Messages.json POST (MediaUrl always a list)."""
        with self._lock:
            return [dict(m) for m in self._messages]

    def placed_calls(self) -> list[dict[str, Any]]:
        """Form fields of each successful Calls.json POST."""
        with self._lock:
            return [dict(c) for c in self._calls]

    def add_media(self, message_sid: str, media_sid: str, content: bytes,
                  content_type: str) -> str:
        """Serve `content`; returns the MediaUrl as Twilio gives it (on api.twilio.com)."""
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"
        with self._lock:
            self._media[path] = (content, content_type)
        return API_HOST + path

    def add_recording(self, recording_sid: str, content: bytes,
                      content_type: str = "audio/wav") -> str:
        """Serve `content` at the RecordingUrl (also with .wav/.mp3); returns that URL."""
        path = f"/2010-04-01/Accounts/{self.account_sid}/Recordings/{recording_sid}"
        with self._lock:
            self._media[path] = (content, content_type)
        return API_HOST + path

    def local(self, url: str) -> str:
        """Map a https://api.twilio.com/... URL onto this fake (same path and query)."""
        parts = urlsplit(url)
        return self.url + parts.path + (f"?{parts.query}" if parts.query else "")

    def invalid_number_next(self, n: int = 1) -> None:
        self.fail_next(n, 400, INVALID_TO, match="/Messages.json")

    def unsubscribed_next(self, n: int = 1) -> None:
        self.fail_next(n, 400, UNSUBSCRIBED, match="/Messages.json")

    def outside_window_next(self, n: int = 1) -> None:
        self.fail_next(n, 400, OUTSIDE_WINDOW, match="/Messages.json")

    def rate_limit_next(self, n: int = 1, *, match: str | None = None) -> None:
        self.fail_next(n, 429, RATE_LIMITED, match=match)

    def error_next(self, status: int = 500, n: int = 1, *, match: str | None = None) -> None:
        self.fail_next(n, status, match=match)

    def timeout_next(self, seconds: float, n: int = 1, *, match: str | None = None,
                     then_deliver: bool = False) -> None:
        """Stall the next call; then 504 (nothing sent) or, with then_deliver, process it."""
        self.fail_next(n, None if then_deliver else 504, delay=seconds, match=match)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._messages.clear()
            self._calls.clear()
            self.before_answering = None

    def default_error(self, status: int) -> dict[str, Any]:
        if status in _DEFAULT_ERRORS:
            return _DEFAULT_ERRORS[status]
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = "Error"
        return twilio_error(20000 + status, message, status)

    # -- server side -------------------------------------------------------------------------

    def authenticate(self) -> Response | None:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.account_sid, self.auth_token):
            return json_response(UNAUTHENTICATED, 401)
        return None

    def _not_found(self) -> Response:
        return json_response(twilio_error(
            20404, f"The requested resource {request.path} was not found", 404), 404)

    def _fields(self) -> dict[str, Any]:
        """The posted form; a repeated key (StatusCallbackEvent) becomes a list of str, and
        MediaUrl is always a list."""
        fields: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in request.form.lists()}
        if "MediaUrl" in fields:
            fields["MediaUrl"] = request.form.getlist("MediaUrl")
        return fields

    def _create_message(self, account_sid: str) -> Response:
        if account_sid != self.account_sid:
            return self._not_found()
        fields = self._fields()
        if not fields.get("To"):
            return json_response(twilio_error(21604, "A 'To' phone number is required.", 400),
                                 400)
        if not fields.get("From") and not fields.get("MessagingServiceSid"):
            return json_response(twilio_error(21603, "A 'From' phone number is required.",
                                              400), 400)
        if not (fields.get("Body") or fields.get("MediaUrl") or fields.get("ContentSid")):
            return json_response(twilio_error(21602, "Message body is required.", 400), 400)
        sid, now = new_sid("SM"), _now()
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
        resource = {
            "account_sid": account_sid, "api_version": "2010-04-01",
            "body": fields.get("Body", ""), "date_created": now, "date_updated": now,
            "date_sent": None, "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": fields.get("From"),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "num_media": str(len(fields.get("MediaUrl", []))), "num_segments": "1",
            "price": None, "price_unit": "USD", "sid": sid, "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"}, "to": fields["To"],
            "uri": f"{uri}.json",
        }
        with self._lock:
            self._messages.append(fields)
            hook = self.before_answering
        if hook is not None:
            hook(sid)
        return json_response(resource, 201)

    def _create_call(self, account_sid: str) -> Response:
        if account_sid != self.account_sid:
            return self._not_found()
        fields = self._fields()
        if not fields.get("To"):
            return json_response(twilio_error(21201, "No 'To' number is specified", 400), 400)
        if not fields.get("From"):
            return json_response(twilio_error(21213, "No 'From' number is specified", 400), 400)
        if not (fields.get("Url") or fields.get("Twiml") or fields.get("ApplicationSid")):
            return json_response(twilio_error(21205, "Url parameter is required.", 400), 400)
        sid, now = new_sid("CA"), _now()
        uri = f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}"
        resource = {
            "account_sid": account_sid, "annotation": None, "answered_by": None,
            "api_version": "2010-04-01", "caller_name": None, "date_created": now,
            "date_updated": now, "direction": "outbound-api", "duration": None,
            "end_time": None, "forwarded_from": None, "from": fields["From"],
            "from_formatted": fields["From"], "group_sid": None, "parent_call_sid": None,
            "phone_number_sid": None, "price": None, "price_unit": "USD", "queue_time": "0",
            "sid": sid, "start_time": None, "status": "queued",
            "subresource_uris": {"recordings": f"{uri}/Recordings.json"},
            "to": fields["To"], "to_formatted": fields["To"], "trunk_sid": None,
            "uri": f"{uri}.json",
        }
        with self._lock:
            self._calls.append(fields)
        return json_response(resource, 201)

    def _serve(self, path: str) -> Response:
        with self._lock:
            stored = self._media.get(path)
        if stored is None:
            return self._not_found()
        content, content_type = stored
        return Response(content, mimetype=content_type)

    def _get_media(self, account_sid: str, message_sid: str, media_sid: str) -> Response:
        return self._serve(request.path)

    def _get_recording(self, account_sid: str, recording: str) -> Response:
        path = request.path
        for suffix in (".wav", ".mp3"):
            path = path.removesuffix(suffix)
        return self._serve(path)


# -- inbound webhook builders ----------------------------------------------------------------


def signed_form(url: str, params: dict[str, str], auth_token: str) -> tuple[dict[str, str], str]:
    """(params, X-Twilio-Signature value) for a POST of `params` to the public `url`."""
    return params, RequestValidator(auth_token).compute_signature(url, params)


def _whatsapp_type(content_type: str) -> str:
    kind = content_type.split("/")[0]
    return kind if kind in ("image", "audio", "video") else "document"


def messaging_form(*, whatsapp: bool = False, media: list[tuple[str, str]] | None = None,
                   account_sid: str = DEFAULT_ACCOUNT_SID,
                   **overrides: str | None) -> dict[str, str]:
    """An inbound SMS (or WhatsApp) webhook form. `media` is [(url, content_type), ...];
    `overrides` replace fields by their Twilio names (Body="...", From="..."); None drops one."""
    media = media or []
    sid = new_sid("MM" if media else "SM")
    sender = "+963944000111"
    form: dict[str, str] = {
        "ToCountry": "US", "ToState": "", "SmsMessageSid": sid, "NumMedia": str(len(media)),
        "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
        "FromCity": "", "Body": "مرحبا، عندي شكوى", "FromCountry": "SY", "To": "+15005550006",
        "ToZip": "", "NumSegments": "1", "MessageSid": sid, "AccountSid": account_sid,
        "From": sender, "ApiVersion": "2010-04-01",
    }
    if whatsapp:
        for key in ("ToCountry", "ToState", "ToCity", "FromZip", "FromState", "FromCity",
                    "FromCountry", "ToZip"):
            del form[key]
        form.update({"From": f"whatsapp:{sender}", "To": "whatsapp:+14155238886",
                     "ProfileName": "Ali", "WaId": sender.removeprefix("+"),
                     "MessageType": _whatsapp_type(media[0][1]) if media else "text"})
    for i, (url, content_type) in enumerate(media):
        form[f"MediaUrl{i}"] = url
        form[f"MediaContentType{i}"] = content_type
    for key, value in overrides.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    return form


def status_form(message_sid: str, status: str, error_code: int | str | None = None, *,
                to: str = "+963944000111", from_: str = "+15005550006",
                account_sid: str = DEFAULT_ACCOUNT_SID, **overrides: str) -> dict[str, str]:
    """A message status callback (queued/sent/delivered/undelivered/failed/read ...)."""
    form = {"MessageSid": message_sid, "SmsSid": message_sid, "MessageStatus": status,
            "SmsStatus": status, "To": to, "From": from_, "AccountSid": account_sid,
            "ApiVersion": "2010-04-01"}
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    form.update(overrides)
    return form


# -- messaging additions: WhatsApp locations, delivery failures ------------------------------


def whatsapp_location_form(latitude: str, longitude: str, *, address: str | None = None,
                           label: str | None = None, **overrides: str | None) -> dict[str, str]:
    """An inbound WhatsApp location pin as Twilio posts it: MessageType=location, an empty
    Body, Latitude/Longitude as decimal strings, Address and Label when a place was picked."""
    form = messaging_form(whatsapp=True, Body="", MessageType="location",
                          Latitude=latitude, Longitude=longitude, Address=address,
                          Label=label)
    form.update({key: value for key, value in overrides.items() if value is not None})
    for key in [key for key, value in overrides.items() if value is None]:
        form.pop(key, None)
    return form


QUEUE_FULL = twilio_error(
    21611, "This 'From' number has exceeded the maximum number of queued messages", 400)
OUTSIDE_REGION = twilio_error(
    21408, "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number", 400)


def refuse_next_message(fake: FakeTwilio, error: dict[str, Any]) -> None:
    """The next Messages.json create answers Twilio's error body (with its HTTP status)."""
    fake.fail_next(1, int(error["status"]), error, match="/Messages.json")


# -- voice additions: answering machine detection --------------------------------------------

# What Twilio's synchronous answering machine detection reports, per MachineDetection mode, for
# who (or what) picked up: "human", "machine" (voicemail, a network's recorded message), "fax",
# or "unknown" (it could not tell, e.g. a person who says nothing).
AMD_VERDICTS = {
    "Enable": {"human": "human", "machine": "machine_start", "fax": "fax",
               "unknown": "unknown"},
    "DetectMessageEnd": {"human": "human", "machine": "machine_end_beep", "fax": "fax",
                         "unknown": "unknown"},
}


def answered_by(placed: dict[str, Any], who: str = "human") -> dict[str, str]:
    """The fields Twilio adds to the first request of a call's Url when `who` picks up: with
    MachineDetection (and AsyncAmd off), Twilio waits for the verdict and sends AnsweredBy;
    without detection, or with AsyncAmd (the verdict goes to AsyncAmdStatusCallback), none."""
    mode = placed.get("MachineDetection")
    if mode not in AMD_VERDICTS or placed.get("AsyncAmd") == "true":
        return {}
    return {"AnsweredBy": AMD_VERDICTS[mode][who], "MachineDetectionDuration": "2350"}
