"""The case queue: which cases a person sees, filtered, searched and paginated; bulk actions.

Every query starts from ``casework.access.listed_cases(user)``. A case the user may list but
not open (a sensitive case in an officer's queue) is *restricted*: only its reference, level and
dates are shown, and filters on its content (text, category, location, channel, assignee)
never match it, so a search cannot reveal what it says.

Search treats spelling variants alike (Arabic letter forms, Latin accents): the query goes
through the same ``normalize_for_matching`` that filled ``Message.search_text`` at intake, and
every term must occur in some inbound message of the case (looked up in ``case_search``, the
cases' inbound text under a trigram index: see casework.models). A query that is the
reference of a case the user may list (7 digits, Arabic-Indic allowed) finds that case by its
index instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import Enum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    Text,
    and_,
    column,
    func,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session, selectinload

from casework import audit
from casework.access import Action, can, listed_cases, viewable_cases
from casework.models import (
    SEARCH_TABLE,
    Case,
    CaseStatus,
    Direction,
    Message,
    Referral,
    Role,
    User,
    utcnow,
)
from casework.references import REFERENCE_LENGTH, is_valid_reference
from casework.text import ascii_digits, normalize_for_matching

MAX_SEARCH_TERMS = 10
# A search counts its matches up to this many; past it the page says "more than" and the
# newest matches are found by walking the queue in order (see ``_searched_page``).
SEARCH_COUNT_CAP = 500
WALK_FACTOR = 100
PREVIEW_LENGTH = 140
ASSIGNABLE_ROLES = (Role.OFFICER, Role.PSEA)
OPEN_STATUSES = tuple(status.value for status in CaseStatus if status != CaseStatus.CLOSED)
UNKNOWN_LOCATION = "none"  # the location filter's value for "not known yet"
_REFERENCE_QUERY = re.compile(rf"\d{{{REFERENCE_LENGTH}}}")
TRIGRAM = 3  # the trigram indexes find terms of at least this many characters
_CASE_SEARCH = table(SEARCH_TABLE, column("rowid", Integer), column("case_id", Integer),
                     column("search_text", Text))


@dataclass(frozen=True)
class QueueFilters:
    """What the person asked to see; every field is optional (None: no filter)."""

    needs_action: bool = False
    status: CaseStatus | None = None
    level: int | None = None
    category: str | None = None
    channel: str | None = None
    location: str | None = None  # a code (its districts included) or UNKNOWN_LOCATION
    assignee_id: int | None = None
    unassigned: bool = False
    overdue: bool | None = None
    created_from: date | None = None  # dates in the organisation's time zone, inclusive
    created_to: date | None = None
    text: str | None = None

    def restricts_content(self) -> bool:
        """Whether a filter looks at what restricted cases must not reveal."""
        return any(value is not None for value in (
            self.category, self.channel, self.location, self.assignee_id)) or self.unassigned


@dataclass(frozen=True)
class QueueItem:
    case: Case
    restricted: bool  # listed, but the user may not open it: show reference, level, dates
    overdue: bool
    referral_answered: bool
    preview: str | None  # start of the first message; always None when restricted


@dataclass(frozen=True)
class Page:
    items: list[QueueItem]
    total: int
    page: int
    pages: int
    more: bool = False  # a search with more matches than ``total`` (the count stopped there)


@dataclass(frozen=True)
class BulkResult:
    done: int
    refused: int


class BulkError(ValueError):
    """A bulk action that cannot run at all (as opposed to single cases being refused)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Order(Enum):
    NEWEST = "newest"  # the queue: created_at, newest first
    MOST_URGENT = "most_urgent"  # needs action: due_at, soonest first
    LATEST_ID = "latest_id"  # the API's cursor pages: id, highest first


def find_cases(session: Session, user: User, filters: QueueFilters, page: int = 1,
               per_page: int = 50, *, now: datetime | None = None, tz: tzinfo = UTC,
               count_cap: int | None = None) -> Page:
    """One page of the cases this user may list that match the filters. A search counts at
    most ``count_cap`` (default ``SEARCH_COUNT_CAP``) matches, ``Page.more`` saying there are
    more, and pages through those."""
    now = now or utcnow()
    conditions, search = _matching_parts(session, user, filters, now, tz)
    page = max(page, 1)
    more = False
    order = Order.MOST_URGENT if filters.needs_action else Order.NEWEST
    if search is not None:
        total, more, page, ids = _searched_page(session, conditions, search, order, page,
                                                per_page, count_cap or SEARCH_COUNT_CAP)
    elif order is Order.MOST_URGENT:
        total, page, ids = _counted_page(session, conditions, order, page, per_page)
    else:
        total = _count(session, conditions)
        page = min(page, _pages(total, per_page))
        ids = _page_ids(session, conditions, order, page, per_page)
    items = _items(session, user, ids, order, now)
    return Page(items=items, total=total, page=page, pages=_pages(total, per_page), more=more)


def _items(session: Session, user: User, ids: Sequence[int], order: Order,
           now: datetime) -> list[QueueItem]:
    answered = _answered_referral().label("referral_answered")
    query: Select = (
        select(Case, answered)
        .where(Case.id.in_(ids))
        .options(selectinload(Case.assignee))
        .order_by(*_order(order))
    )
    if user.role == Role.FOCAL_POINT:  # can() looks at the referrals of the case
        query = query.options(selectinload(Case.referrals))
    rows = session.execute(query).all()
    viewable = {case.id for case, _ in rows if can(user, Action.VIEW, case)}
    previews = _previews(session, viewable)
    return [
        QueueItem(case=case, restricted=case.id not in viewable,
                  overdue=case.is_open and case.due_at < now,
                  referral_answered=bool(was_answered) and case.is_open,
                  preview=previews.get(case.id) if case.id in viewable else None)
        for case, was_answered in rows
    ]


def _count(session: Session, conditions: list[ColumnElement[bool]]) -> int:
    return session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0


def _pages(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def _page_ids(session: Session, conditions: list[ColumnElement[bool]], order: Order,
              page: int, per_page: int) -> list[int]:
    """The page's ids in the queue's order, from the indexes alone."""
    return list(session.scalars(
        select(Case.id).where(*conditions).order_by(*_order(order))
        .limit(per_page).offset((page - 1) * per_page)))


def _counted_page(session: Session, conditions: list[ColumnElement[bool]], order: Order,
                  page: int, per_page: int) -> tuple[int, int, list[int]]:
    """(total, page, ids) from one pass over the matches, for the needs-action view: no index
    gives its order over its filter (conditions joined by OR), so the database reads every
    match to sort them, and counting them in the same pass halves the work of a count and
    then a page. A page past the end becomes the last one."""
    # OFFSET 0 keeps the matches a subquery of their own, counted before the LIMIT.
    matches = (select(Case.id, Case.created_at, Case.due_at, func.count().over().label("total"))
               .where(*conditions).offset(0).subquery())

    def ranked(number: int) -> list[Any]:
        return list(session.execute(
            select(matches.c.id, matches.c.total).order_by(*_order(order, matches.c))
            .limit(per_page).offset((number - 1) * per_page)))

    rows = ranked(page)
    if not rows and page > 1:  # past the end: count, then show the last page
        page = min(page, _pages(_count(session, conditions), per_page))
        rows = ranked(page)
    return (rows[0][1] if rows else 0), page, [case_id for case_id, _ in rows]


def _searched_page(session: Session, conditions: list[ColumnElement[bool]],
                   search: ColumnElement[bool], order: Order, page: int, per_page: int,
                   cap: int) -> tuple[int, bool, int, list[int]]:
    """(total, more, page, ids) of a search; a page past the end becomes the last one.

    The matches are fetched unordered and at most ``cap`` + 1 of them, so the database may
    stop early. When they are all there, they are ordered and paged here. When there are
    more (a common word: tens of thousands of cases at a million), counting them all would
    take longer than the page may; the page then comes from walking the queue in its order,
    which finds the newest matches after a few hundred cases, and paging stops at ``cap``."""
    found = session.execute(select(Case.id, Case.created_at, Case.due_at)
                            .where(*conditions, search).limit(cap + 1)).all()
    if len(found) <= cap:
        ordered = _in_order(found, order)
        page = min(page, _pages(len(found), per_page))
        start = (page - 1) * per_page
        return len(found), False, page, [row.id for row in ordered[start:start + per_page]]
    page = min(page, _pages(cap, per_page))
    return cap, True, page, _newest_matches(session, conditions, search, order, page,
                                            per_page)


def _newest_matches(session: Session, conditions: list[ColumnElement[bool]],
                    search: ColumnElement[bool], order: Order, page: int,
                    per_page: int) -> list[int]:
    """A page of a search with many matches, walking the queue in its order and probing each
    case's search document (PostgreSQL).

    The walk is bounded: it reaches ``WALK_FACTOR`` cases for each match the page needs. A
    page it does not fill (the matches are rarer than that) comes from all the matches
    through the trigram index instead, of which there are few then. SQLite always takes them
    all: it would walk the queue through its date index whatever other filter has an index
    of its own, and FTS5 would run the query again for every case it probes."""
    if session.get_bind().dialect.name != "sqlite":
        newest = (select(Case.id, Case.created_at, Case.due_at).where(*conditions)
                  .order_by(*_order(order)).limit(page * per_page * WALK_FACTOR).subquery())
        # A scalar subquery, not IN or EXISTS, which the planner may turn into a join that
        # hashes every match before it gives the first row: probed case by case, the walk
        # stops at the page's last match.
        probe = (select(Case.id).where(Case.id == newest.c.id, search).limit(1)
                 .scalar_subquery())
        ids = list(session.scalars(
            select(newest.c.id).where(probe.is_not(None)).order_by(*_order(order, newest.c))
            .limit(per_page).offset((page - 1) * per_page)))
        if len(ids) == per_page:
            return ids
    # OFFSET 0 keeps the matches a subquery of their own: planned for finding them all, not
    # for the first few in order.
    matches = (select(Case.id, Case.created_at, Case.due_at).where(*conditions, search)
               .offset(0).subquery())
    return list(session.scalars(select(matches.c.id).order_by(*_order(order, matches.c))
                                .limit(per_page).offset((page - 1) * per_page)))


def _in_order(rows: Sequence[Row], order: Order) -> list[Row]:
    """``_order`` in Python, for rows of (id, created_at, due_at)."""
    if order is Order.MOST_URGENT:
        return sorted(rows, key=lambda row: (row.due_at, row.id))
    if order is Order.LATEST_ID:
        return sorted(rows, key=lambda row: row.id, reverse=True)
    return sorted(rows, key=lambda row: (row.created_at, row.id), reverse=True)


def latest_ids(session: Session, user: User, filters: QueueFilters, *, below: int | None,
               limit: int) -> list[int]:
    """Up to ``limit`` ids of the cases this user may list that match the filters, highest
    first and below ``below`` when it is given (the API's cursor pages). Nothing is counted:
    a search walks the cases as the queue's pages do, and a rare word does not make it walk
    the whole table."""
    conditions, search = _matching_parts(session, user, filters, utcnow(), UTC)
    if below is not None:
        conditions.append(Case.id < below)
    if search is None:
        return _page_ids(session, conditions, Order.LATEST_ID, 1, limit)
    return _newest_matches(session, conditions, search, Order.LATEST_ID, 1, limit)


def _matching_parts(session: Session, user: User, filters: QueueFilters, now: datetime,
                    tz: tzinfo) -> tuple[list[ColumnElement[bool]], ColumnElement[bool] | None]:
    """The conditions of every filter but the text, and the text's (None: no search)."""
    conditions = _conditions(user, filters, now, tz)
    search = _search(session, user, filters.text) if filters.text else None
    return conditions, search


def assignable_users(session: Session) -> list[User]:
    """Active staff who can be given cases (officers and PSEA focal points)."""
    return list(session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES))
        .order_by(User.name, User.email)))


def bulk_assign(session: Session, actor: User, case_ids: Iterable[int], assignee: User
                ) -> BulkResult:
    """Assign the cases the actor may triage (and the assignee may handle); commit once."""
    if not assignee.active or assignee.role not in ASSIGNABLE_ROLES:
        raise BulkError("assignee_not_allowed")
    wanted = _unique(case_ids)
    done = 0
    try:
        for case in _load(session, wanted):
            if not (can(actor, Action.TRIAGE, case) and can(assignee, Action.TRIAGE, case)):
                continue
            done += 1
            if case.assignee_id == assignee.id:
                continue
            audit.record(session, "case.assigned", case=case, actor=actor.email,
                         assignee_id=[case.assignee_id, assignee.id], bulk=True)
            case.assignee = assignee
        session.commit()
    except Exception:
        session.rollback()
        raise
    return BulkResult(done=done, refused=len(wanted) - done)


def bulk_close_duplicate(session: Session, actor: User, case_ids: Iterable[int],
                         duplicate_of_reference: str, *, now: datetime | None = None
                         ) -> BulkResult:
    """Close the cases as duplicates of another case the actor may open; commit once."""
    reference = ascii_digits(duplicate_of_reference.strip())
    if not is_valid_reference(reference):
        raise BulkError("invalid_reference")
    target = session.scalars(select(Case).where(Case.reference == reference)).first()
    if target is None or not can(actor, Action.VIEW, target):
        raise BulkError("unknown_reference")  # the same answer: no hint that it exists
    if target.merged_into_id is not None:
        raise BulkError("target_is_duplicate")
    now = now or utcnow()
    wanted = _unique(case_ids)
    done = 0
    try:
        for case in _load(session, wanted):
            if case.id == target.id or not case.is_open or not can(actor, Action.CLOSE, case):
                continue
            audit.record(session, "case.closed", case=case, actor=actor.email,
                         status=[case.status, CaseStatus.CLOSED.value],
                         within_deadline=now <= case.due_at, duplicate_of=target.reference,
                         into_case_id=target.id, bulk=True)
            case.status = CaseStatus.CLOSED
            case.closed_at = now
            case.resolution = None  # the page shows the merge link (cases.resolution)
            case.merged_into_id = target.id
            done += 1
        session.commit()
    except Exception:
        session.rollback()
        raise
    return BulkResult(done=done, refused=len(wanted) - done)


def reference_query(text: str) -> str | None:
    """The reference a search is, when it is 7 digits (Arabic-Indic digits allowed)."""
    candidate = ascii_digits(text.strip())
    return candidate if _REFERENCE_QUERY.fullmatch(candidate) else None


def search_terms(text: str) -> list[str]:
    return normalize_for_matching(text).split()[:MAX_SEARCH_TERMS]


# --- query building --------------------------------------------------------------------------

def _conditions(user: User, filters: QueueFilters, now: datetime, tz: tzinfo
                ) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [listed_cases(user)]
    if filters.status != CaseStatus.CLOSED:
        conditions.append(Case.merged_into_id.is_(None))
    if filters.needs_action:
        conditions.append(_needs_action(now))
    if filters.status is not None:
        conditions.append(Case.status == filters.status)
    if filters.level is not None:
        conditions.append(Case.level == filters.level)
    if filters.overdue is not None:
        late = and_(Case.status != CaseStatus.CLOSED, Case.due_at < now)
        conditions.append(late if filters.overdue else ~late)
    if filters.created_from is not None:
        conditions.append(Case.created_at >= _start_of(filters.created_from, tz))
    if filters.created_to is not None:
        conditions.append(Case.created_at < _start_of(filters.created_to + timedelta(days=1), tz))
    if filters.restricts_content():
        conditions.append(viewable_cases(user))
    conditions.extend(_content_conditions(filters))
    return conditions


def _content_conditions(filters: QueueFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.category is not None:
        conditions.append(Case.category == filters.category)
    if filters.channel is not None:
        conditions.append(Case.channel == filters.channel)
    if filters.location == UNKNOWN_LOCATION:
        conditions.append(Case.location.is_(None))
    elif filters.location is not None:
        conditions.append(or_(Case.location == filters.location,
                              Case.location.like(_escape_like(filters.location) + "-%",
                                                 escape="\\")))
    if filters.unassigned:
        conditions.append(Case.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        conditions.append(Case.assignee_id == filters.assignee_id)
    return conditions


def _needs_action(now: datetime) -> ColumnElement[bool]:
    """New; or still open and overdue, a reply failed, or a referral was answered."""
    return and_(
        Case.status.in_(OPEN_STATUSES),  # lets the (status, due_at) index narrow the scan
        or_(Case.status == CaseStatus.NEW, Case.due_at < now,
            Case.delivery_failed_at.is_not(None), _answered_referral()),
    )


def _answered_referral() -> ColumnElement[bool]:
    # IN over one list rather than EXISTS per case: PostgreSQL hashes it either way, but costs
    # the EXISTS so high that it compiles the query (JIT), which alone takes ~80 ms.
    return Case.id.in_(select(Referral.case_id).where(Referral.answered_at.is_not(None)))


def _search(session: Session, user: User, text: str) -> ColumnElement[bool] | None:
    """The case with that reference, when the query is the reference of a case this user may
    list (an indexed look-up first, so that going to a case by reference stays instant);
    otherwise the cases the user may open where every term occurs in some message."""
    reference = reference_query(text)
    if reference is not None and session.scalar(
            select(Case.id).where(Case.reference == reference, listed_cases(user))) is not None:
        return Case.reference == reference
    terms = search_terms(text)
    if not terms:
        return None
    documents = _documents_with(terms, session.get_bind().dialect.name)
    return and_(viewable_cases(user), Case.id.in_(documents))


def _documents_with(terms: list[str], dialect: str) -> Select:
    """The ids of the cases whose search document (their inbound messages, see
    ``casework.models.SEARCH_TABLE``) contains every term, through the trigram index.

    Terms shorter than a trigram cannot use the index: they are checked on the documents the
    other terms found (or on every document, when no term is long enough)."""
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    short_terms = [term for term in terms if len(term) < TRIGRAM]
    text = _CASE_SEARCH.c.search_text
    if dialect == "sqlite":  # FTS5: one MATCH of literal phrases (a phrase is a substring)
        contains = [func.instr(text, term) > 0 for term in short_terms]
        if long_terms:
            contains.append(text.match(" AND ".join(_phrase(term) for term in long_terms)))
        return select(_CASE_SEARCH.c.rowid).where(*contains)
    contains = [func.strpos(text, term) > 0 for term in short_terms]
    contains += [text.like(f"%{_escape_like(term)}%", escape="\\") for term in long_terms]
    return select(_CASE_SEARCH.c.case_id).where(*contains)


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _order(order: Order, columns: Any = Case) -> Sequence[ColumnElement]:
    """The order's columns, on Case or on the columns of a subquery of cases."""
    if order is Order.MOST_URGENT:  # needs action: every case there is still open
        return (columns.due_at.asc(), columns.id.asc())
    if order is Order.LATEST_ID:
        return (columns.id.desc(),)
    return (columns.created_at.desc(), columns.id.desc())


def _previews(session: Session, case_ids: set[int]) -> dict[int, str]:
    """The start of each case's first inbound message, in one query."""
    if not case_ids:
        return {}
    first = (select(func.min(Message.id))
             .where(Message.case_id.in_(case_ids), Message.direction == Direction.INBOUND,
                    Message.body.is_not(None), Message.body != "")
             .group_by(Message.case_id))
    rows = session.execute(select(Message.case_id, Message.body).where(Message.id.in_(first)))
    return {case_id: _shorten(body or "") for case_id, body in rows}


def _shorten(body: str) -> str:
    body = " ".join(body.split())
    return body if len(body) <= PREVIEW_LENGTH else body[:PREVIEW_LENGTH - 1].rstrip() + "…"


def _start_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _unique(case_ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(case_ids))


def _load(session: Session, case_ids: Sequence[int]) -> list[Case]:
    if not case_ids:
        return []
    return list(session.scalars(
        select(Case).where(Case.id.in_(case_ids)).options(selectinload(Case.referrals))
        .order_by(Case.id)))
