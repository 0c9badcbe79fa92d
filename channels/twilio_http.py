"""Twilio plumbing shared by the messaging and voice adapters: a REST client that can be
pointed at a local fake (``TWILIO_API_URL``), signature checks, and error typing."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import requests
from flask import Request
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.base import (
    Download,
    PermanentSendError,
    RetryableSendError,
    SendError,
    WindowClosedError,
)

TIMEOUT_SECONDS = 15
OPT_OUT_CODES = {21610}  # the recipient replied STOP to this number
WINDOW_CLOSED_CODES = {63016}  # WhatsApp: outside the 24-hour window, template required
# Failures a status callback reports that the same message sent again later may get past:
# the handset off or out of coverage (30003), Twilio's queue or the validity period ran out
# (30001, 30036), no reason given (30008), WhatsApp's rate limit (63018). Every other code
# is final: blocked (30004), no such or inactive number (30005), a landline (30006),
# filtered as spam (30007), not on WhatsApp (63024), unsubscribed (21610).
RETRYABLE_DELIVERY_CODES = {30001, 30003, 30008, 30036, 63018}
# Refusals of a send that pass with time: the sender's queue is full (21611), WhatsApp's rate
# limit (63018); as are 429 and 5xx answers.
RETRYABLE_SEND_CODES = {21611, 63018}


class RebasedHttpClient(TwilioHttpClient):
    """Sends every request to ``base_url`` instead of Twilio's hosts, path unchanged."""

    def __init__(self, base_url: str | None, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.base = urlsplit(base_url) if base_url else None

    def request(self, method: str, url: str, *args: object, **kwargs: object) -> TwilioResponse:
        return super().request(method, rebase(url, self.base), *args, **kwargs)


def rebase(url: str, base: object) -> str:
    if base is None:
        return url
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))  # type: ignore[attr-defined]


def make_client(account_sid: str, auth_token: str, api_url: str | None,
                timeout: float = TIMEOUT_SECONDS) -> Client:
    return Client(account_sid, auth_token, http_client=RebasedHttpClient(api_url, timeout))


def signature_is_valid(request: Request, auth_token: str, public_url: str | None) -> bool:
    """Check X-Twilio-Signature against the public URL Twilio called (behind any proxy)."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not public_url:
        return False
    url = public_url.rstrip("/") + request.path
    if request.query_string:  # only then: Twilio signs no trailing "?"
        url += "?" + request.query_string.decode("latin-1")
    # The form itself, not a dict of it: Twilio signs every value of a repeated key.
    return RequestValidator(auth_token).validate(url, request.form, signature)


def typed_error(error: Exception) -> SendError:
    """Map a Twilio or network failure to retryable or permanent."""
    if isinstance(error, TwilioRestException):
        reason = f"twilio {error.status} code {error.code}"
        if error.code in OPT_OUT_CODES:
            return PermanentSendError(reason, opt_out=True)
        if error.code in WINDOW_CLOSED_CODES:
            return WindowClosedError(reason)
        if error.status == 429 or error.status >= 500 or error.code in RETRYABLE_SEND_CODES:
            return RetryableSendError(reason)
        return PermanentSendError(reason)
    if isinstance(error, requests.RequestException):
        return RetryableSendError(f"network error: {type(error).__name__}")
    return RetryableSendError(f"unexpected error: {type(error).__name__}")


def download(url: str, account_sid: str, auth_token: str, api_url: str | None,
             max_bytes: int, timeout: float = TIMEOUT_SECONDS) -> tuple[bytes, str | None]:
    """Fetch a media file or recording with the account's credentials, size-capped."""
    target = rebase(url, urlsplit(api_url) if api_url else None)
    try:
        with requests.get(target, auth=(account_sid, auth_token), timeout=timeout,
                          stream=True) as response:
            if response.status_code >= 400:  # even 404: a recording may not be ready yet
                raise RetryableSendError(f"media download failed ({response.status_code})")
            content = b""
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) > max_bytes:
                    raise PermanentSendError(f"media larger than {max_bytes} bytes")
            return content, response.headers.get("Content-Type")
    except requests.RequestException as error:
        raise RetryableSendError(f"network error: {type(error).__name__}") from error


class TwilioAccount:
    """What both Twilio adapters share: authenticated media downloads and closing the client.

    The adapter sets ``account_sid``, ``auth_token``, ``api_url``, ``timeout`` and ``_client``.
    """

    account_sid: str
    auth_token: str
    api_url: str | None
    timeout: float
    _client: Client

    def download(self, channel: str, external_id: str, max_bytes: int) -> Download:
        content, content_type = download(external_id, self.account_sid, self.auth_token,
                                         self.api_url, max_bytes, self.timeout)
        return Download(content, content_type)

    def close(self) -> None:
        session = self._client.http_client.session  # type: ignore[attr-defined]
        if session is not None:
            session.close()
