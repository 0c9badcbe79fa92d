"""The signed-in user's notifications (list, mark read, a count in the navigation) and the
account section that links a Telegram chat to receive them.

Everyone sees only their own notifications; what a notification says was limited to what its
user may see when it was created (``casework.notifications``).
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.security import login_required
from bot.messages import Speaker
from casework import notifications
from casework.models import Notification, utcnow
from extensions import db
from services import services

PAGE_SIZE = 100


@bp.app_context_processor
def _unread_badge() -> dict:
    def unread_notifications() -> int:
        user = g.get("user")
        return notifications.unread_count(db.session, user) if user is not None else 0
    return {"unread_notifications": unread_notifications}


@bp.get("/notifications")
@login_required
def notifications_page() -> ResponseReturnValue:
    rows = db.session.scalars(
        select(Notification).where(Notification.user_id == g.user.id)
        .order_by(Notification.id.desc()).limit(PAGE_SIZE)).all()
    speaker = Speaker(str(get_locale() or "ar"))
    zone = services().settings.sawti_timezone
    items = [(row, notifications.describe(row, speaker, zone)) for row in rows]
    return render_template("admin/notifications.html", items=items,
                           telegram_linked=g.user.telegram_chat_encrypted is not None)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def notification_read(notification_id: int) -> ResponseReturnValue:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != g.user.id:
        abort(404, description="no such notification of yours")
    notifications.mark_read(db.session, g.user, [notification_id], utcnow())
    return redirect(url_for("admin.notifications_page"))


@bp.post("/notifications/read-all")
@login_required
def notifications_read_all() -> ResponseReturnValue:
    count = notifications.mark_read(db.session, g.user, None, utcnow())
    if count:
        flash(_("All notifications are marked read."), "info")
    return redirect(url_for("admin.notifications_page"))


# --- Telegram -------------------------------------------------------------------------------


@bp.get("/account/telegram")
@login_required
def telegram_account() -> ResponseReturnValue:
    return _telegram_page(code=None)


@bp.post("/account/telegram/link")
@login_required
def telegram_link() -> ResponseReturnValue:
    if "telegram" not in services().adapters:
        flash(_("Telegram is not configured for this service."), "error")
        return _telegram_page(code=None), 409
    code = notifications.start_telegram_link(db.session, g.user, utcnow())
    return _telegram_page(code=code)


@bp.post("/account/telegram/unlink")
@login_required
def telegram_unlink() -> ResponseReturnValue:
    if g.user.telegram_chat_encrypted is not None:
        notifications.unlink_telegram(db.session, g.user, utcnow())
        flash(_("Telegram is unlinked: alerts no longer go to that chat."), "info")
    return redirect(url_for("admin.telegram_account"))


def _telegram_page(code: str | None) -> str:
    minutes = int(notifications.LINK_CODE_LIFETIME.total_seconds() // 60)
    return render_template("admin/telegram.html", code=code, minutes=minutes,
                           configured="telegram" in services().adapters)
