"""Dialogue handlers: each turns one classified message into replies and state changes.

``step`` classifies the message, looks the transition up in ``bot.states`` and runs it.
Handlers only change the session's objects; the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.language import SUPPORTED as LANGUAGES
from bot.messages import Speaker
from bot.states import QUESTIONS, SURVEY_STATES, Event, Next, State, transition_for
from casework import audit, deadlines, faq, info, intake, notifications, survey, triage
from casework.models import (
    Case,
    CaseStatus,
    Contact,
    Direction,
    InfoAnswer,
    InfoEntry,
    Message,
)
from casework.references import ReferenceCheck, asks_about_status, find_reference_query
from casework.text import has_words, normalize_for_matching
from casework.triage import Lexicon
from config.data import Location, OrgData

if TYPE_CHECKING:
    from bot.sessions import DialogueSession, RedisSessions


def _keys(*words: str) -> frozenset[str]:
    return frozenset(normalize_for_matching(word) for word in words)


OPT_OUT_WORDS = _keys("stop", "توقف", "الغاء", "إلغاء", "unsubscribe", "الغاء الاشتراك",
                      "إلغاء الاشتراك", "ايقاف", "إيقاف", "ايقاف الرسائل", "وقف الرسائل",
                      "stop messages",
                      # Kurdish: stop!, stopping, cancel (the subscription)
                      "بوەستە", "ڕاگرتن", "وەستان", "هەڵوەشاندنەوە")
START_WORDS = {"/start", "start"}
# Yes and no as people in Syria and Iraq write them: MSA, dialect («ايه», «إي», «ما بدي»),
# Arabizi, English and Kurdish («بەڵێ», «نەخێر»).
YES_WORDS = _keys("1", "نعم", "ايوه", "أيوه", "ايوا", "أيوا", "اي", "إي", "ايه", "إيه", "اكيد",
                  "أكيد", "طبعا", "موافق", "موافقة", "تمام", "اوكي", "yes", "y", "ok", "okay",
                  "yeah", "yep", "sure", "aywa", "eh", "ee", "na3am", "akid", "tamam",
                  "بەڵێ", "بەلێ", "بەلی", "بەڵی", "ئەرێ", "باشە", "بێگومان")
NO_WORDS = _keys("2", "لا", "لاء", "لأ", "كلا", "لا شكرا", "مو موافق", "مش موافق", "غير موافق",
                 "ما بدي", "مابدي", "لا ما بدي", "ما اريد", "لا اريد", "ما ابي", "no", "n",
                 "nope", "no thanks", "la", "la2", "laa",
                 "نەخێر", "نەخیر", "نا", "نامەوێت", "نامەوێ", "نەخێر سوپاس", "نا سوپاس")
# A message of these words alone (and no other) is a greeting or thanks, not a complaint: with
# no open case it is answered in kind and opens none. Filler words count only beside them.
GREETING_WORDS = _keys("مرحبا", "مرحبتين", "مراحب", "اهلا", "اهلين", "هلا", "هلو", "هاي", "السلام",
                       "سلام", "عليكم", "وعليكم", "عليكن", "ورحمة", "وبركاته", "صباح", "مساء",
                       "الخير", "النور", "hi", "hello", "hey", "salam", "salaam", "marhaba",
                       "ahlan", "hala", "good", "morning", "evening", "alaykum", "alaikum",
                       "3alaykum", "3alaikum", "3likom", "3lykom", "3aleikum",
                       "سڵاو", "سلاو", "سلاڤ", "بەخێربێن", "ڕۆژباش", "ئێوارەباش", "بەیانیباش")
THANKS_WORDS = _keys("شكرا", "مشكور", "مشكورين", "مشكورة", "يعطيكم", "يعطيك", "العافية",
                     "تسلم", "تسلمو", "تسلموا", "يسلمو", "يسلموا", "ممنون", "ممنونين",
                     "جزاكم", "يجزيكم", "تمام", "طيب", "حسنا", "thanks", "thank", "thx",
                     "shukran", "shokran", "ok", "okay", "مرسي", "merci",
                     "سوپاس", "سپاس", "دەستتان", "دەستت", "بژین", "بژی")
COURTESY_FILLER = _keys("الله", "خير", "خيرا", "جزيلا", "كتير", "كثيرا", "جدا", "لكم", "الكم",
                        "الك", "لك", "الكن", "يا", "اخي", "اخوي", "خيو", "استاذ", "you", "so",
                        "much", "very", "a", "lot", "all", "dear", "زۆر", "زور", "کاکە",
                        "خۆش", "بێت", "بۆ", "هەوە", "ئێوە")
COURTESY_WORDS = GREETING_WORDS | THANKS_WORDS | COURTESY_FILLER
# Said around a yes or a no: «نعم لو سمحت», "yes please", «لا شكراً».
POLITE_WORDS = _keys("please", "pls", "plz", "thanks", "thank", "you", "لو", "سمحت", "من",
                     "فضلك", "شكرا", "اكيد", "أكيد", "طبعا", "sure", "الله", "يخليك",
                     "يخليكم")
# «ما فهمت», «شو يعني؟», "I don't understand": said to a question, the person did not understand
# it (or the answer before it). The message is these phrases and words around them only.
CONFUSED_PHRASES = _keys(
    "ما فهمت", "مافهمت", "ما فهمتش", "ما فهمنا", "مو فاهم", "مو فاهمه", "مو فاهمين", "مش فاهم",
    "مش فاهمه", "مش فاهمين", "ما ني فاهم", "مني فاهم", "ماني فاهم", "لم افهم", "لا افهم",
    "ما افهم", "ما عم افهم", "مو عم افهم", "مش عم افهم", "ما افتهمت", "ما فتهمت", "ما دا افهم",
    "شو يعني", "يعني شو", "شو قصدك", "شو قصدكم", "شو قصدكن", "شو القصد", "شو المقصود",
    "شو معناها", "شو معنى", "شنو يعني", "يعني شنو", "شنو قصدك", "شنو قصدكم", "شنو المقصود",
    "شلون يعني", "ايش يعني", "وش يعني", "ايش قصدك", "ماذا تقصد", "ماذا تقصدون", "ماذا تعني",
    "ماذا يعني", "ما المقصود", "ما معنى", "مو واضح", "مش واضح", "غير واضح", "مو مفهوم",
    "مش مفهوم", "غير مفهوم", "شو", "شنو", "ايش", "don't understand", "dont understand",
    "do not understand", "didn't understand", "didnt understand", "did not understand",
    "don't get it", "dont get it", "what do you mean", "what does that mean",
    "what does this mean", "what does it mean", "what", "huh", "not clear", "unclear",
    "confused", "mish fahem", "mo fahem", "ma fhmt", "ma fhemt", "shu ya3ni", "sho ya3ni",
    # Kurdish: I did not understand, what do you mean?, what does it mean?
    "تێنەگەیشتم", "تێ نەگەیشتم", "تینەگەیشتم", "نەمزانی", "مەبەستت چییە", "مەبەستتان چییە",
    "واتە چی", "یانی چی", "من تێنەگەیشتم", "من تێنەگەهشتم")
CONFUSED_FILLER = _keys(
    "والله", "يا", "اخي", "اختي", "خيو", "عفوا", "اسف", "اسفه", "معلش", "معليش", "لا", "بس",
    "يعني", "شي", "شيء", "ابدا", "كتير", "كثير", "منيح", "عليكم", "عليك", "عليكن", "منكم", "منك",
    "السؤال", "الجواب", "الرد", "الرساله", "الكلام", "هاد", "هذا", "هذه", "هاي", "sorry", "no",
    "i", "am", "really", "but", "the", "question", "answer", "message", "it", "this", "that",
    "you", "is", "please")
_CONFUSED_PHRASES = sorted((tuple(phrase.split()) for phrase in CONFUSED_PHRASES), key=len,
                           reverse=True)
CONFUSED_WORDS = 8  # a longer message says more than that it was not understood
# Answers that say nothing about the language a person reads (bot.conversation).
STATUS_KEYWORDS = _keys("status", "case", "ref")


def yes_or_no(text: str) -> bool | None:
    """True for a yes («ايه», "yes please", «اي نعم»), False for a no («لا ما بدي»), None for
    anything else."""
    key = normalize_for_matching(text)
    for answer, words in ((True, YES_WORDS), (False, NO_WORDS)):
        if key in words:
            return answer
    kept = [word for word in key.split() if word not in POLITE_WORDS] or key.split()
    for answer, words in ((True, YES_WORDS), (False, NO_WORDS)):
        if kept and (" ".join(kept) in words or all(word in words for word in kept)):
            return answer
    return None


def did_not_understand(key: str) -> bool:
    """Whether the message only says the person did not understand («والله ما فهمت شي»,
    «شو يعني؟», "sorry, I don't understand the question")."""
    words = key.split()
    if len(words) > CONFUSED_WORDS:
        return False
    found, start = False, 0
    while start < len(words):
        phrase = next((phrase for phrase in _CONFUSED_PHRASES
                       if tuple(words[start:start + len(phrase)]) == phrase), None)
        if phrase is not None:
            found, start = True, start + len(phrase)
        elif words[start] in CONFUSED_FILLER:
            start += 1
        else:
            return False
    return found


def is_answer_word(key: str) -> bool:
    """A yes, a no or a status keyword, digits aside («STATUS 1234567»)."""
    words = " ".join(word for word in key.split() if not word.isdigit())
    return words in STATUS_KEYWORDS or (bool(words) and yes_or_no(words) is not None)

# "/link 12345678" (or "/link@sawti_bot 12345678") from a staff member's Telegram chat.
LINK_COMMAND = re.compile(r"\s*/link(?:@\w+)?(?:\s+(?P<code>.*))?", re.IGNORECASE | re.DOTALL)
LINK_CHANNELS = frozenset({"telegram"})
# A reply of this many digits or fewer to a numbered question is taken as a try at a choice;
# a longer number (a phone number, an ID) is content.
CHOICE_DIGITS = 2
# The kind of a follow-up question asked again in simpler words (after «شو يعني؟»).
REPHRASED_KIND = "question_simpler"
OFFICER_REPLY_KIND = "reply"  # casework.replies


@dataclass(frozen=True)
class DialogueSettings:
    org_name: str
    org_data: OrgData
    attach_window: timedelta
    followup_ack_interval: timedelta
    question_timeout: timedelta
    inbound_per_minute: int = 20
    # How long the satisfaction survey (and the offer to reopen) waits for an answer.
    survey_timeout: timedelta = timedelta(days=3)
    # The triage assistant's lexicon (casework.triage); None runs without it.
    triage: Lexicon | None = None
    # The name in English replies; None: ``org_name`` in every language.
    org_name_en: str | None = None
    # The languages replies are written in (SAWTI_REPLY_LANGUAGES); any other gets Arabic.
    reply_languages: tuple[str, ...] = LANGUAGES
    # Dialogue sessions in Redis (bot.sessions); None keeps them on the contact's row only.
    sessions: RedisSessions | None = None

    def org_name_in(self, language: str) -> str:
        """The English name in English replies; in any other (Kurdish too) the name as set."""
        return self.org_name_en if language == "en" and self.org_name_en else self.org_name


@dataclass(frozen=True)
class Reply:
    body: str
    kind: str


@dataclass
class Turn:
    """One inbound message being handled: what we know, and what we will say."""

    session: Session
    settings: DialogueSettings
    contact: Contact
    message: Message
    now: datetime
    speaker: Speaker
    case: Case | None = None
    opened_case: bool = False
    resumed: bool = False  # the contact had opted out and wrote again
    confirm_addition: bool = False  # say "we added your message" unless a question follows
    info_entry: InfoEntry | None = None  # an information entry answers this message
    state: State = State.IDLE  # the state the message arrived in
    # The session as Redis held it (bot.sessions); None: as the contact's row holds it.
    dialogue: DialogueSession | None = None
    replies: list[Reply] = field(default_factory=list)

    def say(self, body: str, kind: str) -> None:
        self.replies.append(Reply(body, kind))


def step(turn: Turn) -> list[Reply]:
    state = turn.state = current_state(turn)
    event = classify(turn, state)
    transition = transition_for(state, event)
    HANDLERS[transition.handler](turn)
    if transition.next is Next.SAME:
        next_state = state
    elif transition.next is Next.NEXT_QUESTION:
        next_state = _next_question(turn, after=state)
    else:
        next_state = transition.next
    _enter(turn, next_state, ask=next_state is not state)
    return turn.replies


def current_state(turn: Turn) -> State:
    if turn.dialogue is not None:
        state, updated = turn.dialogue.state, turn.dialogue.updated_at
    else:
        state, updated = State(turn.contact.dialogue_state), turn.contact.dialogue_updated_at
    if updated is None:
        return State.IDLE
    timeout = (turn.settings.survey_timeout if state in SURVEY_STATES
               else turn.settings.question_timeout)
    if turn.now - updated <= timeout or _late_answer(turn, state, updated):
        return state
    return State.IDLE


def state_lifetime(state: State, settings: DialogueSettings) -> timedelta:
    """How long after it is entered a state can still take the person's next message."""
    if state is State.IDLE:
        return timedelta(0)
    if state in SURVEY_STATES:
        return settings.survey_timeout
    if state in LATE_ANSWER_STATES:
        return max(settings.question_timeout, settings.attach_window)
    return settings.question_timeout


# The follow-up questions a late reply may still answer (the survey has its own long timeout).
LATE_ANSWER_STATES = frozenset({State.AWAITING_LOCATION, State.AWAITING_CONSENT,
                                State.AWAITING_INFO_FEEDBACK})


def _late_answer(turn: Turn, state: State, asked_at: datetime) -> bool:
    """A reply that is only an answer («1», «نعم», «حلب») to a question that timed out, while
    its case is open and within the attach window: the person is answering it, late (a first
    message of «1» must not become a case of its own). Anything longer may be a new message."""
    if state not in LATE_ANSWER_STATES or turn.now - asked_at > turn.settings.attach_window \
            or _case_of_dialogue(turn) is None:
        return False
    key = normalize_for_matching(turn.message.body or "")
    if not key or turn.message.attachments or turn.message.kind == "location":
        return False
    if _is_a_choice_number(key):
        return True
    if state is State.AWAITING_LOCATION:
        return _place_named(turn.settings.org_data, key) is not None
    return yes_or_no(key) is not None


def _is_a_choice_number(key: str) -> bool:
    """One or two digits, perhaps after «رقم» or "number": a try at a numbered choice."""
    number = _without_number_word(key)
    return number.isdigit() and len(number) <= CHOICE_DIGITS


def _only_a_choice(message: Message) -> bool:
    """A message that is only a number, a yes or a no («1», «نعم», «لا»): an answer to some
    question, with nothing in it to open a case about."""
    key = normalize_for_matching(message.body or "")
    if not key or message.attachments or message.kind == "location":
        return False
    return _is_a_choice_number(key) or yes_or_no(key) is not None


def _confused_about_nothing_we_said(turn: Turn) -> bool:
    """A message that only says the person did not understand («ما فهمت», "what?"), with no
    question of ours waiting and no officer's reply lately (not understanding that must reach
    the officer, so it opens a case as other text does)."""
    message = turn.message
    if message.attachments or message.kind == "location" \
            or not did_not_understand(normalize_for_matching(message.body or "")):
        return False
    return not _question_waits(turn, turn.state) and not _officer_replied_lately(turn)


def _officer_replied_lately(turn: Turn) -> bool:
    """Whether an officer's reply was sent to this person within the attach window."""
    if turn.contact.id is None:
        return False
    return turn.session.scalar(
        select(Message.id).where(Message.contact_id == turn.contact.id,
                                 Message.direction == Direction.OUTBOUND,
                                 Message.kind == OFFICER_REPLY_KIND,
                                 Message.created_at >= turn.now - turn.settings.attach_window)
        .limit(1)) is not None


def _confused(turn: Turn, state: State, key: str) -> bool:
    """«ما فهمت» to a question: to the information line's answer, while it waits for
    feedback; to the location, consent or survey question or the offer to reopen, unless
    already asked in simpler words (then it is handled as other text is: it skips the location
    or consent question, and after the survey or the offer it goes to a case, as before)."""
    if state is State.AWAITING_INFO_FEEDBACK:
        return _info_awaiting(turn) is not None and did_not_understand(key)
    if state is State.AWAITING_SURVEY and not survey.awaits_answer(turn.contact.dialogue_case):
        return False
    if state is State.AWAITING_REOPEN and _surveyed_case(turn) is None:
        return False
    if state in (State.AWAITING_LOCATION, State.AWAITING_CONSENT, State.AWAITING_SURVEY,
                 State.AWAITING_REOPEN):
        return did_not_understand(key) and not _asked_more_simply(turn)
    return False


def _asked_more_simply(turn: Turn) -> bool:
    """Whether the last thing we sent this person was a question asked in simpler words."""
    if turn.contact.id is None:
        return False
    last = turn.session.scalars(
        select(Message.kind).where(Message.contact_id == turn.contact.id,
                                   Message.direction == Direction.OUTBOUND)
        .order_by(Message.id.desc()).limit(1)).first()
    return last == REPHRASED_KIND


def classify(turn: Turn, state: State) -> Event:
    text = turn.message.body or ""
    key = normalize_for_matching(text)
    if not has_words(text) and not turn.message.attachments and turn.message.kind != "location":
        # 👍 to a question that waits is a try at answering it: the question comes again.
        return Event.NOT_A_CHOICE if _question_waits(turn, state) else Event.EMPTY
    if key in OPT_OUT_WORDS:
        return Event.OPT_OUT
    if text.strip().lower() in START_WORDS:
        return Event.START
    if turn.contact.channel in LINK_CHANNELS and LINK_COMMAND.fullmatch(text):
        return Event.LINK
    if find_reference_query(text) or (asks_about_status(text) and _own_case(turn) is not None):
        return Event.STATUS_QUERY
    if state is State.AWAITING_SURVEY and survey.awaits_answer(turn.contact.dialogue_case):
        answer = survey.parse_answer(text)
        if answer is not None:
            return Event.NOT_SATISFIED if answer == survey.NOT_SATISFIED else Event.ANSWER
    if state is State.AWAITING_REOPEN and _surveyed_case(turn) is not None \
            and yes_or_no(key) is not None:
        return Event.ANSWER
    if _confused(turn, state, key):
        return Event.CONFUSED
    if state is State.AWAITING_LOCATION and match_location(turn.settings.org_data, key):
        return Event.ANSWER
    if state is State.AWAITING_CONSENT and yes_or_no(key) is not None:
        return Event.ANSWER
    if state is State.AWAITING_INFO_FEEDBACK and yes_or_no(key) is not None \
            and _info_awaiting(turn) is not None:
        return Event.ANSWER
    if key.isdigit() and len(key) <= CHOICE_DIGITS and _question_waits(turn, state):
        return Event.NOT_A_CHOICE
    return Event.TEXT


def _question_waits(turn: Turn, state: State) -> bool:
    """Whether the contact was asked a question with numbered answers that still waits."""
    if state is State.AWAITING_SURVEY:
        return survey.awaits_answer(turn.contact.dialogue_case)
    if state is State.AWAITING_REOPEN:
        return _surveyed_case(turn) is not None
    if state is State.AWAITING_INFO_FEEDBACK:
        return _info_awaiting(turn) is not None
    return state in (State.AWAITING_LOCATION, State.AWAITING_CONSENT)


# An answer to the location question may name the place in a sentence («انا من الباب», "we
# are in Dibis camp"); longer messages are more likely a complaint that mentions a place.
LOCATION_ANSWER_WORDS = 6


def match_location(org_data: OrgData, key: str) -> Location | None:
    """A governorate chosen by its number in the list, or a governorate or district by name:
    the whole answer, or the one place a short answer names (a district perhaps with its
    governorate: «الباب حلب»); misspelt («ادلبب», «ديرالزور») only when no place is named as
    written and the misspelling is close to one place alone; with a Kurdish ending (Kurmanji
    "li Kerkûkê", Sorani «لە هەولێرم») when the words name no place, not even misspelt,
    without it."""
    governorates = org_data.governorates
    key = _without_number_word(key)
    if key.isdigit():
        index = int(key) - 1
        return governorates[index] if 0 <= index < len(governorates) else None
    names = org_data.place_names
    exact = names.exactly(key)
    words = key.split()
    if exact is not None or len(words) > LOCATION_ANSWER_WORDS:
        return exact
    named = names.named_in(words)
    if named:
        return _one_place(named) or _district_with_its_governorate(named)
    misspelt = names.closely_named_in(words)
    if misspelt:
        return _one_place(misspelt)
    return _one_place(names.named_without_kurdish_endings(words))


def _place_named(org_data: OrgData, key: str) -> Location | None:
    """The governorate or district whose name, perhaps misspelt, is the whole answer."""
    names = org_data.place_names
    return names.exactly(key) or _one_place(names.closely_named(key))


def _one_place(places: list[Location]) -> Location | None:
    """The place, when all of ``places`` are one (a district may share its governorate's
    name: the governorate, listed first, is taken)."""
    return places[0] if len({place.name_en for place in places}) == 1 else None


def _district_with_its_governorate(places: list[Location]) -> Location | None:
    """The district, when ``places`` are one district and its governorate («عنه الانبار»,
    «الباب حلب»), perhaps with the governorate's centre named like it («ادلب حارم»)."""
    governorates = [place for place in places if place.parent is None]
    if len(governorates) != 1:
        return None
    governorate = governorates[0]
    districts = [place for place in places if place.name_en != governorate.name_en]
    one = len({district.name_en for district in districts}) == 1
    return districts[0] if one and all(district.parent == governorate.code
                                       for district in districts) else None


NUMBER_WORDS = _keys("رقم", "الرقم", "number", "no")


def _without_number_word(key: str) -> str:
    """«رقم 2», "number 2": the number alone."""
    first, _, rest = key.partition(" ")
    return rest if first in NUMBER_WORDS and rest.isdigit() else key


# --- handlers ---------------------------------------------------------------------------

def ask_for_content(turn: Turn) -> None:
    turn.case = _case_of_dialogue(turn) or intake.current_case(
        turn.session, turn.contact, turn.now, turn.settings.attach_window)
    if turn.case is not None:
        intake.attach(turn.case, turn.message, turn.now)
    turn.say(turn.speaker._("We received an empty message. Please write your complaint, "
                            "question or feedback, or send a voice note."), "prompt")


def opt_out(turn: Turn) -> None:
    turn.contact.opted_out = True
    turn.contact.opted_out_at = turn.now
    audit.record(turn.session, "contact.opted_out", contact_id=turn.contact.id)
    turn.say(turn.speaker._("You will not receive any more messages from us. If you write to "
                            "us again, we will answer you."), "opt_out")


def greet(turn: Turn) -> None:
    turn.say(turn.speaker._(
        "Welcome to %(org)s. You can send us a complaint, a question or feedback here, in "
        "writing or as a voice note. What you share is confidential.",
        org=turn.settings.org_name_in(turn.speaker.language)), "greeting")


def _own_case(turn: Turn) -> Case | None:
    """The case a question without a number is about: the person's latest."""
    return intake.latest_case(turn.session, turn.contact)


def answer_status(turn: Turn) -> None:
    found = find_reference_query(turn.message.body or "")
    if found is None:  # «شو صار؟»: their own case, named so they have its number
        case = _own_case(turn)
        assert case is not None  # classified as STATUS_QUERY only then
        found = (case.reference, ReferenceCheck.VALID)
    reference, check = found
    speaker = turn.speaker
    if check is ReferenceCheck.BAD_CHECK_DIGIT:
        turn.say(speaker._("The number %(reference)s seems to be mistyped. Please check your "
                           "case number and send it again.", reference=reference), "status")
        return
    case = intake.find_case(turn.session, reference)
    if case is None or case.contact_id != turn.contact.id:
        turn.say(speaker._("We could not find a case with the number %(reference)s for you. "
                           "Please check the number, or write your message and we will open "
                           "a new case.", reference=reference), "status")
        return
    intake.attach(case, turn.message, turn.now)
    turn.case = case
    turn.say(speaker._("Your case %(reference)s is %(status)s.", reference=reference,
                       status=speaker.status_name(case.status)), "status")


def open_or_add_to_case(turn: Turn) -> None:
    existing = intake.current_case(turn.session, turn.contact, turn.now,
                                   turn.settings.attach_window)
    if existing is not None:
        turn.case = existing
        _add(turn)
        return
    if _answered_in_kind(turn):
        return
    if _only_a_choice(turn.message):
        # «1» or «نعم» answering a question long gone: kept (with no case), and the person is
        # asked for the message itself. A place name alone may start a complaint: it opens one.
        turn.say(turn.speaker._("We are not sure what this reply answers. Please write your "
                                "complaint, question or feedback in a few words, or send a "
                                "voice note."), "prompt")
        return
    if _confused_about_nothing_we_said(turn):
        # «ما فهمت» as a first word: the person does not know what this line is for. Kept
        # (with no case), and told; the complaint they then write opens the case.
        turn.say(turn.speaker._(
            "No problem. Here you can send %(org)s a complaint, a question or feedback. "
            "Write it in a few words, or send a voice note, and we will answer you.",
            org=turn.settings.org_name_in(turn.speaker.language)), "explanation")
        return
    case = intake.open_case(turn.session, turn.contact, turn.message,
                            turn.settings.org_data.grid, turn.now)
    turn.case, turn.opened_case = case, True
    speaker = turn.speaker
    body = "\n".join((
        speaker._("Thank you for contacting %(org)s. We received your message and opened "
                  "case number %(reference)s. Keep this number to ask about your case.",
                  org=turn.settings.org_name_in(speaker.language), reference=case.reference),
        speaker.deadline(_promised_deadline(turn, case) - case.created_at),
        *((_urgent_line(speaker),) if _urgent_now(turn, case) else ()),
        speaker._("What you share is confidential: we never share your name or number "
                  "without your permission."),
    ))
    turn.say(body, "ack")
    _look_for_an_answer(turn, case)


def _answered_in_kind(turn: Turn) -> bool:
    """A greeting or thanks alone, with nothing attached, is answered in kind (no case)."""
    message = turn.message
    words = normalize_for_matching(message.body or "").split()
    if message.attachments or message.kind == "location" or not words \
            or not all(word in COURTESY_WORDS for word in words):
        return False
    if any(word in THANKS_WORDS for word in words):
        turn.say(turn.speaker._("You are welcome. If you need anything else, write to us at "
                                "any time."), "courtesy")
    elif any(word in GREETING_WORDS for word in words):
        greet(turn)
    else:
        return False  # filler alone («الله»): read as a message
    return True


def _promised_deadline(turn: Turn, case: Case) -> datetime:
    """The case's deadline, or the sensitive level's when a rule of the triage assistant
    flags the message sensitive: a person reporting abuse must not be told to wait 15 days.
    The model's flag alone shortens the case's deadline too, but is not promised: one in five
    is a false alarm, and a promise an officer then cannot keep breaks trust."""
    lexicon, grid = turn.settings.triage, turn.settings.org_data.grid
    level = triage.sensitive_level(grid)
    if lexicon is None or level is None \
            or not lexicon.assess(turn.message.body).sensitive_by_a_rule:
        return case.due_at
    return min(case.due_at, deadlines.due_at(case.created_at, level, grid))


def add_to_case(turn: Turn) -> None:
    turn.case = _case_of_dialogue(turn) or intake.current_case(
        turn.session, turn.contact, turn.now, turn.settings.attach_window)
    if turn.case is None:  # the case was closed meanwhile: this is a new conversation
        open_or_add_to_case(turn)
        return
    turn.opened_case = turn.case is turn.contact.dialogue_case
    _add(turn)


def save_location(turn: Turn) -> None:
    key = normalize_for_matching(turn.message.body or "")
    location = match_location(turn.settings.org_data, key)
    assert location is not None  # classified as ANSWER
    turn.contact.location = location.code
    turn.case = _case_of_dialogue(turn)
    turn.opened_case = turn.case is not None
    if turn.case is not None:
        intake.attach(turn.case, turn.message, turn.now)
        if turn.case.location is None:
            turn.case.location = location.code
        if turn.case.messages and not info.was_answered(turn.session, turn.case):
            first = turn.case.messages[0]  # the question may only now have its place's answer
            turn.info_entry = _entry_for(turn, first.body, location.code)


def save_consent(turn: Turn) -> None:
    consent = yes_or_no(turn.message.body or "") is True
    turn.contact.consent_to_contact = consent
    turn.case = _case_of_dialogue(turn)
    if turn.case is not None:
        intake.attach(turn.case, turn.message, turn.now)
        turn.case.consent_to_contact = consent
        audit.record(turn.session, "case.consent", case=turn.case, consent=consent)
    reference = turn.case.reference if turn.case else ""
    if consent:
        body = turn.speaker._("Thank you. Our team may contact you about case %(reference)s.",
                              reference=reference)
    else:
        body = turn.speaker._("Understood. We will only answer you here about case "
                              "%(reference)s.", reference=reference)
    turn.say(body, "confirmation")


def save_satisfaction(turn: Turn) -> None:
    case = _surveyed_case(turn)
    assert case is not None  # classified as ANSWER only for a surveyed case
    _record_satisfaction(turn, case)
    turn.say(turn.speaker._("Thank you for your answer. It helps us improve our work."),
             "survey_thanks")


def offer_reopen(turn: Turn) -> None:
    case = _surveyed_case(turn)
    assert case is not None  # classified as NOT_SATISFIED only for a surveyed case
    _record_satisfaction(turn, case)
    turn.say(turn.speaker._("Thank you for telling us. Would you like us to reopen case "
                            "%(reference)s and look at it again? Reply 1 for yes or 2 for "
                            "no.", reference=case.reference), "survey_reopen_offer")


def answer_reopen_offer(turn: Turn) -> None:
    case = _surveyed_case(turn)
    assert case is not None  # classified as ANSWER only while the case is closed
    turn.case = case
    intake.attach(case, turn.message, turn.now)
    speaker = turn.speaker
    if yes_or_no(turn.message.body or "") is True:
        survey.reopen_on_request(turn.session, case, turn.now)
        turn.say(speaker._("We reopened case %(reference)s. Our team will look at it again "
                           "and answer you.", reference=case.reference), "survey_reopened")
        return
    audit.record(turn.session, "survey.reopen_declined", case=case)
    turn.say(speaker._("Understood. Case %(reference)s stays closed. You can write to us "
                       "at any time.", reference=case.reference), "survey_closed")


def ask_again(turn: Turn) -> None:
    """A number that is none of the choices, or an answer with no words (👍): keep it on the
    case, and ask once more."""
    turn.case = turn.contact.dialogue_case or intake.current_case(
        turn.session, turn.contact, turn.now, turn.settings.attach_window)
    if turn.case is not None:
        intake.attach(turn.case, turn.message, turn.now)
    speaker = turn.speaker
    if turn.state is State.AWAITING_LOCATION:
        body = _location_question(turn)
        if has_words(turn.message.body or ""):  # a number, not an emoji
            body = speaker._("That number is not in the list.") + "\n" + body
    elif turn.state is State.AWAITING_SURVEY:
        body = speaker._("Please reply 1 if you are satisfied, 2 if partly, 3 if you are not "
                         "satisfied.")
    else:
        body = speaker._("Please reply 1 for yes or 2 for no.")
    turn.say(body, "question")


def ask_more_simply(turn: Turn) -> None:
    """«شو يعني؟» to the location, consent or survey question or the offer to reopen: keep it
    on the case (the closed one the survey is about), and ask once more in simpler words,
    saying why we ask and that the person need not answer."""
    if turn.state in SURVEY_STATES:
        turn.case = _surveyed_case(turn)
    else:
        turn.case = _case_of_dialogue(turn) or intake.current_case(
            turn.session, turn.contact, turn.now, turn.settings.attach_window)
    if turn.case is not None:
        intake.attach(turn.case, turn.message, turn.now)
    speaker = turn.speaker
    if turn.state is State.AWAITING_SURVEY:
        assert turn.case is not None  # classified as CONFUSED only while the survey waits
        body = speaker._("No problem. We would like to know if you are happy with how we "
                         "handled case %(reference)s, so that we can do better. Send 1 if you "
                         "are happy, 2 if partly, 3 if you are not happy. You do not have to "
                         "answer.", reference=turn.case.reference)
    elif turn.state is State.AWAITING_REOPEN:
        assert turn.case is not None  # classified as CONFUSED only while the case is closed
        body = speaker._("No problem. You told us you are not happy with how we handled case "
                         "%(reference)s. Should we open it again and look at it once more? "
                         "Send 1 for yes or 2 for no.", reference=turn.case.reference)
    elif turn.state is State.AWAITING_LOCATION:
        example = turn.settings.org_data.governorates[0].name(speaker.language)
        body = speaker._("No problem. We ask where you live so that the team in your area can "
                         "help you. Write the name of your town or governorate, for example: "
                         "%(example)s. You do not have to answer.", example=example)
    else:
        body = speaker._("No problem. We are asking: may someone from our team call you or "
                         "write to you about your case? If yes, send 1. If no, send 2. Either "
                         "way, we will answer you here.")
    turn.say(body, REPHRASED_KIND)


def link_staff_account(turn: Turn) -> None:
    """A staff member links this Telegram chat to their console account for alerts."""
    match = LINK_COMMAND.fullmatch(turn.message.body or "")
    code = (match.group("code") or "") if match else ""
    # The code is not kept in the message history, whether it worked or not.
    turn.message.body, turn.message.search_text = "/link", None
    chat = turn.contact.address_encrypted
    user = notifications.link_telegram(turn.session, code, chat, turn.now) if chat else None
    if user is None:
        turn.say(turn.speaker._("This code is not valid or has expired. Ask for a new code "
                                "on your account page in the console."), "link")
        return
    turn.say(turn.speaker._("This chat now receives your Sawti alerts. You can unlink it "
                            "on your account page in the console."), "link")


def save_info_feedback(turn: Turn) -> None:
    """1: the information answered the question, the case closes; 2: an officer will answer."""
    satisfied = yes_or_no(turn.message.body or "") is True
    answer = _record_info_feedback(turn, satisfied)
    if satisfied:
        turn.say(turn.speaker._("We are glad it helped. Case %(reference)s is closed; write to "
                                "us again at any time.", reference=answer.case.reference),
                 "info_thanks")
    else:
        turn.say(turn.speaker._("Thank you for telling us. A member of our team will read your "
                                "message and answer you."), "info_thanks")


def info_not_understood(turn: Turn) -> None:
    """«ما فهمت» to "did this answer your question?": it did not; an officer explains."""
    _record_info_feedback(turn, satisfied=False)
    turn.say(turn.speaker._("Sorry that our answer was not clear. A member of our team will "
                            "explain it and answer your question."), "info_unclear")


def _record_info_feedback(turn: Turn, satisfied: bool) -> InfoAnswer:
    answer = _info_awaiting(turn)
    assert answer is not None and answer.case is not None  # classified only then
    turn.case, turn.opened_case = answer.case, True
    intake.attach(answer.case, turn.message, turn.now)
    info.record_feedback(turn.session, answer, satisfied, turn.now, turn.settings.org_data)
    return answer


HANDLERS: dict[str, Callable[[Turn], None]] = {
    handler.__name__: handler
    for handler in (ask_for_content, opt_out, greet, answer_status, open_or_add_to_case,
                    add_to_case, save_location, save_consent, save_satisfaction,
                    offer_reopen, answer_reopen_offer, link_staff_account, save_info_feedback,
                    info_not_understood, ask_again, ask_more_simply)
}


# --- helpers ------------------------------------------------------------------------------

def _urgent_now(turn: Turn, case: Case) -> bool:
    """The message names a danger now (a rule of the triage assistant, not only its model's
    hunch) on a case not urgent before: ``triage.flag_inbound`` alerts the team in this same
    transaction, and the person is told so."""
    lexicon = turn.settings.triage
    return lexicon is not None and not case.urgent and bool(turn.message.body) \
        and lexicon.assess(turn.message.body).urgent_by_a_rule


def _urgent_line(speaker: Speaker) -> str:
    return speaker._("Your message may be urgent: we have alerted our team now.")


def _add(turn: Turn) -> None:
    """Attach the message; say so, but not after every message of a burst (a message that
    names a danger now is always answered)."""
    case = turn.case
    assert case is not None
    if _urgent_now(turn, case):
        intake.attach(case, turn.message, turn.now)
        turn.say(_urgent_line(turn.speaker) + "\n" + turn.speaker._(
            "We added it to case %(reference)s.", reference=case.reference), "urgent")
        return
    intake.attach(case, turn.message, turn.now)
    last = case.last_followup_ack_at
    in_burst = last is not None and turn.now - last < turn.settings.followup_ack_interval
    if in_burst and not turn.resumed:
        return
    turn.confirm_addition = True  # the burst's clock starts when the confirmation is said


def _case_of_dialogue(turn: Turn) -> Case | None:
    case = turn.contact.dialogue_case
    return case if case is not None and case.is_open else None


def _surveyed_case(turn: Turn) -> Case | None:
    """The closed case the survey (or the offer to reopen it) was about."""
    case = turn.contact.dialogue_case
    return case if case is not None and case.status == CaseStatus.CLOSED else None


def _record_satisfaction(turn: Turn, case: Case) -> None:
    answer = survey.parse_answer(turn.message.body or "")
    assert answer is not None  # classified as an answer
    turn.case = case
    intake.attach(case, turn.message, turn.now)  # the answer belongs to the closed case
    survey.record_answer(turn.session, case, answer, actor=survey.CONTACT_ACTOR,
                         now=turn.now)


def _next_question(turn: Turn, after: State) -> State:
    if not turn.opened_case or (turn.case is not None and turn.case.status == CaseStatus.CLOSED):
        return State.IDLE
    for question in QUESTIONS:
        if question is not after and not _answered(turn, question):
            return question
    return State.IDLE


def _answered(turn: Turn, question: State) -> bool:
    if question is State.AWAITING_INFO_FEEDBACK:
        return turn.info_entry is None
    if question is State.AWAITING_LOCATION:
        return turn.contact.location is not None
    return turn.contact.consent_to_contact is not None


def _look_for_an_answer(turn: Turn, case: Case) -> None:
    """A new case whose message an information entry answers gets the answer next, unless a
    triage rule flagged it; a question nothing answers is kept for officers. The model's flag
    alone restricts the case and alerts PSEA but does not hold the answer back: it mostly
    fires on questions near sensitive topics («why is my name not on the list?»)."""
    text = turn.message.body
    lexicon = turn.settings.triage
    if not text or (lexicon is not None and lexicon.assess(text).flagged_by_a_rule):
        return
    turn.info_entry = _entry_for(turn, text, turn.contact.location)
    if turn.info_entry is None and faq.reads_as_question(text):
        info.record(turn.session, case, turn.message, None, turn.now)


def _entry_for(turn: Turn, text: str | None, location: str | None) -> InfoEntry | None:
    """The entry that answers ``text`` where the person is; an entry for particular places
    waits until we know theirs (the location question comes first then)."""
    entry = info.find_answer(turn.session, text, location, turn.now)
    if entry is not None and entry.locations and location is None:
        return None
    return entry


def _info_awaiting(turn: Turn) -> InfoAnswer | None:
    case = turn.contact.dialogue_case
    return info.awaiting_feedback(turn.session, case) if case is not None else None


def _answer_the_question(turn: Turn) -> None:
    entry, case = turn.info_entry, turn.case
    assert entry is not None and case is not None
    info.record(turn.session, case, turn.message, entry, turn.now)
    case.first_response_at = case.first_response_at or turn.now
    turn.say("\n\n".join((info.answer_text(entry, turn.speaker.language), turn.speaker._(
        "Did this answer your question? Reply 1 for yes or 2 for no."))), "info_answer")


def _enter(turn: Turn, state: State, ask: bool) -> None:
    """Move to the state, asking its question when it is newly entered."""
    contact = turn.contact
    if ask and state is State.AWAITING_INFO_FEEDBACK:
        _answer_the_question(turn)
    elif ask and state is State.AWAITING_LOCATION:
        turn.say(_location_question(turn), "question")
    elif ask and state is State.AWAITING_CONSENT:
        turn.say(turn.speaker._("May someone from our team contact you about your case if "
                                "needed? Reply 1 for yes or 2 for no."), "question")
    elif turn.confirm_addition and turn.case is not None:
        turn.say(turn.speaker._("Thank you. We added your message to case %(reference)s.",
                                reference=turn.case.reference), "added")
        turn.case.last_followup_ack_at = turn.now
    contact.dialogue_state = state.value
    contact.dialogue_updated_at = turn.now
    if turn.case is not None and turn.opened_case:
        contact.dialogue_case = turn.case
    elif state is State.IDLE:
        contact.dialogue_case = None


def _location_question(turn: Turn) -> str:
    speaker = turn.speaker
    lines = [speaker._("Which governorate are you in? Reply with its number:")]
    for number, governorate in enumerate(turn.settings.org_data.governorates, start=1):
        lines.append(f"{number}. {governorate.name(speaker.language)}")
    lines.append(speaker._("If you prefer not to say, just continue writing."))
    return "\n".join(lines)
