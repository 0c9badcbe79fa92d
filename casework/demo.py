"""``flask demo``: realistic demo data in Arabic, for trying the console and training officers.

Staff accounts of every role, the starter information entries (approved), and people writing
on the simulator channel — complaints, questions, a bribe, an emergency — each through the
real intake and dialogue, so that acknowledgements, triage flags and automatic answers are
exactly what production would do. Cases are then spread over the last weeks, some graded and
closed, so the queue and the dashboard have something to show. Running it twice adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from bot.conversation import handle_inbound
from casework import accounts, audit, deadlines, info, notifications
from casework.intake import Inbound
from casework.models import (
    AuditEvent,
    Case,
    CaseStatus,
    InfoAnswer,
    Message,
    Notification,
    Role,
    TriageSuggestion,
    User,
    utcnow,
)

DEMO_DOMAIN = "demo.sawti.example"
SIMULATOR = "simulator"
SEED = 2026

# What people wrote (Syrian and Iraqi dialects, MSA, Arabizi, English), with the governorate
# they live in: ordinary complaints, questions the information line answers, sensitive and
# urgent reports the triage assistant flags.
MESSAGES: tuple[tuple[str, str], ...] = (
    ("لم أستلم السلة الغذائية هذا الشهر", "SY-ID"),
    ("ايمت التوزيع الجاي؟", "SY-ID"),
    ("السلة كان فيها رز مسوس والزيت منتهي الصلاحية", "SY-HL"),
    ("شلون اسجل على المساعدات؟ احنا نازحين جداد", "IQ-NI"),
    ("الموظف بنقطة التوزيع قلي ادفع ٢٠ دولار وبحطك بالقائمة", "SY-ID"),
    ("ابني عم ينزف من راسو وما في سيارة، ساعدونا", "SY-ID"),
    ("شكراً لفريق التوزيع، كانوا محترمين كتير مع كبار السن", "SY-HL"),
    ("ليش اسمي مو موجود بالقائمة؟ كل جيراني طلعت اسماؤهم", "SY-ID"),
    ("الحمامات بالمخيم ما فيها إضاءة بالليل والنساء بيخافوا يروحوا", "SY-ID"),
    ("ضاع الكرت تبعي بالسوق", "IQ-NI"),
    ("صاحب البيت طلعنا ع الشارع اليوم ومعنا ٤ ولاد", "IQ-DA"),
    ("ya ret twaz3o el 5obez kel yom badal kel osbo3", "SY-ID"),
    ("متى يجي صهريج المي؟", "SY-ID"),
    ("The staff at the cash point was shouting at old people in the queue", "IQ-NI"),
    ("بنت جيراننا عمرها ١٣ وبدهم يزوجوها الشهر الجاي", "SY-HL"),
    ("طابور التوزيع كان طويل كتير وقعدنا ٥ ساعات تحت الشمس", "SY-ID"),
    ("هل الشكوى سرية؟ بيعرفوا اني انا اشتكيت؟", "SY-ID"),
    ("مدفأة الخيمة خربت والولاد بردانين", "SY-ID"),
    ("قديش مبلغ المساعدة النقدية لعيلة من ٦ اشخاص؟", "IQ-DA"),
    ("المختار اخد الحصص لقرايبه وما وصلنا شي", "IQ-NI"),
    ("المستوصف ما فيه دوا للسكري من شهر", "SY-HL"),
    ("بدي اقترح تعملوا دورة خياطة للنسوان بالمخيم", "SY-ID"),
    ("رقمي تغير، كيف بحدثه عندكم؟", "SY-ID"),
    ("متطوع بالتوزيع عم يبعت رسايل لبنتي بالليل وبيقلها تعي لعندي عالمكتب", "IQ-NI"),
    ("الخزان تبع المي وسخ ولازم ينضف", "SY-HL"),
    ("ايمت بيوزعوا البطانيات هالشتوية؟", "IQ-DA"),
    ("صرلنا يومين ما اكلنا، ما عنا شي", "SY-ID"),
    ("my son is 10 and the school in the camp does not accept him, why?", "IQ-NI"),
)
STAFF = ((Role.ADMIN, "admin", "مدير النظام"), (Role.OFFICER, "officer", "أمل"),
         (Role.PSEA, "psea", "سلمى"), (Role.VIEWER, "viewer", "مراقب"),
         (Role.FOCAL_POINT, "focal", "نقطة الاتصال"))


@dataclass(frozen=True)
class DemoResult:
    users: list[str]
    entries: int
    cases: int


def load(session: Session, *, vault: object, dialogue: object, entries_path: Path,
         password: str, now: datetime | None = None,
         echo: Callable[[str], None] = lambda line: None) -> DemoResult:
    """Create the demo data once; returns what was created."""
    now = now or utcnow()
    users = _staff(session, password)
    officer = accounts.find_user(session, f"officer@{DEMO_DOMAIN}")
    assert officer is not None
    entries = info.import_entries(session, entries_path, officer, now, approve_all=True)
    cases = _conversations(session, vault, dialogue, now)
    if cases:
        _spread_over_weeks(session, dialogue, now)
    echo(f"{len(users)} user(s), {entries} information entr(y/ies), {cases} case(s) created")
    return DemoResult(users, entries, cases)


def _staff(session: Session, password: str) -> list[str]:
    created = []
    for role, name, display in STAFF:
        email = f"{name}@{DEMO_DOMAIN}"
        if accounts.find_user(session, email) is None:
            accounts.create_user(session, email, password, role, name=display)
            created.append(email)
    return created


def _conversations(session: Session, vault: object, dialogue: object, now: datetime) -> int:
    already = session.scalars(select(Case.id).where(Case.channel == SIMULATOR).limit(1)).first()
    if already is not None:
        return 0
    for number, (text, _place) in enumerate(MESSAGES, start=1):
        tab = f"demo-person-{number:03d}"
        handle_inbound(session, Inbound(channel=SIMULATOR, address=tab,
                                        external_id=f"{tab}:1", text=text, received_at=now),
                       vault, dialogue)  # type: ignore[arg-type]
    return len(MESSAGES)


def _spread_over_weeks(session: Session, dialogue: object, now: datetime) -> None:
    """Back-date the demo cases over six weeks; grade, place and close some of them."""
    randomness = random.Random(SEED)  # noqa: S311 - demo data, not security
    grid = dialogue.org_data.grid  # type: ignore[attr-defined]
    places = dict(MESSAGES)
    demo_cases = session.scalars(select(Case).where(Case.channel == SIMULATOR)
                                 .order_by(Case.id)).all()
    for case in demo_cases:
        started = now - timedelta(days=randomness.randint(0, 42), hours=randomness.randint(0, 9))
        _move_in_time(session, case, started - case.created_at)
        case.location = case.location or _district(places.get(case.messages[0].body or ""))
        if case.status == CaseStatus.CLOSED:  # answered automatically by the information line
            case.closed_at = started + timedelta(minutes=5)
        else:
            _grade_and_maybe_close(session, case, grid, started, now, randomness)
        case.due_at = deadlines.due_at(started, case.level, grid)
        _notifications_follow(session, case)
    session.commit()


# The rows of a case that carry moments of its story.
_CASE_ROWS = (Message, AuditEvent, TriageSuggestion, InfoAnswer, Notification)


def _move_in_time(session: Session, case: Case, delta: timedelta) -> None:
    """Move a whole conversation by ``delta``: the case, its person and every row about it,
    so that its timeline (received, acknowledged, answered) stays in order."""
    rows = [case, case.contact, *(row for model in _CASE_ROWS for row in session.scalars(
        select(model).where(model.case_id == case.id)))]
    for row in rows:
        if row is None:
            continue
        for attribute in inspect(row).mapper.column_attrs:
            value = getattr(row, attribute.key)
            if isinstance(value, datetime):
                setattr(row, attribute.key, value + delta)


def _notifications_follow(session: Session, case: Case) -> None:
    """Alerts about the case give the deadline it has now, not the one it had when loaded."""
    for notification in session.scalars(select(Notification).where(
            Notification.case_id == case.id, Notification.kind != notifications.REFERRAL_NEW)):
        if (notification.params or {}).get("due_at"):
            notification.params = {**notification.params, "due_at": case.due_at.isoformat()}


def _grade_and_maybe_close(session: Session, case: Case, grid: object, started: datetime,
                           now: datetime, randomness: random.Random) -> None:
    if case.sensitive:
        case.level = 5
    elif randomness.random() < 0.7:
        case.level = randomness.choice((2, 3, 3, 4))
        case.status = CaseStatus.OPEN
    age = now - started
    if not case.sensitive and case.level and age > timedelta(days=5) and randomness.random() < 0.6:
        case.status = CaseStatus.CLOSED
        case.closed_at = started + timedelta(days=randomness.uniform(1, min(age.days, 20)))
        case.resolution = "تم التواصل مع الشخص وحل المشكلة مع فريق البرنامج."
        closing = audit.record(session, "case.closed", case=case, actor="demo", demo=True)
        closing.at = case.closed_at


def _district(governorate: str | None) -> str | None:
    return f"{governorate}-01" if governorate else None


def demo_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.email.like(f"%@{DEMO_DOMAIN}"))))
