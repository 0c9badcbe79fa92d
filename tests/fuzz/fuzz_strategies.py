"""Hypothesis strategies for what providers and people send: text, Telegram updates, Twilio
forms and voice callbacks — mostly well-formed with hostile values, sometimes garbage."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from casework.references import damm_check_digit

WORDS = [
    "لم", "أستلم", "السلة", "الغذائية", "حالة", "رقم", "توقف", "الغاء", "إلغاء", "STOP", "stop",
    "status", "نعم", "لا", "1", "2", "3", "9", "٣", "۴", "/start", "/link", "/link 12345678",
    "تحرش", "رشوة", "حريق", "salam", "ana", "ma", "wsletni", "hello", "😢", "🙏", "\u200f",
    "\u202e", "\x00", "\r\n", "ـــ", "إدلب", "حلب", "Idlib", "0", "00963944000111",
    "سڵاو", "سوپاس", "بەڵێ", "نەخێر", "بوەستە", "دۆخی", "سکاڵاکەم", "\u200c", "گاع", "چا",
]
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@st.composite
def references(draw: st.DrawFn) -> str:
    """A valid reference, sometimes in Arabic-Indic digits, sometimes split or mistyped."""
    body = draw(st.text("0123456789", min_size=6, max_size=6))
    reference = body + str(damm_check_digit(body))
    if draw(st.booleans()):
        position = draw(st.integers(0, 6))
        digit = draw(st.sampled_from("0123456789"))
        reference = reference[:position] + digit + reference[position + 1:]
    if draw(st.booleans()):
        reference = reference.translate(ARABIC_DIGITS)
    if draw(st.booleans()):
        reference = f"{reference[:3]} {reference[3:]}"
    return reference


texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(WORDS), references()), max_size=8).map(" ".join),
    st.text(st.characters(codec="utf-8", categories=["Lo", "Mn", "Nd", "Zs", "Cf", "So"]),
            max_size=120),
    st.just(""),
    st.integers(0, 5000).map(lambda n: "ا" * n),
)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.text(max_size=40))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                      children, max_size=4),
    max_leaves=12)


def _maybe(draw: st.DrawFn, value: Any, garbage: st.SearchStrategy[Any] = json_scalars) -> Any:
    """Usually the value, sometimes something of the wrong type."""
    return draw(garbage) if draw(st.integers(0, 9)) == 0 else value


@st.composite
def telegram_updates(draw: st.DrawFn) -> dict[str, Any]:
    chat_id = draw(st.one_of(st.integers(1, 10**10), st.integers(-10**13, 10**13)))
    chat_type = draw(st.sampled_from(["private", "private", "private", "group", "supergroup",
                                      "channel", "weird"]))
    message: dict[str, Any] = {
        "message_id": _maybe(draw, draw(st.integers(0, 2**31))),
        "date": _maybe(draw, draw(st.integers(0, 2**33))),
        "chat": _maybe(draw, {"id": chat_id, "type": chat_type, "first_name": "Ali"},
                       json_values),
        "from": {"id": chat_id, "is_bot": draw(st.booleans()), "first_name": "Ali"},
    }
    content = draw(st.lists(st.sampled_from(
        ["text", "caption", "voice", "audio", "photo", "document", "location", "sticker",
         "entities"]), max_size=3, unique=True))
    for kind in content:
        message[kind] = _maybe(draw, draw(_content(kind)), json_values)
    for key in draw(st.lists(st.sampled_from(list(message)), max_size=2, unique=True)):
        if draw(st.integers(0, 4)) == 0:
            del message[key]
    key = draw(st.sampled_from(["message", "message", "message", "edited_message",
                                "channel_post", "callback_query", "my_chat_member"]))
    if key == "edited_message":
        message["edit_date"] = draw(st.integers(0, 2**33))
    update_id = draw(st.one_of(st.integers(1, 10**6), st.integers(-2**63, 2**63)))
    return {"update_id": _maybe(draw, update_id), key: message}


def _content(kind: str) -> st.SearchStrategy[Any]:
    file = st.fixed_dictionaries({
        "file_id": st.text(min_size=1, max_size=80), "file_unique_id": st.text(max_size=20),
        "file_size": st.integers(-1, 2**40)},
        optional={"mime_type": st.text(max_size=40), "duration": st.integers(-1, 10**6)})
    return {
        "text": texts, "caption": texts, "voice": file, "audio": file, "document": file,
        "sticker": file,
        "photo": st.lists(file.map(lambda f: f | {"width": 90, "height": 60}), max_size=3),
        "location": st.fixed_dictionaries({"latitude": st.floats(allow_nan=False),
                                           "longitude": st.floats(allow_nan=False)}),
        "entities": st.lists(st.fixed_dictionaries({
            "type": st.sampled_from(["bot_command", "url", "bold"]),
            "offset": st.integers(-5, 50), "length": st.integers(-5, 50)}), max_size=2),
    }[kind]


SENDERS = ["+963944000111", "+963955000222", "whatsapp:+963944000111", "whatsapp:+15550001",
           "anonymous", "", "client:alice", "+1", "+963 944-000-111"]
form_values = st.one_of(st.text(max_size=60), st.sampled_from(SENDERS))


@st.composite
def twilio_messaging_forms(draw: st.DrawFn) -> dict[str, str]:
    form = {"MessageSid": draw(st.one_of(st.text(max_size=40), st.just("SM" + "a" * 32))),
            "AccountSid": "AC" + "0" * 32, "From": draw(st.sampled_from(SENDERS)),
            "To": draw(st.sampled_from(["+15005550006", "whatsapp:+14155238886"])),
            "Body": draw(texts), "NumMedia": draw(st.one_of(
                st.sampled_from(["0", "1", "2", "10", "11", "-1", "x", "٣", ""]),
                st.text(max_size=5)))}
    for index in range(draw(st.integers(0, 3))):
        form[f"MediaUrl{index}"] = draw(st.one_of(
            st.just(f"https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME{index}"),
            st.text(max_size=60)))
        form[f"MediaContentType{index}"] = draw(st.one_of(
            st.sampled_from(["audio/ogg", "image/jpeg", "application/pdf", "video/mp4", ""]),
            st.text(max_size=30)))
    return _drop_some(draw, form | draw(_extra_fields()))


STATUSES = ["accepted", "queued", "sending", "sent", "delivered", "read", "undelivered",
            "failed", "canceled", "receiving", "", "DELIVERED"]


@st.composite
def twilio_status_forms(draw: st.DrawFn, sids: list[str] | None = None) -> dict[str, str]:
    # The same draws whatever ``sids`` holds (it comes from the database): hypothesis refuses a
    # strategy whose draws change with outside state (FlakyStrategyDefinition).
    use_sent, index, other = (draw(st.booleans()), draw(st.integers(0, 15)),
                              draw(st.text(max_size=40)))
    sid = sids[index % len(sids)] if sids and use_sent else other
    form = {"MessageSid": sid, "MessageStatus": draw(st.one_of(st.sampled_from(STATUSES),
                                                               st.text(max_size=12))),
            "ErrorCode": draw(st.one_of(st.sampled_from(["", "21610", "63016", "30003"]),
                                        st.text(max_size=8)))}
    return _drop_some(draw, form | draw(_extra_fields()))


@st.composite
def voice_hotline_forms(draw: st.DrawFn) -> dict[str, str]:
    form = {"CallSid": draw(st.one_of(st.text(max_size=40), st.just("CA" + "b" * 32))),
            "From": draw(st.one_of(st.sampled_from(SENDERS), st.text(max_size=20))),
            "To": "+15005550007", "CallStatus": draw(st.sampled_from(["ringing", "", "x"])),
            "Direction": "inbound"}
    return _drop_some(draw, form | draw(_extra_fields()))


VOICE_STEPS = ["answer", "menu", "reference", "recorded", "recording", "status", "reply"]
CALL_STATUSES = ["queued", "initiated", "ringing", "in-progress", "answered", "completed",
                 "busy", "no-answer", "failed", "canceled", "teleported", ""]


@st.composite
def voice_step_forms(draw: st.DrawFn) -> dict[str, str]:
    form = {
        "CallSid": draw(st.one_of(st.just("CA" + "c" * 32), st.text(max_size=40))),
        "Digits": draw(st.one_of(st.sampled_from(["1", "2", "3", "9", "#", "", "٢"]),
                                 references(), st.text(max_size=12))),
        "CallStatus": draw(st.sampled_from(CALL_STATUSES)),
        "CallDuration": draw(st.one_of(st.just("41"), st.text(max_size=6))),
        "RecordingSid": draw(st.one_of(st.just("RE" + "d" * 32), st.text(max_size=40))),
        "RecordingUrl": draw(st.one_of(
            st.just("https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1"),
            st.just("http://evil.example/recording"), st.text(max_size=60))),
        "RecordingStatus": draw(st.sampled_from(["completed", "failed", "absent", "", "x"])),
        "RecordingDuration": draw(st.one_of(st.just("12"), st.just("0"), st.text(max_size=5))),
        "ErrorCode": draw(st.text(max_size=6)),
    }
    return _drop_some(draw, form)


@st.composite
def simulator_bodies(draw: st.DrawFn) -> Any:
    well_formed = {"tab": draw(st.one_of(st.just("tab-00000001"), st.text(max_size=70))),
                   "id": draw(st.one_of(st.text(max_size=70), st.just("m-1"))),
                   "text": draw(st.one_of(texts, json_values))}
    return draw(st.one_of(st.just(well_formed), json_values))


def _extra_fields() -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=20), max_size=2)


def _drop_some(draw: st.DrawFn, form: dict[str, str]) -> dict[str, str]:
    for key in draw(st.lists(st.sampled_from(sorted(form)), max_size=2, unique=True)):
        if draw(st.integers(0, 3)) == 0:
            del form[key]
    return form
