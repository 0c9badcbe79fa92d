"""What the audit trail's codes say to a reader: one label per action, per actor that is not
a person, and per detail field. A code without a label is shown as stored.

tests/admin/test_audit_labels.py scans the code for every action and actor recorded, so a new
one fails the tests until it has a label here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from casework import info, survey, triage
from casework.channel_names import channel_name
from casework.status_names import STATUS_NAMES

ACTION_LABELS: dict[str, LazyString] = {
    "attachment.fetch_failed": _l("An attachment could not be downloaded"),
    "attachment.refused": _l("An attachment was refused"),
    "awareness_session.created": _l("Awareness session added"),
    "awareness_session.updated": _l("Awareness session changed"),
    "canned.created": _l("Canned response added"),
    "canned.deactivated": _l("Canned response deactivated"),
    "canned.updated": _l("Canned response changed"),
    "case.acknowledged": _l("Acknowledgement with the reference sent"),
    "case.assigned": _l("Case assigned"),
    "case.closed": _l("Case closed"),
    "case.consent": _l("Consent to be contacted recorded"),
    "case.created": _l("Case opened from a message"),
    "case.entered": _l("Case entered by staff"),
    "case.flagged_sensitive": _l("Flagged as possibly sensitive by the triage assistant"),
    "case.flagged_urgent": _l("Flagged as possibly urgent by the triage assistant"),
    "case.merge_received": _l("Another case merged into this one"),
    "case.merged": _l("Case merged into another"),
    "case.noted": _l("Internal note added"),
    "case.project": _l("Case linked to a programme project"),
    "case.referred": _l("Case referred"),
    "case.reopened": _l("Case reopened"),
    "case.replied": _l("Reply sent to the person"),
    "case.restricted": _l("Case restricted (sensitive)"),
    "case.satisfaction": _l("Satisfaction survey answered"),
    "case.triaged": _l("Triage changed"),
    "case.unrestricted": _l("Restriction lifted"),
    "case.viewed": _l("Sensitive case opened"),
    "channel_availability.set": _l("Channel availability set"),
    "contact.opted_out": _l("The person opted out of messages"),
    "contact.revealed": _l("Contact details revealed"),
    "document.downloaded": _l("Document downloaded"),
    "document.uploaded": _l("Document attached"),
    "headcount.set": _l("Staff headcount set"),
    "info.approved": _l("Information entry approved"),
    "info.audio": _l("Information entry recording changed"),
    "info.created": _l("Information entry added"),
    "info.not_satisfied": _l("Automatic answer did not satisfy the person"),
    "info.updated": _l("Information entry changed"),
    "keys.rotated": _l("Encryption keys rotated"),
    "lesson.created": _l("Lesson learned added"),
    "lesson.updated": _l("Lesson learned changed"),
    "login.failed": _l("Sign-in failed"),
    "login.locked": _l("Sign-in refused: account locked"),
    "login.lockout": _l("Account locked after failed sign-ins"),
    "login.succeeded": _l("Signed in"),
    "message.failed": _l("A message could not be delivered"),
    "message.held": _l("Reply held until the person writes again"),
    "message.kept_after_error": _l("Message kept after an error"),
    "person.erased": _l("Personal data erased"),
    "project.created": _l("Programme project added"),
    "project.strategy_document": _l("Project strategy document changed"),
    "project.updated": _l("Programme project changed"),
    "psea.notified": _l("PSEA focal points notified"),
    "referral.answered": _l("Referral answered"),
    "report.downloaded": _l("Report downloaded"),
    "report.generated": _l("Monthly report generated"),
    "report.monthly_scheduled": _l("Monthly report made on schedule"),
    "report.submitted": _l("Monthly report submitted"),
    "report.unsubmitted": _l("Monthly report submission withdrawn"),
    "retention.applied": _l("Retention periods applied"),
    "survey.created": _l("Survey added"),
    "survey.reopen_declined": _l("The person chose to keep the case closed"),
    "survey.sent": _l("Satisfaction survey sent"),
    "survey.updated": _l("Survey changed"),
    "token.created": _l("API token created"),
    "token.revoked": _l("API token revoked"),
    "totp.enrolled": _l("Authenticator app set up"),
    "totp.enrolment_failed": _l("Authenticator app setup failed"),
    "training.created": _l("Training added"),
    "training.updated": _l("Training changed"),
    "user.created": _l("User account created"),
    "user.disabled": _l("User account disabled"),
    "user.enabled": _l("User account enabled"),
    "user.logged_out_everywhere": _l("Signed out on every device"),
    "user.password_changed": _l("Password changed"),
    "user.password_reset": _l("Password reset by an administrator"),
    "user.telegram_link_refused": _l("Telegram link refused"),
    "user.telegram_link_started": _l("Telegram link started"),
    "user.telegram_linked": _l("Telegram linked"),
    "user.telegram_unlinked": _l("Telegram unlinked"),
    "user.two_factor_reset": _l("Two-step verification reset"),
    "user.unlocked": _l("Account unlocked"),
    "user.updated": _l("User account changed"),
    "voice.callback_queued": _l("Call-back queued"),
    "voice.caller_reached": _l("Caller reached on a later call-back; the case stays open"),
    "voice.caller_withheld": _l("Call from a withheld number"),
    "voice.machine_answered": _l("A call reached voicemail, not the person"),
    "voice.recording_joined": _l("Recording from a later call-back added to the case"),
    "voice.unreachable": _l("The person could not be reached by phone"),
}

# Actors that are not a console user (users appear by their email).
ACTOR_LABELS: dict[str, LazyString] = {
    survey.SYSTEM_ACTOR: _l("Sawti (automatic)"),
    "cli": _l("Administrator (command line)"),
    "demo": _l("Demonstration data"),
    triage.ACTOR: _l("Triage assistant"),
    info.ACTOR: _l("Information line"),
    survey.CONTACT_ACTOR: _l("The person"),
}

DETAIL_LABELS: dict[str, LazyString] = {
    "active": _l("Active"),
    "age_group": _l("Age group"),
    "assignee_id": _l("Assignee (user number)"),
    "attachment_days": _l("Attachments kept (days)"),
    "attachment_id": _l("Attachment number"),
    "attachments": _l("Attachments"),
    "answered_by": _l("Answered by"),
    "attempts": _l("Attempts"),
    "audio": _l("Voice recording"),
    "automatic": _l("Automatic"),
    "bulk": _l("Several cases at once"),
    "call_sid": _l("Call identifier"),
    "callback_id": _l("Call-back (message number)"),
    "caller_reached": _l("The caller was reached on a later call-back"),
    "cancelled": _l("Cancelled"),
    "canned_id": _l("Canned response number"),
    "cases": _l("Cases"),
    "category": _l("Category"),
    "changed": _l("Changed"),
    "changed_meanwhile": _l("Changed meanwhile"),
    "changes": _l("Changes"),
    "channel": _l("Channel"),
    "code": _l("Code"),
    "consent": _l("Consent"),
    "contact_days": _l("Contact details kept (days)"),
    "contact_id": _l("Contact number"),
    "contacts": _l("Contacts"),
    "content_type": _l("File type"),
    "demo": _l("Demonstration"),
    "document_id": _l("Document number"),
    "due_at": _l("Due"),
    "duplicate_of": _l("Duplicate of"),
    "entry": _l("Information entry"),
    "entry_id": _l("Information entry number"),
    "error": _l("Error"),
    "failures": _l("Failed attempts"),
    "fields": _l("Fields"),
    "files": _l("Files"),
    "format": _l("Format"),
    "from_case_id": _l("From case (number)"),
    "from_reference": _l("From case"),
    "into_case_id": _l("Into case (number)"),
    "into_reference": _l("Into case"),
    "gender": _l("Gender"),
    "headcount": _l("Staff headcount"),
    "kind": _l("Kind"),
    "level": _l("Level"),
    "location": _l("Location"),
    "merged_into_id": _l("Merged into (case number)"),
    "message_id": _l("Message number"),
    "messages": _l("Messages"),
    "minutes": _l("Minutes"),
    "month": _l("Month"),
    "note_id": _l("Note number"),
    "notification_ids": _l("Notification numbers"),
    "opened_reference": _l("Case their message opened"),
    "part": _l("Part"),
    "project": _l("Project"),
    "project_id": _l("Project number"),
    "promoted": _l("Promoted"),
    "pseudonyms_checked": _l("Pseudonyms checked"),
    "reason": _l("Reason"),
    "received_by": _l("Received by"),
    "record_id": _l("Record number"),
    "referral_id": _l("Referral number"),
    "removed": _l("Removed"),
    "role": _l("Role"),
    "rotated": _l("Rotated"),
    "rules": _l("Rules"),
    "satisfaction": _l("Satisfaction"),
    "sensitive": _l("Sensitive"),
    "size_bytes": _l("Size (bytes)"),
    "status": _l("Status"),
    "step": _l("Step"),
    "suggested_level": _l("Suggested level"),
    "to_user_id": _l("To (user number)"),
    "token_id": _l("Token number"),
    "unreadable": _l("Unreadable"),
    "urgent": _l("Urgent"),
    "user_id": _l("User number"),
    "user_ids": _l("User numbers"),
    "with_contact": _l("With contact details"),
    "within_deadline": _l("Within the deadline"),
    "working": _l("Working"),
}


# Details recorded as [before, after].
BEFORE_AFTER = frozenset({"assignee_id", "changes", "merged_into_id", "role", "satisfaction",
                          "status"})

# Codes recorded as a detail's value, shown by their name in the reader's language.
ROLE_LABELS: dict[str, LazyString] = {
    "admin": _l("Administrator"), "officer": _l("Accountability officer"),
    "psea": _l("PSEA focal point"), "focal_point": _l("Focal point"), "viewer": _l("Viewer"),
}
STATUS_LABELS: dict[str, LazyString] = {code: _l(name) for code, name in STATUS_NAMES.items()}
# The fields an information entry or a canned response has (details "fields", "changed").
FIELD_LABELS: dict[str, LazyString] = {
    "code": _l("Short name"),
    "question_ar": _l("Question in Arabic"),
    "question_en": _l("Question in English"),
    "answer_ar": _l("Answer in Arabic"),
    "answer_en": _l("Answer in English"),
    "question_ckb": _l("Question in Kurdish (Sorani)"),
    "answer_ckb": _l("Answer in Kurdish (Sorani)"),
    "keywords": _l("Topic words"),
    "also": _l("Words one of which must also occur"),
    "asks": _l("What the entry answers"),
    "unless": _l("Words that mean something else"),
    "examples": _l("Ways people ask"),
    "locations": _l("Locations"),
    "valid_from": _l("Valid from"),
    "valid_to": _l("Valid until"),
    "active": _l("Active"),
    "title": _l("Title"),
    "body_ar": _l("Text in Arabic"),
    "body_en": _l("Text in English"),
    "name": _l("Name"),
    "role": _l("Role"),
}
FIELD_LISTS = frozenset({"fields", "changed"})


def _named(labels: dict[str, LazyString]) -> Callable[[str], str]:
    def name(code: str) -> str:
        found = labels.get(code)
        return str(found) if found is not None else code
    return name


VALUE_NAMES: dict[str, Callable[[str], str]] = {
    "channel": lambda code: channel_name(code, gettext),
    "role": _named(ROLE_LABELS),
    "status": _named(STATUS_LABELS),
}


def action_label(action: str) -> str:
    found = ACTION_LABELS.get(action)
    return str(found) if found is not None else action


def actor_label(actor: str) -> str:
    found = ACTOR_LABELS.get(actor)
    return str(found) if found is not None else actor


def detail_lines(details: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) for each detail, sorted by code; a code among the values (a channel, a
    role, a status, a field's name) by its name, the rest as recorded."""
    return [(str(DETAIL_LABELS.get(key, key)), _shown(key, value))
            for key, value in sorted((details or {}).items())]


def _shown(key: str, value: Any) -> str:
    if key in FIELD_LISTS and isinstance(value, list):
        value = [_named(FIELD_LABELS)(item) if isinstance(item, str) else item
                 for item in value]
    return _value(value, key in BEFORE_AFTER, VALUE_NAMES.get(key))


def _comma() -> str:
    """The list separator of the reader's language (Arabic writes «،»)."""
    locale = get_locale()
    return "، " if locale is not None and locale.language == "ar" else ", "


def _value(value: Any, before_after: bool = False,
           name: Callable[[str], str] | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return name(value) if name else value
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, list | tuple):
        if before_after and len(value) == 2:
            return f"{_value(value[0], name=name)} → {_value(value[1], name=name)}"
        return _comma().join(_value(item, name=name) for item in value) if value else "—"
    if isinstance(value, dict):
        # ``changes``: field → [before, after]
        return "; ".join(f"{DETAIL_LABELS.get(key, key)}: "
                         f"{_value(item, before_after, VALUE_NAMES.get(key))}"
                         for key, item in sorted(value.items()))
    return str(value)
