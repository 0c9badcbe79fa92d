"""The triage assistant: the lexicon's matching rules, what a flag does to a case, and its
quality against officers' decisions. Recall and precision on the labelled sets are in
test_triage_evaluation.py (and ``make eval-triage``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework import accounts
from casework.models import (
    AuditEvent,
    Case,
    Notification,
    Role,
    TriageSuggestion,
    User,
    utcnow,
)
from casework.triage import Lexicon, LexiconError, load_lexicon, quality
from extensions import db
from services import services

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon(ROOT / "config" / "triage.yaml")


# (id, message, sensitive, urgent, suggested category)
ASSESSED = [
    ("bribe-levantine", "قال ادفع ٢٠ دولار وبحطك بالقائمة", True, False, "fraud_corruption"),
    ("bribe-word-no-hamza", "طلبو رشوه منشان يسجلونا", True, False, "fraud_corruption"),
    ("bribe-arabizi", "tlbo mni masari la y7otni bel list", True, False, "fraud_corruption"),
    ("bribe-english", "the volunteer asked for 50 dollars to register my name", True, False,
     "fraud_corruption"),
    ("aid-sold", "عم يبيعوا المساعدات بالسوق", True, False, "fraud_corruption"),
    ("aid-to-relatives", "المختار اخد الحصص لقرايبه", True, False, "fraud_corruption"),
    ("sea-harassment", "الموظف تحرّش فيني", True, False, "sexual_exploitation_abuse"),
    ("sea-elongated-letters", "تحرررش فيي واحد من التوزيع", True, False,
     "sexual_exploitation_abuse"),
    ("sea-visit-for-basket", "طلب مني رقمي وقال بتجي لعندي ع البيت منشان السلة", True, False,
     "sexual_exploitation_abuse"),
    ("sea-favour", "بدو شي مقابل", True, False, "sexual_exploitation_abuse"),
    ("sea-arabizi", "el mwazaf t7arash fiye", True, False, "sexual_exploitation_abuse"),
    ("child-marriage-arabic-digits", "بنتي عمرها ١٣ بدهم يزوجوها", True, False,
     "child_protection"),
    ("threat-retaliation", "هددني اذا اشتكيت", True, False, "safety_security_threat"),
    ("staff-hit", "الموظف ضربني قدام الناس", True, False, "staff_misconduct"),
    ("threat-to-kill-is-both", "بدهم يقتلوني لأني اشتكيت", True, True,
     "safety_security_threat"),
    ("bleeding", "ابني عم ينزف", False, True, "health"),
    ("labour-no-car", "مرتي عم تولد وما في سيارة", False, True, "health"),
    ("evicted-today", "صاحب البيت طلعنا ع الشارع اليوم", False, True, "shelter"),
    ("no-water-iraqi", "ماكو ماي للشرب", False, True, "distribution_food"),
    ("not-eaten-two-days", "صرلنا يومين ما اكلنا", False, True, "distribution_food"),
    ("english-hungry", "my children are hungry", False, True, "distribution_food"),
    ("basket-not-received", "لم أستلم السلة الغذائية هذا الشهر", False, False,
     "distribution_food"),
    ("parcel-is-not-eviction", "ما استلمنا الطرد الغذائي", False, False, "distribution_food"),
    ("thanks", "شكرا على المساعدة", False, False, "appreciation"),
    # The camp is where most people live: it says nothing about what they complain of.
    ("water-tank-in-the-camp", "خزان الماء في المخيم مكسور والمياه مقطوعة", False, False,
     "wash"),
    ("tent-in-the-camp", "الخيمة بالمخيم عم تدلف", False, False, "shelter"),
    ("id-card-is-not-a-bribe", "the staff asked me for my ID card", False, False, None),
    ("negated-bribe", "ما حدا طلب مني مصاري، كلشي كان منيح", False, False, None),
    ("negated-english", "nobody harassed me, the team was respectful", False, False, None),
    ("question", "متى التوزيع الجاي؟", False, False, "information_request"),
    ("empty", "", False, False, None),
    ("emoji-only", "🙏🙏", False, False, None),
]


@pytest.mark.parametrize(("label", "text", "sensitive", "urgent", "category"), ASSESSED,
                         ids=[row[0] for row in ASSESSED])
def test_assessment(lexicon: Lexicon, label: str, text: str, sensitive: bool, urgent: bool,
                    category: str | None) -> None:
    assessment = lexicon.assess(text)
    assert (assessment.sensitive, assessment.urgent) == (sensitive, urgent), \
        [hit.rule for hit in assessment.hits]
    assert assessment.category == category


def test_the_words_that_matched_are_given(lexicon: Lexicon) -> None:
    assessment = lexicon.assess("قال ادفع ٢٠ دولار وبحطك بالقائمة")
    assert {"قال", "بالقايمه"} <= set(assessment.words("sensitive"))
    assert assessment.words("urgent") == []


# (id, one rule of a lexicon, message, whether the rule matches)
MATCHING = [
    # a term is spelt as the message will be: "can't" and «self-harm» are two words there
    ("apostrophe-in-a-term", "{id: r, flag: urgent, terms: [\"can't breathe\"]}",
     "my son can't breathe", True),
    ("hyphen-in-a-term", "{id: r, flag: urgent, terms: [self-harm]}", "thoughts of self harm",
     True),
    ("arabizi-letter-in-a-term", "{id: r, flag: urgent, terms: [\"mo3'ma\"]}", "hiye moghma",
     True),
    # English words keep their first letters: "block" is not Arabizi "b" + "lock"
    ("english-word-kept-whole", "{id: r, flag: sensitive, terms: [lock*]}",
     "the kids in block B need a playground", False),
    ("arabizi-prefix-still-off", "{id: r, flag: sensitive, terms: [drob*]}", "btdrob el zghir",
     True),
    # a currency sign is a word: "30$" is money even where a bare 30 may be an age
    ("dollar-sign", "{id: r, flag: sensitive, terms: [\"# dollar\"]}", "tlbo menna 30$", True),
    # an unless term cancels negated or not, unless the rule says a negation keeps it
    ("unless-negated-cancels", "{id: r, flag: urgent, near: [[ما], [خبز]], unless: [وصل*]}",
     "ما وصلني الخبز", False),
    ("unless-found", "{id: r, flag: urgent, terms: [ضاعت], unless: [لگاها],"
                     " unless_negatable: true}", "ضاعت امس وابوها لگاها", False),
    ("unless-negated", "{id: r, flag: urgent, terms: [ضاعت], unless: [لگاها],"
                       " unless_negatable: true}", "ضاعت امس ومحد لگاها", True),
    ("unless-negated-english", "{id: r, flag: urgent, terms: [lost], unless: [found],"
                               " unless_negatable: true}", "she got lost and nobody found her",
     True),
    ("unless-that-is-a-negation", "{id: r, flag: sensitive, terms: [مصاري], unless: [\"ما حدا\"],"
                                  " unless_negatable: true}", "مصاري؟ لا، ما حدا طلب", False),
    # unless_near cancels only what it stands next to
    ("idiom-near", "{id: r, flag: sensitive, terms: [kill*], unless_near: [queue]}",
     "this queue is killing me", False),
    ("idiom-far", "{id: r, flag: sensitive, terms: [kill*], unless_near: [queue]}",
     "they said they will kill my brother, and the queue at the clinic is long", True),
    ("idiom-window", "{id: r, flag: sensitive, terms: [kill*], unless_near: [queue],"
                     " unless_window: 1}", "this queue is killing me", True),
    ("idiom-near-a-near-rule", "{id: r, flag: urgent, near: [[نموت], [رح]], unless_near: [الملل]}",
     "رح نموت من الملل", False),
    # «ما» after «قبل», «بعد», «كل» is a conjunction, not a negation
    ("before-is-not-not", "{id: r, flag: sensitive, negatable: true, terms: [نبيض]}",
     "ما بيسلم قبل ما نبيض وجهو", True),
    ("not-is-not", "{id: r, flag: sensitive, negatable: true, terms: [نبيض]}", "ما نبيض وجهو",
     False),
]


@pytest.mark.parametrize(("label", "rule", "text", "matches"), MATCHING,
                         ids=[row[0] for row in MATCHING])
def test_matching(tmp_path: Path, label: str, rule: str, text: str, matches: bool) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text(f"rules:\n  - {rule}\n", encoding="utf-8")
    assessment = load_lexicon(path).assess(text)
    assert bool(assessment.hits) == matches, [hit.words for hit in assessment.hits]


BAD_LEXICONS = [
    ("not-a-mapping", "- just a list\n", "expected a mapping"),
    ("no-id", "rules:\n  - flag: sensitive\n    terms: [x]\n", "needs an 'id'"),
    ("unknown-flag", "rules:\n  - id: a\n    flag: scary\n    terms: [x]\n",
     "flag must be sensitive or urgent"),
    ("nothing-to-match", "rules:\n  - id: a\n    flag: urgent\n", "give 'terms'"),
    ("one-near-slot", "rules:\n  - id: a\n    flag: urgent\n    near: [[x]]\n", "give 'terms'"),
    ("punctuation-only-term", "rules:\n  - id: a\n    flag: urgent\n    terms: ['!!']\n",
     "empty term"),
    ("neither-flag-nor-category", "rules:\n  - id: a\n    terms: [x]\n", "give a 'flag'"),
    ("duplicate-ids", "rules:\n  - {id: a, flag: urgent, terms: [x]}\n"
                      "  - {id: a, flag: urgent, terms: [y]}\n", "duplicate rule ids a"),
    ("not-yaml", "rules: [\n", "triage.yaml"),
]


@pytest.mark.parametrize(("label", "content", "says"), BAD_LEXICONS,
                         ids=[row[0] for row in BAD_LEXICONS])
def test_a_bad_lexicon_is_refused_with_the_reason(tmp_path: Path, label: str, content: str,
                                                  says: str) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError, match=says):
        load_lexicon(path)


# --- what a flag does to the case -----------------------------------------------------------

def _psea_user(email: str = "psea@example.org") -> None:
    accounts.create_user(db.session, email, "a long enough password 1", Role.PSEA, name="PSEA")


def _case() -> Case:
    return db.session.scalars(select(Case).order_by(Case.id.desc())).first()  # type: ignore[return-value]


def test_a_sensitive_message_restricts_the_case_and_alerts_psea_at_once(
    simulate: Callable[..., TestResponse], app_context: None,
) -> None:
    _psea_user()
    simulate("قال ادفع ٢٠ دولار وبحطك بالقائمة")
    case = _case()
    assert case.sensitive and case.level is None  # restricted; the grading stays the officer's
    assert case.due_at == case.created_at + timedelta(hours=72)
    suggestion = db.session.scalars(select(TriageSuggestion)).one()
    assert (suggestion.sensitive, suggestion.level, suggestion.category) == (
        True, 5, "fraud_corruption")
    assert suggestion.message_id == case.messages[0].id
    assert "بالقايمه" in suggestion.hits[0]["words"]
    alert = db.session.scalars(select(Notification)).one()
    assert alert.case_id == case.id and alert.kind == "case_sensitive"
    actions = [event.action for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id))]
    assert "case.flagged_sensitive" in actions and "psea.notified" in actions
    for event in db.session.scalars(select(AuditEvent)):
        assert "بالقايمه" not in str(event.details)  # the audit log never holds message text


def test_an_urgent_message_marks_the_case_urgent(simulate: Callable[..., TestResponse],
                                                 app_context: None) -> None:
    simulate("ابني عم ينزف ساعدونا")
    case = _case()
    assert case.urgent and not case.sensitive
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "case.flagged_urgent")).all() == ["case.flagged_urgent"]


def _staff(email: str, role: str, locations: list[str] | None = None) -> User:
    return accounts.create_user(db.session, email, "a long enough password 1", role,
                                locations=locations)


def test_an_urgent_message_alerts_the_officers_who_may_open_it_at_once(
        simulate: Callable[..., TestResponse], app_context: None) -> None:
    everywhere = _staff("all@example.org", Role.OFFICER)
    aleppo_only = _staff("aleppo@example.org", Role.OFFICER, ["SY-HL"])
    psea = _staff("psea@example.org", Role.PSEA)
    simulate("ابني عم ينزف ساعدونا", tab="tab-urgent-01")
    case = _case()
    # Its place is not known yet: every officer may open it, so every officer is alerted.
    alerted = {alert.user_id: alert for alert in db.session.scalars(select(Notification))}
    assert set(alerted) == {everywhere.id, aleppo_only.id}
    assert all(alert.kind == "case_urgent" and alert.case_id == case.id
               for alert in alerted.values())
    assert psea.id not in alerted
    simulate("والله عم ينزف كتير", tab="tab-urgent-01")  # already urgent: no second alert
    assert len(db.session.scalars(select(Notification)).all()) == 2


def test_an_urgent_and_sensitive_message_alerts_psea_not_officers(
        simulate: Callable[..., TestResponse], app_context: None) -> None:
    officer = _staff("officer@example.org", Role.OFFICER)
    psea = _staff("psea@example.org", Role.PSEA)
    simulate("بدهم يقتلوني لأني اشتكيت", tab="tab-urgent-02")
    case = _case()
    assert case.urgent and case.sensitive
    alerts = {(alert.user_id, alert.kind) for alert in db.session.scalars(select(Notification))}
    assert alerts == {(psea.id, "case_sensitive"), (psea.id, "case_urgent")}
    assert officer.id not in {user_id for user_id, _ in alerts}


def test_an_ordinary_message_only_suggests_a_category(simulate: Callable[..., TestResponse],
                                                      app_context: None) -> None:
    simulate("لم أستلم السلة الغذائية هذا الشهر")
    case = _case()
    assert not case.sensitive and not case.urgent
    assert case.due_at == case.created_at + timedelta(hours=360)
    suggestion = db.session.scalars(select(TriageSuggestion)).one()
    assert (suggestion.sensitive, suggestion.category, suggestion.level) == (
        False, "distribution_food", 3)  # the category's default level


def test_a_follow_up_message_can_flag_an_open_case(simulate: Callable[..., TestResponse],
                                                   app_context: None) -> None:
    simulate("لم أستلم السلة الغذائية هذا الشهر", tab="tab-same-person")
    simulate("والموظف قلي ادفع ٥٠ الف لحتى يحطني بالقائمة", tab="tab-same-person")
    assert db.session.scalars(select(Case)).one().sensitive


def test_nothing_matched_stores_nothing(simulate: Callable[..., TestResponse],
                                        app_context: None) -> None:
    simulate("مرحبا")
    assert db.session.scalars(select(TriageSuggestion)).all() == []


# --- quality against officers' decisions ----------------------------------------------------

def test_precision_and_recall_against_the_officers_grading(
    simulate: Callable[..., TestResponse], app_context: None,
) -> None:
    # suggested sensitive, officer agrees (TP); suggested, officer lowers it (FP);
    # not suggested, officer raises it (FN); ungraded cases do not count.
    for tab, text in (("a", "الموظف تحرش فيني"), ("b", "طلبوا رشوة"), ("c", "لم تصلني السلة"),
                      ("d", "هددني اذا اشتكيت")):
        simulate(text, tab=f"tab-quality-{tab}")
    first, second, third, _ungraded = db.session.scalars(select(Case).order_by(Case.id)).all()
    first.level = 5
    second.level, second.sensitive = 3, False
    third.level, third.sensitive = 5, True
    db.session.commit()
    now = utcnow()
    found = quality(db.session, now - timedelta(days=1), now + timedelta(days=1))
    sensitive = found["sensitive"]
    assert (sensitive.true_positives, sensitive.false_positives, sensitive.false_negatives) == (
        1, 1, 1)
    assert (sensitive.precision, sensitive.recall) == (0.5, 0.5)
    assert found["urgent"].precision is None and found["urgent"].recall is None  # no data


def test_the_service_loads_the_shipped_lexicon(app_context: None) -> None:
    assert services().dialogue.triage is not None
    assert services().dialogue.triage.assess("تحرش").sensitive
