"""The monthly report files read back: XLSX cell by cell, PDF text, CSV rows; the CLI and the
files kept each month."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest
from flask import Flask

from casework.access import listed_cases
from casework.models import Case, CaseStatus, Role, User
from casework.report_files import (
    Labels,
    MonthlyReport,
    build_report,
    keep_monthly_report,
    parse_month,
    render,
    translations,
)
from extensions import db
from services import services

DAMASCUS = ZoneInfo("Asia/Damascus")
NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
ARABIC = re.compile(r"[\u0600-\u06ff]")


def _local(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=DAMASCUS)


@pytest.fixture
def march(app_context: None) -> None:
    rows = [  # reference, channel, level, category, location, created, closed
        ("3000001", "telegram", 1, "wash", "SY-ID-01", _local(2), _local(4)),
        ("3000002", "sms", 2, "shelter", "SY-HL", _local(3), None),
        ("3000003", "sms", 1, "wash", "SY-ID-02", _local(10), _local(30)),  # 20 days: late
        ("3000004", "whatsapp", 5, "sexual_exploitation_abuse", "SY-ID", _local(5),
         _local(6)),  # sensitive
        ("3000005", "sms", 1, "wash", "SY-ID", _local(20, month=2), _local(1, 12)),  # Feb in
    ]
    for reference, channel, level, category, location, created, closed in rows:
        db.session.add(Case(
            reference=reference, channel=channel, level=level, sensitive=level == 5,
            category=category, location=location, created_at=created, closed_at=closed,
            status=CaseStatus.CLOSED if closed else CaseStatus.OPEN,
            due_at=created + (timedelta(hours=72) if level == 5 else timedelta(days=15)),
            last_activity_at=created))
    db.session.commit()


def _report(lang: str = "en", **options: object) -> MonthlyReport:
    return build_report(db.session, date(2026, 3, 1), org=services().org_data,
                        org_name="صوتي", tz=DAMASCUS, lang=lang, now=NOW, **options)  # type: ignore[arg-type]


def _xlsx(report: MonthlyReport) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))


def _values(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[list[object]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_xlsx_summary_cell_by_cell(march: None) -> None:
    book = _xlsx(_report())
    assert book.sheetnames == [
        "Summary", "Channels", "Levels", "Categories", "Locations", "Gender", "Age groups",
        "Deadlines by level", "Six months", "Open by age", "Satisfaction",
        "Channels per location", "Programme KPIs", "Preferred channels", "Lessons learned",
        "Trend alerts", "Cases"]
    summary = book["Summary"]
    assert summary["A1"].value == "صوتي"
    assert (summary["A2"].value, summary["B2"].value) == ("Monthly CRM report", "March 2026")
    assert summary["B3"].value == "2026-03-01 – 2026-03-31"
    assert summary["B4"].value == "Syria Time"
    figures = {row[0]: row[1] for row in _values(summary)[7:]}
    # received in March: 1, 2, 3, 4; closed in March: 1 (2 d), 3 (20 d, late), 4 (1 d), 5
    # (Feb 20 → Mar 1: 9 d); within: 1, 4, 5
    assert figures["Cases received"] == 4
    assert figures["Of which sensitive"] == 1
    assert figures["Cases closed"] == 4
    assert figures["Closed within the deadline"] == 3
    assert figures["Share closed within the deadline"] == 0.75
    share_row = next(row for row in summary.iter_rows()
                     if row[0].value == "Share closed within the deadline")
    assert share_row[1].number_format == "0.0%"
    assert figures["Mean days to close"] == 8.0  # (2 + 20 + 1 + 9) / 4
    assert figures["Median days to close"] == 5.5
    assert figures["Open at the end of the period"] == 1


def test_xlsx_breakdown_sheets_have_native_charts(march: None) -> None:
    book = _xlsx(_report())
    channels = book["Channels"]
    assert _values(channels)[:5] == [
        ["Cases received by channel", None, None, None],
        ["Code", "Name", "Cases", "Share"],
        ["sms", "SMS", 2, 0.5],
        ["telegram", "Telegram", 1, 0.25],
        ["whatsapp", "WhatsApp", 1, 0.25],
    ]
    locations = _values(book["Locations"])
    assert locations[2] == ["SY-ID", "Idlib", 3, 0.75]  # districts roll up
    for name in ("Channels", "Levels", "Categories", "Locations", "Six months"):
        charts = book[name]._charts
        assert len(charts) == 1, name
        assert charts[0].tagname == "barChart"


def test_xlsx_case_list_is_anonymised_and_counts_sensitive_cases(march: None) -> None:
    cases = _values(_xlsx(_report())["Cases"])
    assert cases[1] == ["Reference", "Received on", "Due", "Closed on", "Channel", "Level",
                        "Category", "Location", "Status", "Within deadline"]
    listed = [row for row in cases[2:] if row[0] and str(row[0]).isdigit()]
    assert [row[0] for row in listed] == ["3000005", "3000001", "3000002", "3000003"]
    first = listed[1]
    assert first[1] == datetime(2026, 3, 2, 12, 0)  # local time, as Excel has no zones
    assert first[4:] == ["Telegram", "1 — Request for information",
                         "Water, sanitation and hygiene (WASH)", "Idlib — Idlib", "Closed",
                         "Yes"]
    assert listed[2][-1] == "No"  # open, due on 18 March
    assert listed[3][-1] == "No"  # closed after 20 days
    assert cases[-1] == ["Sensitive cases not listed (counted only): 1", *[None] * 9]
    text = repr(cases)
    assert "3000004" not in text


def test_the_psea_copy_lists_sensitive_cases(march: None) -> None:
    cases = _values(_xlsx(_report(include_sensitive=True))["Cases"])
    assert "3000004" in [row[0] for row in cases]
    assert not any("counted only" in str(row[0]) for row in cases)


def test_an_officer_copy_lists_only_their_locations(march: None) -> None:
    officer = User(email="o@example.org", role=Role.OFFICER, password_hash="x",
                   locations=["SY-HL"])
    cases = _values(_xlsx(_report(case_filter=listed_cases(officer)))["Cases"])
    assert [row[0] for row in cases[2:] if row[0] and str(row[0]).isdigit()] == ["3000002"]


def test_arabic_workbook_reads_right_to_left(march: None) -> None:
    book = _xlsx(_report("ar"))
    assert all(sheet.sheet_view.rightToLeft for sheet in book.worksheets)
    assert _values(book.worksheets[1])[2][:2] == ["sms", "رسالة نصية"]


PDF_HEADINGS = ("Monthly CRM report", "Key figures", "The last six months",
                "Cases received by category", "Cases received by location", "Trend alerts")


def test_pdf_in_arabic_has_arabic_headings_and_names(march: None) -> None:
    pdf = pypdf.PdfReader(io.BytesIO(render(_report("ar"), "pdf")))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    arabic = translations("ar")
    for msgid in PDF_HEADINGS:
        heading = arabic.gettext(msgid)
        assert ARABIC.search(heading), f"{msgid!r} is not translated into Arabic yet"
        assert heading in text
    # names from config/*.yaml, in logical order (shaping and bidi are the PDF's job)
    assert "المياه والصرف الصحي والنظافة" in text
    assert "إدلب" in text and "صوتي" in text
    assert "مارس" in text  # the month by name (mixed with digits, extraction reorders)


def test_pdf_in_english(march: None) -> None:
    pdf = pypdf.PdfReader(io.BytesIO(render(_report("en"), "pdf")))
    text = " ".join(page.extract_text() for page in pdf.pages)
    for heading in PDF_HEADINGS:
        assert heading in text
    assert "3000001" not in text  # the case list is not in the PDF


def test_csv_zip_for_power_bi(march: None) -> None:
    archive = zipfile.ZipFile(io.BytesIO(render(_report(), "csv")))
    assert sorted(archive.namelist()) == ["cases.csv", "kpis.csv"]
    raw = archive.read("kpis.csv")
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == ["period_start", "period_end", "section", "key", "label",
                             "metric", "value"]
    found = {(row["section"], row["key"], row["metric"]): row["value"] for row in rows}
    assert found["summary", "received", "received"] == "4"
    assert found["summary", "closed_within_deadline_share", "closed_within_deadline_share"] \
        == "0.75"
    assert found["received_by_channel", "sms", "cases"] == "2"
    assert found["six_months", "2026-03", "closed"] == "4"
    assert found["cases", "sensitive_withheld", "cases"] == "1"
    assert {row["period_start"] for row in rows} == {"2026-03-01"}
    cases = list(csv.DictReader(io.StringIO(archive.read("cases.csv").decode("utf-8-sig"))))
    assert [row["reference"] for row in cases] == ["3000005", "3000001", "3000002", "3000003"]
    assert (cases[1]["received_at"], cases[1]["timezone"]) == \
        ("2026-03-02T12:00:00", "Asia/Damascus")  # local time
    assert (cases[1]["location"], cases[1]["governorate"], cases[1]["within_deadline"]) == \
        ("SY-ID-01", "SY-ID", "1")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("2026-03", date(2026, 3, 1), id="ascii"),
        pytest.param("٢٠٢٦-٠٣", date(2026, 3, 1), id="arabic-indic"),
        pytest.param(" 2026-12 ", date(2026, 12, 1), id="spaces"),
    ],
)
def test_month_argument(raw: str, expected: date) -> None:
    assert parse_month(raw) == expected


@pytest.mark.parametrize("raw", ["2026-13", "2026-3", "march", "", "2026-03-01"])
def test_month_argument_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month(raw)


@pytest.fixture
def cli(app: Flask) -> Callable[..., object]:
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["report", "monthly", *args])


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "csv"])
def test_cli_writes_the_report(march: None, cli: Callable[..., object], tmp_path: Path,
                               fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    result = cli("2026-03", "--format", fmt, "--out", str(out), "--lang", "en")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "1 sensitive counted only" in result.output  # type: ignore[attr-defined]
    magic = {"xlsx": b"PK", "pdf": b"%PDF", "csv": b"PK"}[fmt]
    assert out.read_bytes().startswith(magic)


def test_cli_refuses_a_bad_month(cli: Callable[..., object], tmp_path: Path) -> None:
    result = cli("March", "--out", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "YYYY-MM" in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "x.xlsx").exists()


def test_monthly_files_are_kept_for_download(march: None) -> None:
    written = keep_monthly_report(db.session, services(), date(2026, 3, 1))
    folder = services().settings.sawti_instance_path / "reports"
    assert sorted(path.name for path in written) == sorted(
        f"sawti-crm-report-2026-03-{lang}{suffix}"
        for lang in ("ar", "en") for suffix in (".xlsx", ".pdf", "-csv.zip"))
    assert all(path.parent == folder and path.stat().st_size > 0 for path in written)
    assert not list(folder.glob("*.partial"))


@pytest.fixture
def programme_records(march: None) -> None:
    """Programme records for March: one survey, one running project with a strategy, two
    lessons (one on a sensitive case), staff headcount without any training."""
    from casework import programme

    now = NOW - timedelta(days=20)  # 13 March
    programme.save_survey(db.session, None, None, {
        "location": "SY-ID", "period_start": "2026-03-01", "period_end": "2026-03-20",
        "interviewed": 8, "aware": 6, "know_how": 2, "preferred_channels": {"voice": 5}}, NOW)
    programme.save_project(db.session, None, None, {"name": "Wash", "has_strategy": True},
                           now)
    programme.set_headcount(db.session, None, "SY-ID", 4, now)
    cases = {case.reference: case for case in db.session.query(Case)}
    programme.save_lesson(db.session, None, None, {
        "title": "Boxes are emptied late", "recommendation": "Weekly rounds",
        "case_id": cases["3000001"].id}, now)
    programme.save_lesson(db.session, None, None, {
        "title": "Safe referral paths", "recommendation": "Train guards",
        "case_id": cases["3000004"].id}, now)
    programme.save_lesson(db.session, None, None, {"title": "February lesson"},
                          datetime(2026, 2, 20, tzinfo=UTC))


def test_programme_kpis_in_the_workbook(programme_records: None) -> None:
    rows = {row[0]: row[1:] for row in _values(_xlsx(_report())["Programme KPIs"])[2:]}
    # numerator, denominator, share, result
    assert rows["staff_trained"] == ["Staff trained on accountability and the CRM "
                                     "(last 12 months)", 0, 4, 0, "0.0%"]
    assert rows["staff_trained:SY-ID"][1:] == [0, 4, 0, "0.0%"]
    # six months (October–March): 3000001, 3000004 and 3000005 in time, 3000003 late
    assert rows["closed_within_six_months"][1:] == [3, 4, 0.75, "75.0%"]
    assert rows["projects_with_strategy"][1:] == [1, 1, 1, "100.0%"]
    assert rows["aware"][1:] == [6, 8, 0.75, "75.0%"]  # 6 / 8
    assert rows["know_how"][1:] == [2, 8, 0.25, "25.0%"]  # 2 / 8
    # no report month was due before Sawti's first month (February) ended its due day:
    # February's report was due on 10 March and never marked → 0 / 1
    assert rows["reports_on_time"][1:] == [0, 1, 0, "0.0%"]
    # nobody has a case role: no data, not 0 %
    assert rows["two_factor"][1:] == [0, 0, None, "No data"]
    assert rows["case_database"][4].startswith("No data (last case update: never")
    # closed in March: 2 + 20 + 1 + 9 = 32 days over 4 cases, mean 8, median 5.5
    assert rows["mean_days_to_close"][1:] == [32, 4, None, "8.00"]
    assert rows["median_days_to_close"][1:] == [None, 4, None, "5.50"]
    lessons = _values(_xlsx(_report())["Lessons learned"])
    assert lessons[2:] == [
        [lessons[2][0], "Boxes are emptied late", "Weekly rounds", "Open", "case 3000001"],
        [lessons[3][0], "Safe referral paths", "Train guards", "Open", "a sensitive case"]]


def test_programme_kpis_with_no_data_in_pdf_and_csv(app_context: None) -> None:
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(
        io.BytesIO(render(_report("en"), "pdf"))).pages)
    assert "Programme KPIs" in text and "No data" in text
    archive = zipfile.ZipFile(io.BytesIO(render(_report(), "csv")))
    rows = list(csv.DictReader(io.StringIO(archive.read("kpis.csv").decode("utf-8-sig"))))
    found = {(row["key"], row["metric"]): row["value"] for row in rows
             if row["section"] == "programme_kpis"}
    assert (found["aware", "numerator"], found["aware", "denominator"],
            found["aware", "share"], found["aware", "result"]) == ("0", "0", "", "No data")


def test_cli_logs_the_report_as_generated(march: None, cli: Callable[..., object],
                                          tmp_path: Path) -> None:
    from casework.models import ReportSubmission

    result = cli("2026-03", "--format", "csv", "--out", str(tmp_path / "r.zip"))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    row = db.session.query(ReportSubmission).one()
    assert row.month == date(2026, 3, 1) and row.generated_at is not None
    assert row.submitted_at is None


@pytest.mark.parametrize(("zone", "lang", "name"), [
    pytest.param("Asia/Damascus", "ar", "توقيت سوريا", id="damascus-arabic"),
    pytest.param("Asia/Damascus", "en", "Syria Time", id="damascus-english"),
    pytest.param("Asia/Baghdad", "ar", "توقيت العراق", id="baghdad-arabic"),
    pytest.param("UTC", "ar", "UTC", id="utc-as-it-is"),
    pytest.param("Not/AZone", "en", "Not/AZone", id="unknown-as-it-is"),
])
def test_the_time_zone_is_named_as_people_say_it(app_context: None, zone: str, lang: str,
                                                 name: str) -> None:
    assert Labels(services().org_data, lang).zone(zone) == name
