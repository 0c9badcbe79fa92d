"""A fake Telegram Bot API for python-telegram-bot, plus builders for inbound Update JSON.

Point the real client at it with
``telegram.Bot(token, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot")``.

PTB 22.8 posts every method as ``application/x-www-form-urlencoded`` (httpx ``data=``) where
string parameters are sent raw and everything else JSON-encoded (ints as "123", reply_markup
as a JSON object string); uploads switch to ``multipart/form-data`` with the file in the field
named after the parameter (e.g. ``voice``). The fake also accepts JSON bodies and query
strings, like the real Bot API.
"""

from __future__ import annotations

import itertools
import json
import time
from http import HTTPStatus
from typing import Any

from flask import Response, request

from ._server import FakeServer, json_response

BOT_USER: dict[str, Any] = {
    "id": 1000,
    "is_bot": True,
    "first_name": "Sawti",
    "username": "sawti_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}

ERRORS: dict[int, dict[str, Any]] = {
    400: {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    401: {"ok": False, "error_code": 401, "description": "Unauthorized"},
    403: {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    404: {"ok": False, "error_code": 404, "description": "Not Found"},
    429: {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
          "parameters": {"retry_after": 7}},
    500: {"ok": False, "error_code": 500, "description": "Internal Server Error"},
}

# Parameters that are always strings; every other form value is JSON-decoded when possible.
_STRING_PARAMS = frozenset({
    "text", "caption", "parse_mode", "url", "secret_token", "file_id", "ip_address",
    "business_connection_id", "message_effect_id", "title", "performer", "file_name",
})


def _decode(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegram(FakeServer):
    """Fake Bot API at /bot<token>/<method> and file downloads at /file/bot<token>/<path>."""

    def __init__(self, token: str) -> None:
        super().__init__("fake-telegram")
        self.token = token
        # Telegram numbers the messages of each private chat from 1: ids repeat across chats.
        self._message_ids: dict[str, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self._sent: list[dict[str, Any]] = []
        self._files: dict[str, tuple[bytes, str]] = {}  # file_id -> (content, file_path)
        self.webhook: dict[str, Any] = {}
        self.app.add_url_rule("/bot<token>/<method>", view_func=self._api,
                              methods=["GET", "POST"])
        self.app.add_url_rule("/file/bot<token>/<path:file_path>", view_func=self._download)

    # -- test-facing API ---------------------------------------------------------------------

    def add_file(self, file_id: str, content: bytes, file_path: str) -> None:
        """Make getFile(file_id) and the download URL serve `content`."""
        with self._lock:
            self._files[file_id] = (content, file_path)

    def sent_messages(self) -> list[dict[str, Any]]:
        """Successful sendMessage/sendVoice calls: {"method", "chat_id", "text", ...params}.
        An uploaded voice appears as bytes under "voice"."""
        with self._lock:
            return [dict(m) for m in self._sent]

    def block_next(self, n: int = 1, *, match: str | None = None) -> None:
        self.fail_next(n, 403, match=match)

    def rate_limit_next(self, retry_after: int = 7, n: int = 1, *,
                        match: str | None = None) -> None:
        self.fail_next(n, 429, {
            "ok": False, "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }, match=match)

    def error_next(self, status: int = 500, n: int = 1, *, match: str | None = None) -> None:
        self.fail_next(n, status, match=match)

    def timeout_next(self, seconds: float, n: int = 1, *, match: str | None = None,
                     then_deliver: bool = False) -> None:
        """Stall the next call for `seconds`. By default it then fails (504), so nothing is
        sent; with then_deliver=True it is processed normally (the client has given up, but
        the message went out - the duplicate-send case)."""
        self.fail_next(n, None if then_deliver else 504, delay=seconds, match=match)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._sent.clear()
            self.webhook = {}

    def default_error(self, status: int) -> dict[str, Any]:
        if status in ERRORS:
            return dict(ERRORS[status])
        try:
            description = HTTPStatus(status).phrase
        except ValueError:
            description = "Error"
        return {"ok": False, "error_code": status, "description": description}

    # -- server side -------------------------------------------------------------------------

    def authenticate(self) -> Response | None:
        parts = request.path.split("/")
        token = parts[2] if parts[1] == "file" and len(parts) > 2 else parts[1]
        if token.removeprefix("bot") != self.token:
            return json_response(ERRORS[401], 401)
        return None

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {k: _decode(k, v) for k, v in request.values.items()}
        if request.is_json:
            params.update(request.get_json(silent=True) or {})
        return params

    def _api(self, token: str, method: str) -> Response:
        params = self._params()
        handler = {
            "getme": lambda: BOT_USER,
            "sendmessage": lambda: self._send(method, params),
            "sendvoice": lambda: self._send(method, params),
            "getfile": lambda: self._get_file(params),
            "setwebhook": lambda: self._set_webhook(params),
            "deletewebhook": lambda: self._set_webhook({}),
            "getwebhookinfo": self._webhook_info,
        }.get(method.lower())  # the Bot API treats method names case-insensitively
        if handler is None:
            return json_response(ERRORS[404], 404)
        result = handler()
        if isinstance(result, Response):
            return result
        return json_response({"ok": True, "result": result})

    def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any] | Response:
        if "chat_id" not in params:
            return json_response({"ok": False, "error_code": 400,
                                  "description": "Bad Request: chat_id is empty"}, 400)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids.setdefault(str(params["chat_id"]),
                                                            itertools.count(1))),
            "date": int(time.time()),
            "chat": {"id": params["chat_id"], "type": "private"},
            "from": BOT_USER,
        }
        sent = {"method": method, "text": params.get("text"), **params}
        if method.lower() == "sendmessage":
            if not params.get("text"):
                return json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: message text is empty"}, 400)
            message["text"] = params["text"]
        else:
            message["voice"] = self._voice(params, sent)
            if params.get("caption"):
                message["caption"] = params["caption"]
        with self._lock:
            self._sent.append(sent)
        return message

    def _voice(self, params: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
        upload = request.files.get("voice")
        if upload is not None:
            content = upload.read()
            sent["voice"] = content
            n = next(self._file_ids)
            file_id = f"AwACAgQAAxkDAAI{n:08d}"
            self.add_file(file_id, content, f"voice/file_{n}.oga")
        else:
            file_id = str(params.get("voice", ""))
            with self._lock:
                content = self._files.get(file_id, (b"", ""))[0]
        return {"file_id": file_id, "file_unique_id": f"AgAD{file_id[-8:]}",
                "duration": int(params.get("duration", 1)), "mime_type": "audio/ogg",
                "file_size": len(content)}

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any] | Response:
        file_id = str(params.get("file_id", ""))
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            return json_response({"ok": False, "error_code": 400,
                                  "description": "Bad Request: invalid file_id"}, 400)
        content, file_path = stored
        return {"file_id": file_id, "file_unique_id": f"AgAD{file_id[-8:]}",
                "file_size": len(content), "file_path": file_path}

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook = {k: params.get(k) for k in ("url", "secret_token", "allowed_updates")
                            if params.get(k) is not None}
        return True

    def _webhook_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"url": self.webhook.get("url", ""),
                                "has_custom_certificate": False, "pending_update_count": 0}
        if "allowed_updates" in self.webhook:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _download(self, token: str, file_path: str) -> Response:
        with self._lock:
            found = [c for c, p in self._files.values() if p == file_path]
        if not found:
            return json_response(ERRORS[404], 404)
        return Response(found[0], mimetype="application/octet-stream")


# -- inbound Update builders -----------------------------------------------------------------


def _message(update_id: int, chat_id: int, *, chat_type: str = "private",
             first_name: str = "Ali", user_id: int | None = None,
             message_id: int | None = None, date: int | None = None,
             title: str = "Sawti Group", key: str = "message",
             **content: Any) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = first_name
    else:
        chat["title"] = title
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else update_id,
        "date": date if date is not None else int(time.time()),
        "chat": chat,
    }
    if chat_type != "channel":
        message["from"] = {
            "id": user_id if user_id is not None else (chat_id if chat_type == "private"
                                                       else 424242),
            "is_bot": False, "first_name": first_name, "language_code": "ar",
        }
    message.update(content)
    return {"update_id": update_id, key: message}


def text_update(update_id: int, chat_id: int, text: str, *, chat_type: str = "private",
                first_name: str = "Ali", **kwargs: Any) -> dict[str, Any]:
    """kwargs (all builders): user_id, message_id, date (unix int), title (non-private)."""
    return _message(update_id, chat_id, chat_type=chat_type, first_name=first_name,
                    text=text, **kwargs)


def start_update(update_id: int, chat_id: int, payload: str | None = None,
                 **kwargs: Any) -> dict[str, Any]:
    """"/start" (or "/start <payload>" for deep links) with its bot_command entity."""
    text = "/start" if payload is None else f"/start {payload}"
    return _message(update_id, chat_id, text=text,
                    entities=[{"type": "bot_command", "offset": 0, "length": 6}], **kwargs)


def voice_update(update_id: int, chat_id: int, *, file_id: str = "AwACAgQAAxkBAAIBvoice1",
                 duration: int = 5, file_size: int = 23456, **kwargs: Any) -> dict[str, Any]:
    voice = {"file_id": file_id, "file_unique_id": f"AgAD{file_id[-6:]}",
             "duration": duration, "mime_type": "audio/ogg", "file_size": file_size}
    return _message(update_id, chat_id, voice=voice, **kwargs)


def audio_update(update_id: int, chat_id: int, *, file_id: str = "CQACAgQAAxkBAAIBaudio1",
                 duration: int = 30, mime_type: str = "audio/mpeg",
                 file_name: str = "recording.mp3", file_size: int = 345678,
                 **kwargs: Any) -> dict[str, Any]:
    audio = {"file_id": file_id, "file_unique_id": f"AgAD{file_id[-6:]}",
             "duration": duration, "mime_type": mime_type, "file_name": file_name,
             "file_size": file_size}
    return _message(update_id, chat_id, audio=audio, **kwargs)


def photo_update(update_id: int, chat_id: int, *, file_id: str = "AgACAgQAAxkBAAIBphoto1",
                 caption: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """Three PhotoSize entries, smallest first; the largest carries `file_id`."""
    sizes = [(90, 67, f"{file_id}-s", 1234), (320, 240, f"{file_id}-m", 15678),
             (1280, 960, file_id, 98765)]
    photo = [{"file_id": fid, "file_unique_id": f"AQAD{fid[-6:]}", "width": w, "height": h,
              "file_size": size} for w, h, fid, size in sizes]
    extra = {"caption": caption} if caption is not None else {}
    return _message(update_id, chat_id, photo=photo, **extra, **kwargs)


def document_update(update_id: int, chat_id: int, *, file_id: str = "BQACAgQAAxkBAAIBdoc1",
                    file_name: str = "complaint.pdf", mime_type: str = "application/pdf",
                    file_size: int = 54321, caption: str | None = None,
                    **kwargs: Any) -> dict[str, Any]:
    document = {"file_id": file_id, "file_unique_id": f"AgAD{file_id[-6:]}",
                "file_name": file_name, "mime_type": mime_type, "file_size": file_size}
    extra = {"caption": caption} if caption is not None else {}
    return _message(update_id, chat_id, document=document, **extra, **kwargs)


def location_update(update_id: int, chat_id: int, latitude: float, longitude: float,
                    **kwargs: Any) -> dict[str, Any]:
    return _message(update_id, chat_id,
                    location={"latitude": latitude, "longitude": longitude}, **kwargs)


def edited_text_update(update_id: int, chat_id: int, text: str, *, message_id: int,
                       edit_date: int | None = None, **kwargs: Any) -> dict[str, Any]:
    """An `edited_message`: the original message_id with new text and an edit_date."""
    date = kwargs.pop("date", None) or int(time.time()) - 60
    return _message(update_id, chat_id, key="edited_message", message_id=message_id,
                    date=date, text=text,
                    edit_date=edit_date if edit_date is not None else date + 30, **kwargs)


def channel_post_update(update_id: int, chat_id: int, text: str, *,
                        title: str = "Sawti Channel", **kwargs: Any) -> dict[str, Any]:
    """A `channel_post` (no `from`; chat type "channel"; chat ids are like -100...)."""
    return _message(update_id, chat_id, key="channel_post", chat_type="channel", title=title,
                    text=text, **kwargs)


def group_text_update(update_id: int, chat_id: int, text: str, *, supergroup: bool = False,
                      title: str = "Sawti Group", **kwargs: Any) -> dict[str, Any]:
    return _message(update_id, chat_id, chat_type="supergroup" if supergroup else "group",
                    title=title, text=text, **kwargs)
