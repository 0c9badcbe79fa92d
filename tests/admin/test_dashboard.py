"""The dashboard: who may see it, what it shows (counts only), drill-down links to the queue,
period parsing and the monthly report download."""

from __future__ import annotations

import colorsys
import io
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from html import unescape
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework.models import AuditEvent, Case, CaseStatus, utcnow
from casework.report_files import kept_path
from extensions import db
from services import services

SignedIn = Callable[..., FlaskClient]
DAMASCUS = ZoneInfo("Asia/Damascus")
MARCH = "from=2026-03-01&to=2026-03-31"
_LINK = re.compile(r'href="(/admin/queue\?[^"]*)"')
_TILE = re.compile(r'<span class="dash-value"><bdi>([^<]*)</bdi></span>'
                   r'<span class="dash-label">([^<]*)</span>')
_NOTICE = re.compile(r'<p class="flash error" role="status">(.*?)</p>', re.S)


def _case(reference: str, created: datetime, *, channel: str = "sms", level: int | None = 1,
          category: str | None = "wash", location: str | None = "SY-ID-01",
          sensitive: bool = False, closed: datetime | None = None) -> Case:
    case = Case(reference=reference, channel=channel, level=level, category=category,
                location=location, sensitive=sensitive, created_at=created,
                last_activity_at=created, due_at=created + timedelta(days=15),
                closed_at=closed, status=CaseStatus.CLOSED if closed else CaseStatus.OPEN)
    db.session.add(case)
    db.session.commit()
    return case


@pytest.fixture
def march(app_context: None) -> dict[str, Case]:
    day = datetime(2026, 3, 10, 12, tzinfo=DAMASCUS)
    return {
        "plain": _case("4000001", day, closed=day + timedelta(days=3)),
        "telegram": _case("4000002", day, channel="telegram", level=None, location=None),
        "sensitive": _case("4000003", day, level=5, category="sexual_exploitation_abuse",
                           sensitive=True),
        "february": _case("4000004", datetime(2026, 2, 27, 12, tzinfo=DAMASCUS)),
    }


def _html(response: TestResponse) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def _tiles(html: str) -> dict[str, str]:
    return {label: value for value, label in _TILE.findall(html)}


def _links(html: str) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(unescape(link)).query) for link in _LINK.findall(html)]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        pytest.param("admin", 200, id="admin"),
        pytest.param("officer", 200, id="officer"),
        pytest.param("psea", 200, id="psea"),
        pytest.param("viewer", 200, id="viewer"),
        pytest.param("focal_point", 403, id="focal_point"),
        pytest.param(None, 302, id="anonymous"),
    ],
)
@pytest.mark.parametrize("path", ["/admin/dashboard",
                                  "/admin/dashboard/report?month=2026-03&format=csv"])
def test_who_sees_the_dashboard(signed_in: SignedIn, client: FlaskClient, role: str | None,
                                status: int, path: str) -> None:
    visitor = signed_in(role) if role else client
    response = visitor.get(path)
    assert response.status_code == status
    if role is None:
        assert "/admin/login" in response.headers["Location"]


def test_figures_of_the_period(signed_in: SignedIn, march: dict[str, Case]) -> None:
    html = _html(signed_in("viewer").get(f"/admin/dashboard?lang=en&{MARCH}"))
    tiles = _tiles(html)
    assert tiles["Cases received"] == "3"  # the February case is outside
    assert tiles["Cases closed"] == "1"
    assert tiles["Share closed within the deadline"] == "100.0%"
    assert tiles["Open at the end of the period"] == "3"


def test_a_viewer_sees_counts_only(signed_in: SignedIn, march: dict[str, Case]) -> None:
    html = _html(signed_in("viewer").get(f"/admin/dashboard?lang=en&{MARCH}"))
    assert not re.search(r"\b4\d{6}\b", html)  # no case reference at all
    assert "/admin/queue" not in html  # no drill-down: a viewer has no queue
    assert "Sexual exploitation and abuse" in html  # the category is counted...
    assert "<script" not in html  # ...in charts drawn on the server


def test_an_officer_drills_down_to_the_queue(signed_in: SignedIn,
                                             march: dict[str, Case]) -> None:
    officer = signed_in("officer")
    links = _links(_html(officer.get(f"/admin/dashboard?lang=en&{MARCH}")))
    period = {"view": ["all"], "from": ["2026-03-01"], "to": ["2026-03-31"]}
    assert {**period, "channel": ["sms"]} in links
    assert {**period, "channel": ["telegram"]} in links
    assert {**period, "level": ["1"]} in links
    assert {**period, "category": ["wash"]} in links
    assert {**period, "location": ["SY-ID"]} in links
    assert {**period, "location": ["none"]} in links  # "not known yet"
    assert {"view": ["all"], "overdue": ["yes"]} in links
    assert not any("untriaged" in str(link) for link in links)  # the queue cannot filter it
    # following a bar lists the cases behind it — those the officer may see
    queue = _html(officer.get(f"/admin/queue?lang=en&view=all&{MARCH}&channel=sms"))
    assert "4000001" in queue and "4000004" not in queue


def test_a_month_bar_links_to_that_month(signed_in: SignedIn, march: dict[str, Case]) -> None:
    html = _html(signed_in("psea").get("/admin/dashboard?lang=en&from=2026-02-15&to=2026-03-31"))
    links = _links(html)
    assert {"view": ["all"], "from": ["2026-02-15"], "to": ["2026-02-28"]} in links
    assert {"view": ["all"], "from": ["2026-03-01"], "to": ["2026-03-31"]} in links


@pytest.mark.parametrize(
    ("lang", "direction"), [pytest.param("ar", "rtl", id="ar"), pytest.param("en", "ltr", id="en")])
def test_charts_follow_the_reading_direction(signed_in: SignedIn, march: dict[str, Case],
                                             lang: str, direction: str) -> None:
    html = _html(signed_in("admin").get(f"/admin/dashboard?lang={lang}&{MARCH}"))
    assert f'<html lang="{lang}" dir="{direction}">' in html
    svgs = re.findall(r"<svg [^>]*>", html)
    assert len(svgs) >= 6
    assert all(f'direction="{direction}"' in svg for svg in svgs)


@pytest.mark.parametrize(
    ("query", "notices"),
    [
        pytest.param("from=2026-02-30", 1, id="impossible-date"),
        pytest.param("from=2026-03-10&to=2026-03-01", 1, id="ends-before-it-starts"),
        pytest.param("from=2020-01-01&to=2026-01-01", 1, id="too-long"),
        pytest.param("location=XX-99", 1, id="unknown-location"),
        pytest.param("from=٢٠٢٦-٠٣-٠١&to=٢٠٢٦-٠٣-٣١", 0, id="arabic-digits"),
    ],
)
def test_bad_period_values_give_a_notice_not_an_error(signed_in: SignedIn, query: str,
                                                      notices: int) -> None:
    html = _html(signed_in("viewer").get(f"/admin/dashboard?lang=en&{query}"))
    assert len(_NOTICE.findall(html)) == notices


def test_a_trend_alert_is_flagged_with_its_cases(signed_in: SignedIn,
                                                 app_context: None) -> None:
    now = utcnow()
    for number in range(6):
        _case(f"50000{number:02d}", now - timedelta(hours=2 + number), category="shelter")
    html = _html(signed_in("officer").get("/admin/dashboard?lang=en"))
    assert "Trend alerts" in html and "Category: Shelter" in html
    today = now.astimezone(DAMASCUS).date()
    assert {"view": ["all"], "category": ["shelter"],
            "from": [(today - timedelta(days=6)).isoformat()],
            "to": [today.isoformat()]} in _links(html)


def _sheet_references(response: TestResponse) -> list[str]:
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    return [str(row[0].value) for row in book.worksheets[-1].iter_rows()]


def test_download_counts_sensitive_cases_for_viewers(signed_in: SignedIn,
                                                     march: dict[str, Case]) -> None:
    viewer = signed_in("viewer")
    response = viewer.get("/admin/dashboard/report?lang=en&month=2026-03&format=xlsx")
    assert response.headers["Content-Disposition"] == \
        "attachment; filename=sawti-crm-report-2026-03-en.xlsx"
    references = _sheet_references(response)
    assert "4000001" in references and "4000003" not in references
    assert "Sensitive cases not listed (counted only): 1" in references
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "report.downloaded")).one()
    assert event.details == {"month": "2026-03", "format": "xlsx", "sensitive": False}


def test_download_lists_sensitive_cases_for_psea(signed_in: SignedIn,
                                                 march: dict[str, Case]) -> None:
    references = _sheet_references(
        signed_in("psea").get("/admin/dashboard/report?lang=en&month=2026-03&format=xlsx"))
    assert "4000003" in references


def test_download_serves_the_kept_file(signed_in: SignedIn, march: dict[str, Case]) -> None:
    kept = kept_path(services().settings.sawti_instance_path, date(2026, 3, 1), "pdf", "en")
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(b"%PDF kept")
    response = signed_in("admin").get("/admin/dashboard/report?lang=en&month=2026-03&format=pdf")
    assert response.status_code == 200 and response.data == b"%PDF kept"
    assert response.mimetype == "application/pdf"
    response.close()  # the file stays open until the response is closed
    # a PSEA focal point gets a fresh copy that lists sensitive cases, never the kept one
    fresh = signed_in("psea").get("/admin/dashboard/report?lang=en&month=2026-03&format=pdf")
    assert fresh.data.startswith(b"%PDF-") and fresh.data != b"%PDF kept"


@pytest.mark.parametrize(("query", "message"), [
    pytest.param("month=2026-13&format=xlsx", "Choose a month", id="no-13th-month"),
    pytest.param("month=2026-03&format=doc", "Choose Excel", id="unknown-format"),
    pytest.param("format=pdf", "Choose a month", id="no-month"),
    pytest.param("month=2099-01&format=xlsx", "That month has not begun", id="far-future"),
])
def test_download_refuses_bad_values_with_a_message(signed_in: SignedIn, query: str,
                                                    message: str) -> None:
    viewer = signed_in("viewer")
    response = viewer.get(f"/admin/dashboard/report?lang=en&{query}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/dashboard")
    page = _html(viewer.get("/admin/dashboard?lang=en"))
    assert f'<p class="flash error" role="status">{message}' in page


@pytest.mark.parametrize(("role", "linked"), [pytest.param("officer", True, id="officer"),
                                              pytest.param("focal_point", False, id="focal")])
def test_the_dashboard_is_in_the_navigation(signed_in: SignedIn, role: str,
                                            linked: bool) -> None:
    page = _html(signed_in(role).get("/admin/queue?lang=en"))
    assert ('href="/admin/dashboard"' in page) is linked


def test_programme_kpis_on_the_dashboard(signed_in: SignedIn, march: dict[str, Case]) -> None:
    from casework import programme

    programme.save_survey(db.session, None, None, {
        "location": "SY-ID", "period_start": "2026-03-01", "period_end": "2026-03-15",
        "interviewed": 4, "aware": 3, "know_how": 1}, utcnow())
    programme.save_lesson(db.session, None, None, {"title": "Post the numbers at the clinic"},
                          datetime(2026, 3, 12, tzinfo=DAMASCUS))
    html = _html(signed_in("viewer").get(f"/admin/dashboard?lang=en&{MARCH}"))
    assert "Programme KPIs" in html
    # aware: 3 of 4 interviewed → numerator 3, denominator 4, 75.0 %
    row = re.search(r"People interviewed who know the CRM exists.*?</tr>", html, re.S)
    assert row is not None
    assert re.findall(r"<bdi[^>]*>([^<]*)</bdi>", row.group(0)) == ["3", "4", "75.0%", "75.0%"]
    # no project ran in March: no data, not 0 %
    row = re.search(r"Projects with a strategy for informing.*?</tr>", html, re.S)
    assert row is not None and re.findall(r"<bdi[^>]*>([^<]*)</bdi>", row.group(0)) == [
        "0", "0", "—", "No data"]
    assert "Post the numbers at the clinic" in html


def test_the_management_download_is_logged_as_generated(signed_in: SignedIn,
                                                       march: dict[str, Case]) -> None:
    from casework.models import ReportSubmission

    signed_in("psea").get("/admin/dashboard/report?lang=en&month=2026-03&format=csv")
    assert db.session.scalars(select(ReportSubmission)).all() == []  # the PSEA copy is not
    signed_in("viewer").get("/admin/dashboard/report?lang=en&month=2026-03&format=csv")
    row = db.session.scalars(select(ReportSubmission)).one()
    assert row.month == date(2026, 3, 1) and row.generated_at is not None


# --- colours of the charts (WCAG 1.4.11: a graphical object needs 3:1 against its background) --

_RECT_FILL = re.compile(r'<rect\b[^>]*\bfill="(#[0-9a-fA-F]{6})"')
_ALERT_BORDER = re.compile(r"\.dash-alerts\s*\{[^}]*border-inline-start:[^;#]*(#[0-9a-fA-F]{6})")
CARD = "#ffffff"  # the background of the cards the charts are drawn on


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two sRGB colours, from 1 to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _hue(colour: str) -> float:
    red, green, blue = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(red, green, blue)[0] * 360


def test_the_contrast_formula() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#d9822b", "#ffffff"), 2) == 2.93  # the orange that was too light
    assert contrast("#777777", "#777777") == 1.0


def test_chart_colours_stand_out_from_the_card(signed_in: SignedIn,
                                               march: dict[str, Case]) -> None:
    client = signed_in("admin")
    html = _html(client.get(f"/admin/dashboard?lang=en&{MARCH}"))
    charts = "".join(re.findall(r'<div class="dash-chart">(.*?)</div>', html, re.S))
    fills = set(_RECT_FILL.findall(charts))
    assert len(fills) >= 2, fills  # the trend's series (legend and columns)
    css = (Path(__file__).parents[2] / "admin" / "static" / "dashboard.css").read_text()
    border = _ALERT_BORDER.search(css)
    assert border is not None
    for colour in {*fills, border.group(1)}:
        assert contrast(colour, CARD) >= 3, (colour, round(contrast(colour, CARD), 2))
    # The series stay told apart by their hue, not only by their lightness.
    hues = sorted(_hue(colour) for colour in fills)
    gaps = [later - earlier for earlier, later in pairwise(hues)]
    assert min(gaps) >= 15, dict(zip(sorted(fills, key=_hue), hues, strict=True))
