"""The case queue: needs action, filters, Arabic search, role scoping, pages, bulk actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from werkzeug.test import TestResponse

import casework.queue as queue_module
from casework.access import Action, can
from casework.models import AuditEvent, Case, CaseStatus, Referral, User, utcnow
from casework.queue import QueueFilters, find_cases
from casework.references import new_reference
from extensions import db

NewCase = Callable[..., Case]
SignedIn = Callable[..., FlaskClient]
MakeUser = Callable[..., User]

_REF = re.compile(r'<td class="ref" dir="ltr">(?:<a [^>]*>)?(\d{7})')
# A notice at the top of the page, or a filter's error under its field.
_NOTICE = re.compile(r'<p class="flash (?:error|info)" role="status">(.*?)</p>'
                     r'|<span class="error">(.*?)</span>', re.S)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN_ARABIC_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _refs(response: TestResponse) -> list[str]:
    assert response.status_code == 200, _html(response)[:500]
    return _REF.findall(_html(response))


def _notices(response: TestResponse) -> list[str]:
    return [at_top or under_field for at_top, under_field in _NOTICE.findall(_html(response))]


def _get(client: FlaskClient, query: str = "") -> TestResponse:
    separator = "&" if query else ""
    return client.get(f"/admin/queue?lang=en{separator}{query}")


def _set(case: Case, **values: object) -> Case:
    for name, value in values.items():
        setattr(case, name, value)
    db.session.commit()
    return case


def _refer(case: Case, to_user: User, answered: bool = False) -> Referral:
    now = utcnow()
    referral = Referral(case_id=case.id, to_user_id=to_user.id, message="", due_at=now
                        + timedelta(days=3), answer="ok" if answered else None,
                        answered_at=now if answered else None)
    db.session.add(referral)
    db.session.commit()
    return referral


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


# --- the default view: needs action ----------------------------------------------------------

DAY = timedelta(days=1)


def _staff(role: str, email: str, active: bool = True) -> User:
    """A colleague who never signs in here (no password hashing: faster than make_user)."""
    user = User(email=email, role=role, name=email.split("@")[0], password_hash="-",
                locations=[], active=active)
    db.session.add(user)
    db.session.commit()
    return user


def _focal_point() -> User:
    return _staff("focal_point", "fp-other@example.org")


NEEDS_ACTION_CASES = [
    # label, changes to a new case (None: a referral), expected in the default view
    ("new", {}, True),
    ("open-in-time", {"status": CaseStatus.OPEN}, False),
    ("open-overdue", {"status": CaseStatus.OPEN, "due_at": "past"}, True),
    ("referred-overdue", {"status": CaseStatus.REFERRED, "due_at": "past"}, True),
    ("closed-overdue", {"status": CaseStatus.CLOSED, "due_at": "past"}, False),
    ("open-reply-failed", {"status": CaseStatus.OPEN, "delivery_failed_at": "now"}, True),
    ("closed-reply-failed", {"status": CaseStatus.CLOSED, "delivery_failed_at": "now"},
     False),
    ("referral-answered", {"status": CaseStatus.REFERRED, "referral": "answered"}, True),
    ("referral-pending", {"status": CaseStatus.REFERRED, "referral": "pending"}, False),
    ("closed-referral-answered", {"status": CaseStatus.CLOSED, "referral": "answered"},
     False),
]


@pytest.mark.parametrize(("changes", "expected"),
                         [pytest.param(c, e, id=label) for label, c, e in NEEDS_ACTION_CASES])
def test_default_view_is_needs_action(signed_in: SignedIn, new_case: NewCase,
                                      changes: dict, expected: bool) -> None:
    client = signed_in("officer")
    case = new_case()
    now = utcnow()
    values = dict(changes)
    referral = values.pop("referral", None)
    if values.get("due_at") == "past":
        values["due_at"] = now - DAY
    if values.get("delivery_failed_at") == "now":
        values["delivery_failed_at"] = now
    _set(case, **values)
    if referral:
        _refer(case, _focal_point(), answered=referral == "answered")
    assert (case.reference in _refs(_get(client))) is expected
    assert case.reference in _refs(_get(client, "view=all"))  # every listed case is there


def test_needs_action_puts_the_earliest_deadline_first(signed_in: SignedIn,
                                                       new_case: NewCase) -> None:
    client = signed_in("officer")
    now = utcnow()
    later, overdue, soon = new_case(), new_case(), new_case()
    _set(later, due_at=now + 9 * DAY)
    _set(overdue, status=CaseStatus.OPEN, due_at=now - 2 * DAY)
    _set(soon, due_at=now + DAY)
    assert _refs(_get(client)) == [overdue.reference, soon.reference, later.reference]
    # The other views show the newest first.
    assert _refs(_get(client, "view=all")) == [soon.reference, overdue.reference,
                                              later.reference]


def test_an_empty_needs_action_view_says_so(signed_in: SignedIn) -> None:
    response = _get(signed_in("officer"))
    assert response.status_code == 200 and "Nothing needs action right now." in _html(response)


# --- filters -----------------------------------------------------------------------------------

@pytest.fixture
def filter_cases(signed_in: SignedIn, new_case: NewCase
                 ) -> tuple[FlaskClient, dict[str, Case]]:
    """A signed-in officer and cases A-E that differ in every filtered field."""
    client = signed_in("officer")
    officer: User = client.user  # type: ignore[attr-defined]
    now = utcnow()
    cases = {name: new_case() for name in "ABCDE"}
    _set(cases["A"], status=CaseStatus.OPEN, level=2, category="shelter", location="SY-ID-01",
         assignee_id=officer.id, created_at=datetime(2024, 3, 10, 12, tzinfo=UTC),
         due_at=now + 5 * DAY)
    _set(cases["B"], status=CaseStatus.REFERRED, level=3, category="health", channel="telegram",
         location="IQ-NI", created_at=datetime(2024, 5, 1, 9, tzinfo=UTC), due_at=now - DAY)
    _set(cases["C"], status=CaseStatus.CLOSED, level=1, category="shelter", channel="in_person",
         created_at=datetime(2024, 6, 1, 9, tzinfo=UTC), closed_at=now, due_at=now - DAY)
    # D stays new, created now. E is a duplicate merged into A (hidden but from "closed").
    _set(cases["E"], status=CaseStatus.CLOSED, merged_into_id=cases["A"].id, closed_at=now,
         created_at=datetime(2024, 6, 2, 9, tzinfo=UTC))
    return client, cases


FILTERS = [
    ("status-open", "status=open", "A"),
    ("status-referred", "status=referred", "B"),
    ("status-new", "status=new", "D"),
    ("status-closed-shows-duplicates", "status=closed", "CE"),
    ("level", "level=3", "B"),
    ("level-arabic-digits", "level=٢", "A"),
    ("category", "category=shelter", "AC"),
    ("channel", "channel=telegram", "B"),
    ("channel-simulator", "channel=simulator", "AD"),
    ("channel-entered-by-hand", "channel=in_person", "C"),
    ("location-governorate-includes-districts", "location=SY-ID", "A"),
    ("location-district", "location=SY-ID-01", "A"),
    ("location-other-governorate", "location=IQ-NI", "B"),
    ("location-not-known", "location=none", "CD"),
    ("assignee-me", "assignee=me", "A"),
    ("assignee-by-id", "assignee={officer_id}", "A"),
    ("assignee-nobody", "assignee=none", "BCD"),
    ("overdue", "overdue=yes", "B"),
    ("not-overdue", "overdue=no", "ACD"),
    ("from", "from=2024-05-01", "BCD"),
    ("to", "to=2024-04-30", "A"),
    ("range", "from=2024-03-01&to=2024-05-31", "AB"),
    ("range-one-day", "from=2024-05-01&to=2024-05-01", "B"),
    ("from-arabic-indic-digits", "from=٢٠٢٤-٠٥-٠١", "BCD"),
    ("all-hides-duplicates", "view=all", "ABCD"),
    ("needs-action", "view=needs_action", "BD"),
    ("needs-action-and-status", "view=needs_action&status=open", ""),
    ("combined", "category=shelter&status=closed", "C"),
]


@pytest.mark.parametrize(("query", "expected"),
                         [pytest.param(q, e, id=label) for label, q, e in FILTERS])
def test_filters(filter_cases: tuple[FlaskClient, dict[str, Case]], query: str,
                 expected: str) -> None:
    client, cases = filter_cases
    query = query.format(officer_id=client.user.id)  # type: ignore[attr-defined]
    response = _get(client, query)
    assert _notices(response) == []
    assert sorted(_refs(response)) == sorted(cases[name].reference for name in expected)


def test_dates_are_shown_in_the_configured_time_zone(
    filter_cases: tuple[FlaskClient, dict[str, Case]],
) -> None:
    client, cases = filter_cases
    _set(cases["A"], created_at=datetime(2024, 3, 10, 21, 30, tzinfo=UTC))
    html = _html(_get(client, "status=open"))
    assert "2024-03-11 00:30" in html  # Asia/Damascus, UTC+3
    # The date range is in that zone too: 00:30 on the 11th belongs to the 11th.
    assert _refs(_get(client, "from=2024-03-11&to=2024-03-11")) == [cases["A"].reference]


@pytest.mark.parametrize(("lang", "name"), [
    pytest.param("ar", "وجهاً لوجه (زيارة ميدانية، توزيع، مكتب المساعدة)", id="arabic"),
    pytest.param("en", "In person (field visit, distribution, help desk)", id="english"),
])
def test_channels_are_named_in_the_readers_language(
    filter_cases: tuple[FlaskClient, dict[str, Case]], lang: str, name: str,
) -> None:
    client, _cases = filter_cases
    html = _html(client.get(f"/admin/queue?lang={lang}&channel=in_person"))
    assert f'<option value="in_person" selected>{name}</option>' in html  # the filter
    assert f"<td>{name}</td>" in html  # the case's row
    assert "<td>in_person</td>" not in html


@pytest.mark.parametrize(("query", "english_link"), [
    pytest.param("lang=ar&view=all&status=closed", "?view=all&amp;status=closed&amp;lang=en",
                 id="filters-kept"),
    pytest.param("lang=ar&q=%D8%B3%D9%84%D8%A9", "?q=%D8%B3%D9%84%D8%A9&amp;lang=en",
                 id="arabic-search-kept"),
    pytest.param("lang=ar", "?lang=en", id="no-filters"),
])
def test_switching_language_keeps_the_filters(
    filter_cases: tuple[FlaskClient, dict[str, Case]], query: str, english_link: str,
) -> None:
    client, _cases = filter_cases
    html = _html(client.get(f"/admin/queue?{query}"))
    assert f'<a href="{english_link}" lang="en" hreflang="en">English</a>' in html


def test_overdue_cases_carry_a_badge(filter_cases: tuple[FlaskClient, dict[str, Case]]
                                     ) -> None:
    client, _cases = filter_cases
    assert 'class="badge overdue"' in _html(_get(client, "status=referred"))
    assert 'class="badge overdue"' not in _html(_get(client, "status=open"))


BAD_VALUES = [
    ("status", "status=bogus", "Status"),
    ("level-not-in-grid", "level=99", "Level"),
    ("level-not-a-number", "level=abc", "Level"),
    ("category", "category=nope", "Category"),
    ("channel", "channel=fax", "Channel"),
    ("location", "location=XX-99", "Location"),
    ("assignee", "assignee=someone", "Assigned to"),
    ("overdue", "overdue=maybe", "Overdue"),
    ("impossible-date", "from=2024-02-30", "Received from"),
    ("not-a-date", "to=yesterday", "Received until"),
    ("page-zero", "page=0", "Page"),
    ("page-negative", "page=-1", "Page"),
    ("page-words", "page=two", "Page"),
    ("view", "view=everything", "Show"),
    ("reversed-range", "from=2024-06-01&to=2024-01-01", "ends before it starts"),
]


@pytest.mark.parametrize(("query", "mentioned"),
                         [pytest.param(q, m, id=label) for label, q, m in BAD_VALUES])
def test_bad_filter_values_are_ignored_with_a_message(
    filter_cases: tuple[FlaskClient, dict[str, Case]], query: str, mentioned: str,
) -> None:
    client, cases = filter_cases
    response = _get(client, query)
    assert response.status_code == 200
    notices = _notices(response)
    assert len(notices) == 1 and mentioned in notices[0]
    # The bad value is dropped: the page shows what it shows without it (the default view).
    assert _refs(response) == _refs(_get(client)) == sorted(
        (cases["B"].reference, cases["D"].reference),
        key=lambda ref: ref != cases["B"].reference)  # overdue B first, then new D


def test_a_good_filter_survives_a_bad_one(filter_cases: tuple[FlaskClient, dict[str, Case]]
                                          ) -> None:
    client, cases = filter_cases
    response = _get(client, "status=open&level=zzz")
    assert _refs(response) == [cases["A"].reference] and len(_notices(response)) == 1


# --- search ------------------------------------------------------------------------------------

SEARCH_TEXTS = {
    "rent": "أريد مساعدة في الإيجار",
    "school": "المدرسة بعيدة جدا",
    "hospital": "المستشفى مغلق",
    "food": "الطَّعَامُ فاسِدٌ",
    "bread": "الخــــبز ناقص",
    "basket": "السلة الغذائية ناقصة والماء مقطوع",
    "number": "رقم البطاقة ٥٥٥٠١٢٣ والحالة قديمة",
}

SEARCHES = [
    ("alef-without-hamza", "اريد", {"rent"}),
    ("hamza-below-for-above", "إريد", {"rent"}),
    ("madda-for-hamza", "آريد", {"rent"}),
    ("hamza-in-the-text-plain-query", "الايجار", {"rent"}),
    ("haa-for-taa-marbuta", "المدرسه", {"school"}),
    ("taa-marbuta-as-written", "المدرسة", {"school"}),
    ("yaa-for-alef-maqsura", "المستشفي", {"hospital"}),
    ("diacritics-in-text-ignored", "الطعام فاسد", {"food"}),
    ("diacritics-in-query-ignored", "الطَعام", {"food"}),
    ("tatweel-in-text-ignored", "الخبز", {"bread"}),
    ("tatweel-in-query-ignored", "الخـبز", {"bread"}),
    ("part-of-a-word", "غذائي", {"basket"}),
    ("two-terms-and", "السله الماء", {"basket"}),
    ("two-terms-in-different-cases", "السله الخبز", set()),
    ("shared-word", "ناقص", {"bread", "basket"}),
    ("taa-marbuta-query-matches-haa-nowhere-else", "قديمه", {"number"}),
    ("no-match", "كهرباء", set()),
    ("like-wildcard-is-literal", "_", set()),
    ("punctuation-only", "!!!", set(SEARCH_TEXTS)),  # nothing to search: no filter
    ("reference-ascii", "{school}", {"school"}),
    ("reference-arabic-indic-digits", "{school:arabic}", {"school"}),
    ("reference-eastern-arabic-indic-digits", "{school:persian}", {"school"}),
    ("reference-with-spaces", "  {school}  ", {"school"}),
    ("seven-digits-not-a-reference-search-the-text", "5550123", {"number"}),
    ("digits-in-text-match-arabic-indic-query", "٥٥٥٠١٢٣", {"number"}),
]


@pytest.fixture
def search_cases(signed_in: SignedIn, new_case: NewCase) -> tuple[FlaskClient, dict[str, Case]]:
    client = signed_in("officer")
    return client, {name: new_case(text) for name, text in SEARCH_TEXTS.items()}


def _query_for(template: str, cases: dict[str, Case]) -> str:
    def reference(match: re.Match[str]) -> str:
        name, _, digits = match.group(1).partition(":")
        ref = cases[name].reference
        return ref.translate({"arabic": ARABIC_INDIC, "persian": EASTERN_ARABIC_INDIC}
                             .get(digits, {}))
    return re.sub(r"\{([\w:]+)\}", reference, template)


@pytest.mark.parametrize(("query", "expected"),
                         [pytest.param(q, e, id=label) for label, q, e in SEARCHES])
def test_search_treats_arabic_forms_alike(search_cases: tuple[FlaskClient, dict[str, Case]],
                                         query: str, expected: set[str]) -> None:
    client, cases = search_cases
    response = client.get("/admin/queue", query_string={"q": _query_for(query, cases),
                                                        "lang": "en"})
    assert sorted(_refs(response)) == sorted(cases[name].reference for name in expected)


def test_search_keeps_its_text_in_the_form_escaped(signed_in: SignedIn) -> None:
    html = _html(signed_in("officer").get("/admin/queue",
                                          query_string={"q": '"><script>x</script>'}))
    assert "<script>x</script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html


# --- who sees what -----------------------------------------------------------------------------

@pytest.fixture
def scoped_cases(new_case: NewCase) -> dict[str, Case]:
    return {
        "idlib": new_case("الماء مقطوع في إدلب", location="SY-ID-01"),
        "aleppo": new_case("الماء مقطوع في حلب", location="SY-HL-02"),
        "unknown": new_case("الماء مقطوع"),
        "sensitive": new_case("الماء مقطوع والموظف طلب مالا", sensitive=True,
                              location="SY-ID-01"),
        "referred": new_case("الماء مقطوع في الموصل", location="IQ-NI-01"),
    }


ROLE_SCOPES = [
    ("officer-with-locations", "officer", ["SY-ID"], {"idlib", "unknown", "sensitive"}),
    ("officer-two-locations", "officer", ["SY-ID", "IQ-NI"],
     {"idlib", "unknown", "sensitive", "referred"}),
    ("officer-everywhere", "officer", None,
     {"idlib", "aleppo", "unknown", "sensitive", "referred"}),
    ("psea", "psea", None, {"sensitive"}),
    ("focal-point", "focal_point", None, {"referred"}),
]


@pytest.mark.parametrize(("role", "locations", "expected"),
                         [pytest.param(r, loc, e, id=label) for label, r, loc, e in ROLE_SCOPES])
def test_each_role_sees_its_cases(signed_in: SignedIn, scoped_cases: dict[str, Case],
                                  role: str, locations: list[str] | None, expected: set[str]
                                  ) -> None:
    client = signed_in(role, locations=locations)
    user: User = client.user  # type: ignore[attr-defined]
    focal = user if role == "focal_point" else _focal_point()
    _refer(scoped_cases["referred"], focal)
    for query in ("view=all", "q=الماء"):
        listed = set(_refs(_get(client, query)))
        shown = {name for name, case in scoped_cases.items() if case.reference in listed}
        # A search looks only into cases the user may open.
        wanted = expected - {"sensitive"} if query.startswith("q=") and role == "officer" \
            else expected
        assert shown == wanted, query


def test_focal_point_has_no_bulk_actions(signed_in: SignedIn, scoped_cases: dict[str, Case]
                                         ) -> None:
    client = signed_in("focal_point")
    _refer(scoped_cases["referred"], client.user)  # type: ignore[attr-defined]
    html = _html(_get(client, "view=all"))
    assert scoped_cases["referred"].reference in html
    assert 'name="case_id"' not in html and "/admin/queue/bulk" not in html
    response = client.post("/admin/queue/bulk", data={
        "action": "assign", "case_id": str(scoped_cases["referred"].id)})
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_roles_without_case_content_are_refused(signed_in: SignedIn, role: str) -> None:
    client = signed_in(role)
    assert client.get("/admin/queue").status_code == 403
    assert client.post("/admin/queue/bulk", data={"action": "assign"}).status_code == 403


def test_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/queue")
    assert response.status_code == 302 and "/admin/login" in response.location


SECRET_TEXT = "المدير طلب رشوة مقابل السلة"


@pytest.fixture
def sensitive_case(new_case: NewCase) -> Case:
    return _set(new_case(SECRET_TEXT, sensitive=True, location="SY-ID-01"),
                category="fraud_corruption", urgent=True)


def _rows(response: TestResponse) -> str:
    found = re.search(r"<tbody>(.*)</tbody>", _html(response), re.S)
    assert found is not None
    return found.group(1)


def test_officer_sees_a_sensitive_case_only_as_restricted(signed_in: SignedIn,
                                                          sensitive_case: Case) -> None:
    response = _get(signed_in("officer"), "view=all")
    assert SECRET_TEXT not in _html(response) and "رشوة" not in _html(response)
    html = _rows(response)
    assert sensitive_case.reference in html and 'class="badge restricted"' in html
    for hidden in ("رشوة", "Fraud and corruption", "Idlib", "Simulator",
                   f"/admin/cases/{sensitive_case.reference}", 'name="case_id"',
                   'class="badge urgent"', "Not known yet"):
        assert hidden not in html, hidden


def test_psea_sees_the_sensitive_case_in_full(signed_in: SignedIn, sensitive_case: Case
                                              ) -> None:
    html = _rows(_get(signed_in("psea"), "view=all"))
    assert SECRET_TEXT in html and "Fraud and corruption" in html
    assert f'href="/admin/cases/{sensitive_case.reference}"' in html
    assert 'class="badge restricted"' not in html and 'class="badge sensitive"' in html


CONTENT_PROBES = [
    ("search-word", "q=رشوه", False),
    ("category", "category=fraud_corruption", False),
    ("location", "location=SY-ID-01", False),
    ("channel", "channel=simulator", False),
    ("assignee", "assignee=none", False),
    ("reference", "q={reference}", True),
    ("level", "level=5", True),
]


@pytest.mark.parametrize(("query", "listed"),
                         [pytest.param(q, listed, id=label) for label, q, listed in CONTENT_PROBES])
def test_filters_do_not_reveal_restricted_content(signed_in: SignedIn, sensitive_case: Case,
                                                  query: str, listed: bool) -> None:
    """An officer cannot learn what a sensitive case says by filtering on it."""
    officer = signed_in("officer")
    psea = signed_in("psea")
    query = query.format(reference=sensitive_case.reference)
    assert (sensitive_case.reference in _refs(_get(officer, query))) is listed
    assert sensitive_case.reference in _refs(_get(psea, query))


def test_restricted_items_never_carry_a_preview(app: Flask, make_user: MakeUser,
                                                new_case: NewCase) -> None:
    officer = make_user("officer")
    open_case = new_case("نص عادي")
    secret = new_case(SECRET_TEXT, sensitive=True)
    page = find_cases(db.session, officer, QueueFilters(), 1)
    items = {item.case.reference: item for item in page.items}
    assert items[secret.reference].restricted and items[secret.reference].preview is None
    assert not items[open_case.reference].restricted
    assert items[open_case.reference].preview == "نص عادي"
    for item in page.items:
        assert item.restricted is not can(officer, Action.VIEW, item.case)


def test_beneficiary_markup_is_escaped(signed_in: SignedIn, new_case: NewCase) -> None:
    new_case("السلة <script>alert(1)</script> ناقصة")
    html = _html(_get(signed_in("officer")))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- pages and queries -------------------------------------------------------------------------

def _many_cases(count: int, **values: object) -> list[Case]:
    """Cases written directly (faster than the simulator), oldest first."""
    start = utcnow() - timedelta(hours=count)
    references: set[str] = set()
    while len(references) < count:  # random references collide about once in 500 pages
        references.add(new_reference())
    cases = [Case(reference=reference, channel="simulator", status=CaseStatus.NEW,
                  created_at=start + timedelta(hours=number), due_at=start + 15 * DAY,
                  **values)
             for number, reference in enumerate(sorted(references))]
    db.session.add_all(cases)
    db.session.commit()
    return cases


@pytest.mark.parametrize("view", ["all", "needs_action"])
@pytest.mark.parametrize(("page", "expected_rows", "expected_page"), [
    pytest.param("1", 50, 1, id="first"),
    pytest.param("2", 10, 2, id="second"),
    pytest.param("٢", 10, 2, id="arabic-indic-page-number"),
    pytest.param("99", 10, 2, id="past-the-end-shows-the-last"),
])
def test_pages_of_fifty(signed_in: SignedIn, view: str, page: str, expected_rows: int,
                        expected_page: int) -> None:
    client = signed_in("officer")
    cases = _many_cases(60)  # all due at once: needs action shows the first written first
    response = _get(client, f"view={view}&channel=simulator&page={page}")
    refs = _refs(response)
    assert len(refs) == expected_rows
    in_order = cases if view == "needs_action" else cases[::-1]
    assert refs == [case.reference for case in in_order][(expected_page - 1) * 50:
                                                        expected_page * 50]
    html = _html(response)
    assert f"Page {expected_page} of 2" in html and "60 cases" in html
    link = re.search(r'<a href="([^"]+)" rel="(?:next|prev)"', html)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert "channel=simulator" in target and f"view={view}" in target
    assert f"page={3 - expected_page}" in target


def test_page_loads_rows_without_a_query_per_row(app: Flask, make_user: MakeUser) -> None:
    officer = make_user("officer")
    statements: list[str] = []

    def count(*args: object) -> None:
        if not str(args[2]).startswith("BEGIN"):  # SQLite's transaction start
            statements.append(str(args[2]))

    for size in (3, 30):
        for case in _many_cases(size):  # each with its own assignee
            case.assignee = User(email=f"staff-{case.reference}@example.org", role="officer",
                                 password_hash="-", locations=[])
        db.session.commit()
        db.session.expunge_all()
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = find_cases(db.session, officer, QueueFilters(), 1)
            assert all(item.case.assignee is not None for item in page.items)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        # count, the page's ids, its rows, assignees, previews
        assert len(statements) <= 5, statements


# --- bulk actions ------------------------------------------------------------------------------

@pytest.fixture
def bulk_setup(signed_in: SignedIn, scoped_cases: dict[str, Case]
               ) -> tuple[FlaskClient, dict[str, Case]]:
    """An officer of Idlib; assignees of each kind; the scoped cases."""
    client = signed_in("officer", locations=["SY-ID"])
    _staff("officer", "colleague@example.org")
    _staff("psea", "psea2@example.org")
    _staff("viewer", "viewer@example.org")
    _staff("officer", "gone@example.org", active=False)
    return client, scoped_cases


def _user(email: str) -> User:
    user = db.session.scalars(select(User).where(User.email == email)).one()
    return user


def _post_bulk(client: FlaskClient, cases: list[Case], **data: str) -> TestResponse:
    return client.post("/admin/queue/bulk?lang=en",
                       data={"case_id": [str(case.id) for case in cases],
                             "next": "/admin/queue?view=all", **data})


ASSIGNMENTS = [
    # label, assignee, expected assigned cases
    ("to-a-colleague", "colleague@example.org", {"idlib", "unknown"}),
    ("to-myself", "officer@example.org", {"idlib", "unknown"}),
    ("psea-cannot-take-ordinary-cases", "psea2@example.org", set()),
]


@pytest.mark.parametrize(("assignee", "expected"),
                         [pytest.param(a, e, id=label) for label, a, e in ASSIGNMENTS])
def test_bulk_assign_touches_only_cases_in_scope(
    bulk_setup: tuple[FlaskClient, dict[str, Case]], assignee: str, expected: set[str],
) -> None:
    client, cases = bulk_setup
    target = _user(assignee)
    response = _post_bulk(client, list(cases.values()), action="assign",
                          assignee=str(target.id))
    assert response.status_code == 302 and response.location.endswith("/admin/queue?view=all")
    for name, case in cases.items():
        db.session.refresh(case)
        assert (case.assignee_id == target.id) is (name in expected), name
    events = _audit("case.assigned")
    assert {event.case_id for event in events} == {cases[name].id for name in expected}
    assert all(event.actor == "officer@example.org" and event.details["bulk"]
               for event in events)
    notices = " ".join(_notices(client.get("/admin/queue?view=all&lang=en")))
    refused = len(cases) - len(expected)
    assert f"{len(expected)} case" in notices and f"{refused} cases were left unchanged" \
        in notices


@pytest.mark.parametrize("assignee", [
    pytest.param("gone@example.org", id="inactive-officer"),
    pytest.param("viewer@example.org", id="viewer"),
    pytest.param("", id="nobody-chosen"),
    pytest.param("abc", id="not-a-number"),
])
def test_bulk_assign_needs_an_active_case_handler(
    bulk_setup: tuple[FlaskClient, dict[str, Case]], assignee: str,
) -> None:
    client, cases = bulk_setup
    value = str(_user(assignee).id) if "@" in assignee else assignee
    response = _post_bulk(client, [cases["idlib"]], action="assign", assignee=value)
    assert response.status_code == 302
    db.session.refresh(cases["idlib"])
    assert cases["idlib"].assignee_id is None and _audit("case.assigned") == []
    assert _notices(client.get("/admin/queue?lang=en"))


def test_psea_assigns_sensitive_cases_only(signed_in: SignedIn,
                                           scoped_cases: dict[str, Case]) -> None:
    client = signed_in("psea")
    colleague = _staff("psea", "psea2@example.org")
    _post_bulk(client, list(scoped_cases.values()), action="assign",
               assignee=str(colleague.id))
    assigned = {name for name, case in scoped_cases.items()
                if db.session.get(Case, case.id).assignee_id == colleague.id}  # type: ignore[union-attr]
    assert assigned == {"sensitive"}


def test_bulk_close_as_duplicate(bulk_setup: tuple[FlaskClient, dict[str, Case]],
                                 new_case: NewCase) -> None:
    client, cases = bulk_setup
    original = new_case("الماء مقطوع منذ أسبوع", location="SY-ID-02")
    chosen = [cases["idlib"], cases["unknown"], cases["aleppo"], cases["sensitive"], original]
    reference = original.reference.translate(ARABIC_INDIC)  # typed with Arabic-Indic digits
    _post_bulk(client, chosen, action="close_duplicate", duplicate_of=reference)
    for name, case in cases.items():
        db.session.refresh(case)
        closed = name in ("idlib", "unknown")
        assert (case.status == CaseStatus.CLOSED) is closed, name
        if closed:
            assert case.merged_into_id == original.id and case.closed_at is not None
            assert case.resolution is None  # the page says it from merged_into_id
    db.session.refresh(original)
    assert original.status == CaseStatus.NEW  # the target itself is never closed
    events = _audit("case.closed")
    assert {event.case_id for event in events} == {cases["idlib"].id, cases["unknown"].id}
    assert all(event.details["duplicate_of"] == original.reference for event in events)
    assert "3 cases were left unchanged" in " ".join(_notices(_get(client)))
    # Duplicates leave the lists, except when looking at closed cases.
    assert cases["idlib"].reference not in _refs(_get(client, "view=all"))
    assert cases["idlib"].reference in _refs(_get(client, "status=closed"))


@pytest.mark.parametrize(("target", "message"), [
    pytest.param("1234", "not a valid case reference", id="not-a-reference"),
    pytest.param("{unused}", "No case with this reference", id="unknown-reference"),
    pytest.param("{sensitive}", "No case with this reference", id="not-allowed-to-open"),
    pytest.param("{aleppo}", "No case with this reference", id="outside-my-locations"),
    pytest.param("{merged}", "itself closed as a duplicate", id="target-is-a-duplicate"),
    pytest.param("", "Give the reference", id="empty"),
])
def test_bulk_close_refuses_a_bad_target(bulk_setup: tuple[FlaskClient, dict[str, Case]],
                                         new_case: NewCase, target: str, message: str
                                         ) -> None:
    client, cases = bulk_setup
    merged = _set(new_case(location="SY-ID"), status=CaseStatus.CLOSED,
                  merged_into_id=cases["unknown"].id)
    unused = next(ref for ref in iter(new_reference, None)
                  if ref not in {case.reference for case in cases.values()})
    refs = {"unused": unused, "merged": merged.reference,
            **{name: case.reference for name, case in cases.items()}}
    _post_bulk(client, [cases["idlib"]], action="close_duplicate",
               duplicate_of=target.format(**refs))
    db.session.refresh(cases["idlib"])
    assert cases["idlib"].status == CaseStatus.NEW and _audit("case.closed") == []
    assert message in " ".join(_notices(_get(client)))


@pytest.mark.parametrize(("data", "message"), [
    pytest.param({"action": "assign"}, "Select at least one case", id="nothing-selected"),
    pytest.param({"action": "explode", "case_id": "1"}, "Choose what to do", id="bad-action"),
    pytest.param({"action": "assign", "case_id": "x"}, "Select at least one case",
                 id="bad-case-id"),
])
def test_bulk_form_mistakes_are_explained(signed_in: SignedIn, data: dict[str, str],
                                          message: str) -> None:
    client = signed_in("officer")
    response = client.post("/admin/queue/bulk?lang=en", data=data)
    assert response.status_code == 302
    assert message in " ".join(_notices(_get(client)))


def test_bulk_next_stays_inside_the_console(signed_in: SignedIn) -> None:
    response = signed_in("officer").post("/admin/queue/bulk", data={
        "action": "assign", "next": "https://evil.example/"})
    assert response.location.endswith("/admin/queue")


def test_bulk_actions_need_the_csrf_token(app: Flask, signed_in: SignedIn,
                                          scoped_cases: dict[str, Case]) -> None:
    client = signed_in("officer")
    officer: User = client.user  # type: ignore[attr-defined]
    app.config["WTF_CSRF_ENABLED"] = True
    data = {"action": "assign", "assignee": str(officer.id),
            "case_id": str(scoped_cases["idlib"].id)}
    assert client.post("/admin/queue/bulk", data=data).status_code == 400
    db.session.refresh(scoped_cases["idlib"])
    assert scoped_cases["idlib"].assignee_id is None
    token = re.search(r'name="csrf_token" value="([^"]+)"', _html(_get(client, "view=all")))
    assert token is not None
    response = client.post("/admin/queue/bulk", data={**data, "csrf_token": token.group(1)})
    assert response.status_code == 302
    db.session.refresh(scoped_cases["idlib"])
    assert scoped_cases["idlib"].assignee_id == officer.id


def test_the_page_is_arabic_by_default_and_has_no_inline_script_or_style(
    signed_in: SignedIn, new_case: NewCase,
) -> None:
    new_case()
    html = _html(signed_in("officer").get("/admin/queue"))
    assert 'dir="rtl"' in html
    assert "<script" not in html and "style=" not in html and "<style" not in html


def test_a_search_with_more_matches_than_it_counts_says_so(
        signed_in: Callable[..., FlaskClient], new_case: Callable[..., Case],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_module, "SEARCH_COUNT_CAP", 2)
    for text in ("المازوت ما وصل", "وين المازوت", "المازوت غالي", "الكهرباء مقطوعة"):
        new_case(text)
    client = signed_in("officer")
    html = _get(client, "view=all&q=مازوت").get_data(as_text=True)
    assert "More than 2 cases match: add a word to narrow the search." in html
    html = _get(client, "view=all&q=الكهرباء").get_data(as_text=True)
    assert "1 case" in html and "More than" not in html
