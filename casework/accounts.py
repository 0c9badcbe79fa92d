"""Staff accounts: Argon2 passwords, TOTP second factor, lock-out with growing delays.

The TOTP secret is stored encrypted with the same vault as contact addresses.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyotp.exceptions import OTPVerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework import audit
from casework.access import CONTENT_ROLES
from casework.models import Role, User
from casework.privacy import Vault
from casework.text import ascii_digits

MIN_PASSWORD_LENGTH = 10
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
FREE_ATTEMPTS = 5  # failures allowed before the account locks
MAX_LOCK = timedelta(hours=24)
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A request about an account that cannot be done; the message says why."""


class AccountLocked(AccountError):
    """Refused because the account is locked after failed attempts."""


class WrongPassword(AccountError):
    """Refused because the password given is not the account's."""


class LastAdministrator(AccountError):
    """Refused because no active administrator would be left."""


class LoginResult(StrEnum):
    OK = "ok"
    NEEDS_TOTP = "needs_totp"
    NEEDS_ENROLMENT = "needs_enrolment"
    REFUSED = "refused"  # unknown user, wrong password or inactive: one answer for all
    LOCKED = "locked"


@dataclass(frozen=True)
class Attempt:
    result: LoginResult
    user: User | None = None


def create_user(session: Session, email: str, password: str, role: str, *, name: str = "",
                locations: list[str] | None = None, actor: str = "cli") -> User:
    email = normalize_email(email)
    if len(email) > 255 or not EMAIL.fullmatch(email):
        raise AccountError(f"{email!r} is not an email address")
    if role not in set(Role):
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(Role)}")
    check_password_strength(password)
    if find_user(session, email) is not None:
        raise AccountError(f"a user with the email {email} already exists")
    user = User(email=email, name=name, role=role, password_hash=_hasher.hash(password),
                locations=locations or [], active=True, failed_logins=0, session_version=1,
                language="ar")
    session.add(user)
    session.flush()
    audit.record(session, "user.created", actor=actor, user_id=user.id, role=role)
    session.commit()
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == normalize_email(email))
                           ).first()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def requires_totp(user: User) -> bool:
    """Whoever can read case content, or erase people's data and manage the service."""
    return user.role in CONTENT_ROLES or user.role == Role.ADMIN


def check_password(session: Session, email: str, password: str, now: datetime) -> Attempt:
    """The first login step; records the outcome in the audit log and commits."""
    user = find_user(session, email)
    if user is None or not user.active:
        _hasher.hash(password)  # same time as a real check: no user enumeration by timing
        audit.record(session, "login.failed", reason="unknown_or_inactive")
        session.commit()
        return Attempt(LoginResult.REFUSED)
    if user.locked_until and user.locked_until > now:
        audit.record(session, "login.locked", user_id=user.id)
        session.commit()
        return Attempt(LoginResult.LOCKED, user)
    if not _verify(user.password_hash, password):
        return _failed(session, user, now, "password")
    if not requires_totp(user):
        return _succeeded(session, user, now)
    session.commit()
    needs = LoginResult.NEEDS_TOTP if user.totp_confirmed_at else LoginResult.NEEDS_ENROLMENT
    return Attempt(needs, user)


def check_totp(session: Session, user: User, code: str, vault: Vault, now: datetime) -> Attempt:
    """The second login step."""
    if user.locked_until and user.locked_until > now:
        return Attempt(LoginResult.LOCKED, user)
    if not _code_accepted(user, code, vault, now):
        return _failed(session, user, now, "totp")
    return _succeeded(session, user, now)


def _code_accepted(user: User, code: str, vault: Vault, now: datetime) -> bool:
    """The code is the authenticator's for now (or 30 seconds either side) and was not
    accepted before: one seen over a shoulder or in a proxy's log cannot sign in again."""
    if not user.totp_secret_encrypted:
        return False
    secret = vault.decrypt(user.totp_secret_encrypted)
    try:
        step = pyotp.TOTP(secret).verify_and_get_timecode(_digits(code), for_time=now,
                                                          valid_window=1)
    except OTPVerificationError:
        return False
    if user.totp_last_step is not None and step <= user.totp_last_step:
        return False
    user.totp_last_step = step
    return True


def start_enrolment(session: Session, user: User, vault: Vault) -> str:
    """A new TOTP secret (kept unconfirmed until a code proves the app has it)."""
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = vault.encrypt(secret)
    user.totp_confirmed_at, user.totp_last_step = None, None
    session.commit()
    return secret


def confirm_enrolment(session: Session, user: User, code: str, vault: Vault, now: datetime
                      ) -> Attempt:
    """The first code from the new authenticator; a wrong one counts towards the lock-out,
    like a wrong sign-in code (the password was right, so this is the second factor)."""
    if user.locked_until and user.locked_until > now:
        return Attempt(LoginResult.LOCKED, user)
    if not _code_accepted(user, code, vault, now):
        audit.record(session, "totp.enrolment_failed", actor=user.email, user_id=user.id)
        return _failed(session, user, now, "enrolment")
    user.totp_confirmed_at = now
    audit.record(session, "totp.enrolled", actor=user.email, user_id=user.id)
    return _succeeded(session, user, now)


def provisioning_uri(user: User, secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def change_password(session: Session, user: User, current: str, new: str, now: datetime
                    ) -> None:
    """A wrong current password counts towards the lock-out (someone at an unattended
    signed-in screen must not guess it at leisure); while locked, nothing changes."""
    if user.locked_until and user.locked_until > now:
        raise AccountLocked("the account is locked after failed attempts")
    if not _verify(user.password_hash, current):
        _failed(session, user, now, "current_password")
        raise WrongPassword("the current password is not correct")
    check_password_strength(new)
    user.password_hash = _hasher.hash(new)
    user.session_version += 1  # every other session ends
    audit.record(session, "user.password_changed", actor=user.email, user_id=user.id)
    session.commit()


def log_out_everywhere(session: Session, user: User) -> None:
    user.session_version += 1
    audit.record(session, "user.logged_out_everywhere", actor=user.email, user_id=user.id)
    session.commit()


def update_user(session: Session, user: User, *, name: str, role: str, locations: list[str],
                actor: str) -> list[str]:
    """Change a user's name, role or locations; returns the fields that changed. A new role
    ends the user's sessions: the next sign-in asks for what the role needs (an
    authenticator)."""
    if role not in set(Role):
        raise AccountError(f"unknown role {role!r}")
    if user.role == Role.ADMIN and role != Role.ADMIN:
        _keep_an_admin(session, user)
    before = {"name": user.name, "role": user.role, "locations": list(user.locations or [])}
    user.name, user.role, user.locations = name, role, list(locations)
    changed = [field for field, value in before.items() if getattr(user, field) != value]
    if changed:
        details: dict[str, object] = {"user_id": user.id, "changed": changed}
        if "role" in changed:
            details["role"] = [before["role"], role]
            user.session_version += 1
        audit.record(session, "user.updated", actor=actor, **details)
    session.commit()
    return changed


def _keep_an_admin(session: Session, leaving: User) -> None:
    """Refuse to disable or demote the last active administrator: nobody could manage
    accounts afterwards."""
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.active.is_(True), User.id != leaving.id))
    if not others:
        raise LastAdministrator("the last active administrator must stay one")


def set_active(session: Session, user: User, active: bool, actor: str) -> None:
    """Disable an account (its sessions end, its API tokens stop working) or enable it."""
    if user.active == active:
        return
    if not active and user.role == Role.ADMIN:
        _keep_an_admin(session, user)
    user.active = active
    if not active:
        user.session_version += 1
    audit.record(session, "user.enabled" if active else "user.disabled", actor=actor,
                 user_id=user.id)
    session.commit()


def reset_password(session: Session, user: User, password: str, actor: str) -> None:
    """A new password set for someone who forgot theirs: it also lifts a lock-out, and
    every session of the account ends."""
    check_password_strength(password)
    user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    user.session_version += 1
    audit.record(session, "user.password_reset", actor=actor, user_id=user.id)
    session.commit()


def reset_two_factor(session: Session, user: User, actor: str) -> None:
    """Forget the authenticator (a lost phone): the next sign-in shows a new QR code."""
    user.totp_secret_encrypted, user.totp_confirmed_at, user.totp_last_step = None, None, None
    user.session_version += 1
    audit.record(session, "user.two_factor_reset", actor=actor, user_id=user.id)
    session.commit()


def unlock(session: Session, user: User, actor: str) -> None:
    """Lift a lock-out before its delay has passed."""
    user.failed_logins, user.locked_until = 0, None
    audit.record(session, "user.unlocked", actor=actor, user_id=user.id)
    session.commit()


def temporary_password() -> str:
    """A password an administrator gives someone to sign in with once and then change:
    16 letters and digits in groups of four, without look-alikes (0/O, 1/l/I)."""
    letters = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(letters) for _ in range(16))
    return "-".join(raw[start:start + 4] for start in range(0, 16, 4))


def lock_delay(failures: int) -> timedelta:
    """No delay for the first few failures, then 1, 2, 4 ... minutes, at most a day."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    return min(MAX_LOCK, timedelta(minutes=2 ** (failures - FREE_ATTEMPTS)))


def _failed(session: Session, user: User, now: datetime, step: str) -> Attempt:
    user.failed_logins += 1
    delay = lock_delay(user.failed_logins)
    audit.record(session, "login.failed", user_id=user.id, step=step,
                 failures=user.failed_logins)
    if delay:
        user.locked_until = now + delay
        audit.record(session, "login.lockout", user_id=user.id,
                     minutes=int(delay.total_seconds() // 60))
    session.commit()
    return Attempt(LoginResult.LOCKED if delay else LoginResult.REFUSED, user)


def _succeeded(session: Session, user: User, now: datetime) -> Attempt:
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    audit.record(session, "login.succeeded", actor=user.email, user_id=user.id)
    session.commit()
    return Attempt(LoginResult.OK, user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digits(code: str) -> str:
    return "".join(char for char in ascii_digits(code) if char.isdigit())
