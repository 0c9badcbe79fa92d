"""Queue search through the trigram index (``case_search``): spelling variants, every term
required, short terms, literal wildcards, documents kept in step with the messages, access
rules, and the migration that builds the index. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import DateTime, TextClause, bindparam, delete, inspect, select, text, update

import casework.queue as queue_module
from app import create_app
from casework.models import (
    SEARCH_TABLE,
    Case,
    CaseStatus,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    Role,
    User,
    utcnow,
)
from casework.queue import QueueFilters, find_cases
from casework.text import normalize_for_matching
from config.settings import Settings
from extensions import db

MakeCase = Callable[..., Case]
_numbers = itertools.count(1)


@pytest.fixture
def make_case(app_context: None) -> MakeCase:
    """A case with the given inbound (and outbound) messages, as intake stores them."""
    def make(*texts: str, outbound: tuple[str, ...] = (), sensitive: bool = False,
             location: str | None = None) -> Case:
        number = next(_numbers)
        contact = Contact(channel="telegram", pseudonym=f"search-{number:04d}")
        case = Case(reference=f"{number:06d}0", contact=contact, channel="telegram",
                    status=CaseStatus.NEW, sensitive=sensitive, location=location,
                    level=5 if sensitive else None, due_at=utcnow() + timedelta(days=15))
        db.session.add(case)
        for body in texts:
            db.session.add(_message(contact, case, body, Direction.INBOUND))
        for body in outbound:  # given search text too: only the direction must keep it out
            db.session.add(_message(contact, case, body, Direction.OUTBOUND))
        db.session.commit()
        return case
    return make


def _message(contact: Contact, case: Case | None, body: str, direction: str) -> Message:
    inbound = direction == Direction.INBOUND
    return Message(contact=contact, case=case, direction=direction, channel="telegram",
                   body=body, search_text=normalize_for_matching(body) or None,
                   status=DeliveryStatus.RECEIVED if inbound else DeliveryStatus.SENT)


def _user(role: str, locations: list[str] | None = None) -> User:
    user = User(email=f"{role}-{next(_numbers)}@example.org", role=role, name=role,
                password_hash="-", locations=locations or [], active=True)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def officer(app_context: None) -> User:
    return _user(Role.OFFICER)


def _found(user: User, query: str) -> set[str]:
    page = find_cases(db.session, user, QueueFilters(text=query), per_page=100)
    found = {item.case.reference for item in page.items}
    db.session.rollback()  # end the read (SQLite holds its write lock until then)
    return found


def _names(cases: dict[str, Case], references: set[str]) -> set[str]:
    return {name for name, case in cases.items() if case.reference in references}


# --- what a query finds ------------------------------------------------------------------------

TEXTS = {
    "rent": ("أريد مساعدة في الإيجار",),
    "school": ("المدرسة بعيدة جدا",),
    "card": ("رقم البطاقة ٤٥٦٧٨٩ والحالة قديمة",),
    "ascii-card": ("card 123456 lost",),
    "basket": ("لم أستلم السلة الغذائية", "والماء مقطوع"),  # two messages, one case
    "bread": ("الخبز ناقص في حلب",),
    "code": ("رمز التسجيل ab_cd",),
    "near-code": ("رمز التسجيل abxcd",),
    "kurdish": ("سکاڵاکەم لەسەر دابەشکردنی خۆراکە",),  # Sorani, on a Kurdish keyboard
    "kurmanji": ("Em li Kerkûkê ne, alîkarî negihîşt",),  # Kurmanji, in Latin letters
}

SEARCHES = [
    ("alef-with-hamza-above", "أريد", {"rent"}),
    ("alef-with-hamza-below", "إريد", {"rent"}),
    ("alef-with-madda", "آريد", {"rent"}),
    ("plain-alef-finds-hamza", "الايجار", {"rent"}),
    ("taa-marbuta-as-haa", "المدرسه", {"school"}),
    ("taa-marbuta-as-written", "المدرسة", {"school"}),
    ("haa-finds-taa-marbuta-in-two-words", "البطاقه قديمه", {"card"}),
    ("arabic-indic-digits-find-arabic-indic", "٤٥٦٧٨٩", {"card"}),
    ("ascii-digits-find-arabic-indic", "456789", {"card"}),
    ("eastern-arabic-indic-find-ascii", "۱۲۳۴۵۶", {"ascii-card"}),
    ("latin-case-ignored", "CARD", {"ascii-card"}),
    ("two-terms-same-message", "السله الغذاييه", {"basket"}),
    ("two-terms-in-two-messages-of-a-case", "السلة الماء", {"basket"}),
    ("two-terms-in-different-cases", "السلة الخبز", set()),
    ("part-of-a-word", "غذائي", {"basket"}),
    ("short-term-alone", "جد", {"school"}),
    ("short-term-with-a-long-one", "لم الماء", {"basket"}),
    ("short-term-present", "في الخبز", {"bread"}),
    ("short-term-absent", "قد الخبز", set()),
    ("underscore-is-literal", "ab_cd", {"code"}),
    ("underscore-does-not-match-any-letter", "b_c", {"code"}),
    ("short-underscore-is-literal", "_", {"code"}),
    ("percent-is-punctuation", "%الخبز%", {"bread"}),
    ("backslash-is-punctuation", "\\الخبز", {"bread"}),
    ("no-match", "كهرباء", set()),
    ("quotes-are-punctuation", '"الخبز"', {"bread"}),
    ("kurdish-as-written", "سکاڵا", {"kurdish"}),
    ("kurdish-on-an-arabic-keyboard", "سكالا خوراك", {"kurdish"}),
    ("latin-without-accents-finds-accented", "kerkuk alikari", {"kurmanji"}),
    ("latin-accented-as-written", "Kerkûk", {"kurmanji"}),
    ("latin-accent-not-in-the-text", "négihişt", {"kurmanji"}),
]


@pytest.fixture
def search_cases(make_case: MakeCase) -> dict[str, Case]:
    return {name: make_case(*texts) for name, texts in TEXTS.items()}


@pytest.mark.parametrize(("query", "expected"),
                         [pytest.param(q, e, id=label) for label, q, e in SEARCHES])
def test_search(search_cases: dict[str, Case], officer: User, query: str,
                expected: set[str]) -> None:
    assert _names(search_cases, _found(officer, query)) == expected


def test_outbound_text_is_not_searched(make_case: MakeCase, officer: User) -> None:
    case = make_case("لم أستلم القسيمة", outbound=("سنرسل لك البطانيات قريبا",))
    assert _found(officer, "القسيمه") == {case.reference}
    assert _found(officer, "البطانيات") == set()


PAGES = [
    # label, page asked for, page shown, references on it (newest first)
    ("first", 1, 1, ["c", "b"]),
    ("second", 2, 2, ["a"]),
    ("past-the-end-shows-the-last", 5, 2, ["a"]),
]


@pytest.mark.parametrize(("asked", "shown", "names"),
                         [pytest.param(a, s, n, id=label) for label, a, s, n in PAGES])
def test_search_results_are_paged_newest_first(make_case: MakeCase, officer: User, asked: int,
                                               shown: int, names: list[str]) -> None:
    cases = {name: make_case("المازوت ما وصل") for name in "abc"}
    make_case("الكهرباء مقطوعة")
    page = find_cases(db.session, officer, QueueFilters(text="المازوت"), asked, per_page=2)
    assert (page.total, page.pages, page.page) == (3, 2, shown)
    assert [item.case.reference for item in page.items] == [cases[n].reference for n in names]


def test_a_search_without_matches_is_one_empty_page(make_case: MakeCase, officer: User) -> None:
    make_case("المازوت ما وصل")
    page = find_cases(db.session, officer, QueueFilters(text="كهرباء"), 3, per_page=2)
    assert (page.total, page.pages, page.page, page.items) == (0, 1, 1, [])


# --- many matches: the count stops at a cap; the page comes from walking the queue ------------

CAPPED = [
    # label: which cases match, oldest first ("m": the case mentions the term, ".": it does
    # not), the count's cap, the walk's factor, page asked for, the needs-action order
    ("under-the-cap-counted-exactly", "mm.m.....", 5, 100, 1, False),
    ("at-the-cap-counted-exactly", "mm.m.m...", 4, 100, 2, False),
    ("over-the-cap-newest-first", "mmmmm.m.mm", 3, 100, 1, False),
    ("over-the-cap-second-page", "mmmmm.m.mm", 3, 100, 2, False),
    ("over-the-cap-past-the-end-shows-the-last", "mmmmm.m.mm", 3, 100, 9, False),
    ("walk-cut-short-falls-back-to-the-index", "mmmmm.....", 3, 1, 1, False),
    ("walk-cut-short-on-the-second-page", "mmmm.mm...", 3, 1, 2, False),
    ("needs-action-most-urgent-first", "mm.mmm.m..", 3, 100, 1, True),
    ("needs-action-walk-cut-short", "....mmmmm.", 3, 1, 1, True),
]
PER_PAGE = 2


def _queue_of(make_case: MakeCase, pattern: str) -> list[tuple[Case, bool]]:
    """Cases created a minute apart, oldest first, due in another order (every fourth
    minute, round the pattern), so that the two orders of the queue differ."""
    start = utcnow() - timedelta(days=1)
    queue = []
    for number, mark in enumerate(pattern):
        case = make_case("المازوت ما وصل" if mark == "m" else "الكهرباء مقطوعة")
        case.created_at = start + timedelta(minutes=number)
        case.due_at = start + timedelta(days=15, minutes=number * 4 % len(pattern))
        queue.append((case, mark == "m"))
    db.session.commit()
    return queue


@pytest.mark.parametrize(("pattern", "cap", "walk_factor", "asked", "needs_action"),
                         [pytest.param(*case[1:], id=case[0]) for case in CAPPED])
def test_a_search_counts_up_to_its_cap_and_pages_the_newest_matches(
        make_case: MakeCase, officer: User, monkeypatch: pytest.MonkeyPatch, pattern: str,
        cap: int, walk_factor: int, asked: int, needs_action: bool) -> None:
    monkeypatch.setattr(queue_module, "WALK_FACTOR", walk_factor)
    queue = _queue_of(make_case, pattern)
    matches = [case for case, matched in queue if matched]
    ordered = [case.reference for case in (
        sorted(matches, key=lambda case: (case.due_at, case.id)) if needs_action
        else matches[::-1])]
    total = min(len(matches), cap)
    pages = -(-total // PER_PAGE)
    shown = min(asked, pages)

    page = find_cases(db.session, officer, QueueFilters(text="مازوت", needs_action=needs_action),
                      asked, per_page=PER_PAGE, count_cap=cap)

    assert (page.total, page.more, page.pages, page.page) == (
        total, len(matches) > cap, pages, shown)
    assert [item.case.reference for item in page.items] == \
        ordered[(shown - 1) * PER_PAGE:shown * PER_PAGE]


# --- the index follows the messages ----------------------------------------------------------

def test_a_new_message_is_found_at_once(make_case: MakeCase, officer: User) -> None:
    case = make_case("الخيمة تدلف")
    db.session.add(_message(case.contact, case, "والمطر شديد", Direction.INBOUND))
    db.session.commit()
    assert _found(officer, "الخيمه المطر") == {case.reference}


def test_an_edited_message_is_searched_as_it_is_now(make_case: MakeCase, officer: User
                                                    ) -> None:
    case = make_case("الطحين خربان", "وفيه سوس")
    first = db.session.scalars(select(Message).where(Message.case_id == case.id)
                               .order_by(Message.id)).first()
    assert first is not None
    first.body, first.search_text = "الرز خربان", normalize_for_matching("الرز خربان")
    db.session.commit()
    assert _found(officer, "الطحين") == set()
    assert _found(officer, "الرز سوس") == {case.reference}


def test_erased_text_leaves_the_index(make_case: MakeCase, officer: User) -> None:
    case = make_case("اسمي احمد ورقمي معروف", "والخزان فاضي")
    db.session.execute(update(Message).where(Message.case_id == case.id,
                                             Message.body.like("%احمد%"))
                       .values(body=None, search_text=None))
    db.session.commit()
    assert _found(officer, "احمد") == set()
    assert _found(officer, "الخزان") == {case.reference}


def test_a_deleted_message_leaves_the_index(make_case: MakeCase, officer: User) -> None:
    case = make_case("الكهرباء مقطوعة", "والمازوت ما وصل")
    db.session.execute(delete(Message).where(Message.case_id == case.id,
                                             Message.body.like("%المازوت%")))
    db.session.commit()
    assert _found(officer, "المازوت") == set()
    assert _found(officer, "الكهرباء") == {case.reference}
    db.session.execute(delete(Message).where(Message.case_id == case.id))
    db.session.commit()
    assert _found(officer, "الكهرباء") == set()
    assert _documents() == {}


def test_a_message_moved_to_another_case_moves_in_the_index(make_case: MakeCase,
                                                            officer: User) -> None:
    first, second = make_case("البطانيات ناقصة", "والفرشات رقيقة"), make_case("المدفأة خربانة")
    moved = db.session.scalars(select(Message).where(Message.body == "والفرشات رقيقة")).one()
    moved.case_id = second.id
    db.session.commit()
    assert _found(officer, "الفرشات") == {second.reference}
    assert _found(officer, "البطانيات") == {first.reference}


def test_a_message_given_its_case_later_is_found(make_case: MakeCase, officer: User) -> None:
    case = make_case("الحمامات وسخة")
    loose = _message(case.contact, None, "والمياه قليلة", Direction.INBOUND)
    db.session.add(loose)
    db.session.commit()
    assert _found(officer, "المياه") == set()
    loose.case_id = case.id
    db.session.commit()
    assert _found(officer, "المياه الحمامات") == {case.reference}


def _documents() -> dict[int, str]:
    key = "rowid" if db.engine.dialect.name == "sqlite" else "case_id"
    rows = db.session.execute(text(f"SELECT {key}, search_text FROM {SEARCH_TABLE}"))
    return {key: value for key, value in rows}


def test_a_case_document_holds_its_inbound_messages(make_case: MakeCase) -> None:
    case = make_case("أولا", "ثانيا", outbound=("جواب",))
    assert sorted(_documents()[case.id].split("\n")) == ["اولا", "ثانيا"]


# --- access ------------------------------------------------------------------------------------

@pytest.fixture
def scoped(make_case: MakeCase) -> dict[str, Case]:
    return {
        "idlib": make_case("الماء مقطوع في إدلب", location="SY-ID-01"),
        "aleppo": make_case("الماء مقطوع في حلب", location="SY-HL-02"),
        "unknown": make_case("الماء مقطوع"),
        "sensitive": make_case("الماء مقطوع والموظف طلب رشوة", sensitive=True,
                               location="SY-ID-01"),
    }


ACCESS = [
    ("officer-of-idlib", Role.OFFICER, ["SY-ID"], "الماء", {"idlib", "unknown"}),
    ("officer-everywhere", Role.OFFICER, None, "الماء", {"idlib", "aleppo", "unknown"}),
    ("officer-cannot-find-sensitive-words", Role.OFFICER, None, "رشوه", set()),
    ("officer-of-aleppo-not-idlib", Role.OFFICER, ["SY-HL"], "ادلب", set()),
    ("psea-sees-sensitive-only", Role.PSEA, None, "الماء", {"sensitive"}),
    ("psea-finds-sensitive-words", Role.PSEA, None, "رشوه", {"sensitive"}),
    ("focal-point-without-referrals", Role.FOCAL_POINT, None, "الماء", set()),
    ("admin-sees-no-content", Role.ADMIN, None, "الماء", set()),
]


@pytest.mark.parametrize(("role", "locations", "query", "expected"),
                         [pytest.param(r, loc, q, e, id=label)
                          for label, r, loc, q, e in ACCESS])
def test_search_keeps_to_what_the_user_may_open(scoped: dict[str, Case], role: str,
                                                locations: list[str] | None, query: str,
                                                expected: set[str]) -> None:
    user = _user(role, locations)
    assert _names(scoped, _found(user, query)) == expected


def test_an_inactive_user_finds_nothing(scoped: dict[str, Case]) -> None:
    user = _user(Role.OFFICER)
    user.active = False
    db.session.commit()
    assert _found(user, "الماء") == set()


# --- the migration -----------------------------------------------------------------------------

def _timed(sql: str) -> TextClause:
    return text(sql).bindparams(bindparam("now", type_=DateTime()))


@pytest.fixture
def migrated_app(settings: Settings) -> Iterator[None]:
    app = create_app(settings)  # no create_all: the migrations build the schema
    with app.app_context():
        yield
        db.session.remove()
        db.engine.dispose()


def test_the_migration_indexes_the_messages_already_there(migrated_app: None) -> None:
    upgrade(revision="0004")
    now = {"now": utcnow().replace(tzinfo=None)}
    with db.engine.begin() as connection:
        connection.execute(_timed(
            "INSERT INTO contacts (id, channel, pseudonym, language, opted_out, dialogue_state,"
            " created_at, rate_window_count) VALUES (1, 'sms', 'p1', 'ar', false, 'idle', :now,"
            " 0)"), now)
        connection.execute(_timed(
            "INSERT INTO cases (id, reference, contact_id, channel, status, sensitive, urgent,"
            " language, created_at, due_at, last_activity_at) VALUES (1, '1234566', 1, 'sms',"
            " 'new', false, false, 'ar', :now, :now, :now)"), now)
        for number, (direction, body) in enumerate([("in", "السله ناقصه"), ("in", "والماء"),
                                                    ("out", "شكرا")], start=1):
            connection.execute(_timed(
                "INSERT INTO messages (id, contact_id, case_id, direction, channel, kind, body,"
                " search_text, status, attempts, created_at) VALUES (:id, 1, 1, :direction,"
                " 'sms', 'text', :body, :body, 'received', 0, :now)"),
                {"id": number, "direction": direction, "body": body, **now})
    upgrade()
    assert sorted(_documents()[1].split("\n")) == ["السله ناقصه", "والماء"]
    officer = _user(Role.OFFICER)
    assert _found(officer, "السلة الماء") == {"1234566"}
    assert _found(officer, "شكرا") == set()
    db.session.add(Message(id=4, contact_id=1, case_id=1, direction=Direction.INBOUND,
                           channel="sms", body="الخبز", search_text="الخبز",
                           status=DeliveryStatus.RECEIVED))
    db.session.commit()  # the triggers outlived every later revision
    assert _found(officer, "الخبز السله") == {"1234566"}
    with db.engine.begin() as connection:  # later revisions rebuild tables on the way down
        for table in ("messages", "cases", "contacts", "users"):
            connection.execute(text(f"DELETE FROM {table}"))
    downgrade(revision="0004")
    assert not any(name.startswith(SEARCH_TABLE) for name in inspect(db.engine).get_table_names())
