"""The channels blueprint: provider webhooks, the web simulator and the health check."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.conversation import Handled, handle_inbound
from casework import outbox
from casework.intake import Inbound
from casework.models import Contact, DeliveryStatus, Direction, Message, utcnow
from channels import ADAPTERS, twilio_voice
from channels.base import BadWebhook, ChannelAdapter
from channels.delivery import record_statuses
from channels.simulator import SimulatorAdapter
from extensions import db
from services import services

log = logging.getLogger(__name__)
bp = Blueprint("channels", __name__, template_folder="templates", static_folder="static",
               static_url_path="/channels/static")
SIMULATOR_PAGE_SIZE = 50
DELIVERED_STATES = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


def receive(channels: tuple[str, ...]) -> ResponseReturnValue:
    adapter = _adapter_for(channels)
    if not adapter.verify(request):
        log.warning("webhook rejected: verification failed", extra={"adapter": adapter.name})
        abort(403, description="request could not be verified")
    try:
        inbounds = adapter.parse(request)
    except BadWebhook as error:
        abort(400, description=str(error))
    return adapter.webhook_response([_handle_once(inbound) for inbound in inbounds])


def _handle_once(inbound: Inbound) -> Handled:
    """Store and answer a delivery; a provider's retry of a recent one, from Redis if we can."""
    svc = services()

    def store_and_answer(inbound: Inbound) -> Handled:
        return handle_inbound(db.session, inbound, svc.vault, svc.dialogue)

    if svc.recent is None:
        return store_and_answer(inbound)
    return svc.recent.handle(inbound, store_and_answer)


def receive_status(channels: tuple[str, ...]) -> ResponseReturnValue:
    adapter = _adapter_for(channels)
    if not adapter.verify(request):
        log.warning("status callback rejected: verification failed",
                    extra={"adapter": adapter.name})
        abort(403, description="request could not be verified")
    try:
        updates = adapter.parse_status(request)
    except BadWebhook as error:
        abort(400, description=str(error))
    record_statuses(db.session, adapter.channels, updates, utcnow())
    return adapter.status_response()


def _adapter_for(channels: tuple[str, ...]) -> ChannelAdapter:
    adapters = services().adapters
    adapter = next((adapters[name] for name in channels if name in adapters), None)
    if adapter is None:
        abort(404, description=f"the {' / '.join(channels)} channel is not configured")
    return adapter


def _register_provider_routes() -> None:
    """One route per provider path; the adapter is looked up when a request arrives."""
    paths: dict[tuple[str, object], list[str]] = {}
    for name, adapter_class in ADAPTERS.items():
        for view, path in ((receive, adapter_class.webhook_path),
                           (receive_status, adapter_class.status_path)):
            if path:
                paths.setdefault((path, view), []).append(name)
    for (path, view), names in paths.items():
        endpoint = f"{view.__name__}_{path.strip('/').replace('/', '_')}"
        bp.add_url_rule(path, endpoint=endpoint, view_func=view, methods=["POST"],
                        defaults={"channels": tuple(names)})


_register_provider_routes()
twilio_voice.register_routes(bp)  # the voice line's TwiML and callbacks


@bp.get("/simulator")
def simulator_page() -> ResponseReturnValue:
    _require_simulator()
    return render_template("simulator.html")


@bp.get("/simulator/messages")
def simulator_messages() -> ResponseReturnValue:
    """The replies the dispatcher delivered to this tab, after a given message id.

    The tab id travels in a header, not the URL, so that access logs never hold it.
    """
    _require_simulator()
    tab = request.headers.get("X-Sawti-Tab", "")
    after = request.args.get("after", "0")
    if not after.isdigit() or not tab:
        abort(400, description="the X-Sawti-Tab header and a numeric 'after' are required")
    pseudonym = services().vault.pseudonym(SimulatorAdapter.name, tab)
    contact = db.session.scalar(select(Contact).where(Contact.pseudonym == pseudonym))
    if contact is None:
        return jsonify(messages=[])
    delivered = db.session.scalars(
        select(Message)
        .where(Message.contact_id == contact.id, Message.direction == Direction.OUTBOUND,
               Message.status.in_(DELIVERED_STATES),
               Message.id > int(after))
        .order_by(Message.id).limit(SIMULATOR_PAGE_SIZE)
    )
    return jsonify(messages=[{"id": m.id, "body": m.body, "kind": m.kind,
                              "language": m.language} for m in delivered])


def _require_simulator() -> None:
    if SimulatorAdapter.name not in services().adapters:
        abort(404, description="the simulator is not enabled")


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    report: dict[str, object] = {"database": "ok"}
    healthy = True
    try:
        db.session.execute(text("SELECT 1"))
        oldest = outbox.oldest_due_at(db.session, utcnow())
        lag = max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0
        report["dispatcher_lag_seconds"] = round(lag, 3)
    except SQLAlchemyError:
        db.session.rollback()
        report["database"] = "unavailable"
        report["dispatcher_lag_seconds"] = None
        healthy = False
    report["redis"] = _redis_health()
    if report["redis"] == "unavailable":
        healthy = False
    report["status"] = "ok" if healthy else "degraded"
    return jsonify(report), 200 if healthy else 503


def _redis_health() -> str:
    url = services().settings.redis_url
    if not url:
        return "not configured"
    import redis  # only needed when configured

    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return "unavailable"
    return "ok"
