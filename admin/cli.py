"""Staff accounts, API tokens, information entries and demo data from the command line:
``flask users create`` (and ``disable``, ``enable``, ``reset-password``, ``reset-two-factor``,
``unlock``), ``flask tokens create``, ``flask info import``, ``flask demo``."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask import Flask

from casework import accounts, demo, info
from casework.accounts import AccountError, normalize_email
from casework.models import Role, User, utcnow
from casework.tokens import create_token
from extensions import db


def register(app: Flask) -> None:
    register_users(app)
    register_tokens(app)
    register_info(app)
    register_demo(app)


def register_users(app: Flask) -> None:
    @app.cli.group("users")
    def users() -> None:
        """Staff accounts."""

    @users.command("create")
    @click.argument("email")
    @click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
    @click.option("--name", default="", help="Name shown in the console.")
    @click.option("--location", "locations", multiple=True,
                  help="Location code an officer works on (repeatable; none means all).")
    @click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
    def create(email: str, role: str, name: str, locations: tuple[str, ...],
               password_stdin: bool) -> None:
        """Create a user; the password comes from a prompt or --password-stdin."""
        password = _new_password(password_stdin)
        try:
            user = accounts.create_user(db.session, email, password, role, name=name,
                                        locations=list(locations))
        except AccountError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"created {user.email} ({user.role})")

    register_user_changes(users)


def register_user_changes(users: click.Group) -> None:
    """Disable and enable accounts, reset a forgotten password or a lost authenticator,
    lift a lock-out: each audited, as the command line."""

    @users.command("disable")
    @click.argument("email")
    def disable(email: str) -> None:
        """Disable a user: their sessions end and their API tokens stop working."""
        try:
            accounts.set_active(db.session, _user(email), False, actor="cli")
        except AccountError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"disabled {normalize_email(email)}")

    @users.command("enable")
    @click.argument("email")
    def enable(email: str) -> None:
        """Enable a disabled user again."""
        accounts.set_active(db.session, _user(email), True, actor="cli")
        click.echo(f"enabled {normalize_email(email)}")

    @users.command("reset-password")
    @click.argument("email")
    @click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
    def reset_password(email: str, password_stdin: bool) -> None:
        """Set a new password (it also lifts a lock-out and ends every session)."""
        user = _user(email)
        password = _new_password(password_stdin)
        try:
            accounts.reset_password(db.session, user, password, actor="cli")
        except AccountError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"password reset for {user.email}")

    @users.command("reset-two-factor")
    @click.argument("email")
    def reset_two_factor(email: str) -> None:
        """Forget a lost authenticator: the next sign-in sets up a new one."""
        accounts.reset_two_factor(db.session, _user(email), actor="cli")
        click.echo(f"two-step verification reset for {normalize_email(email)}")

    @users.command("unlock")
    @click.argument("email")
    def unlock(email: str) -> None:
        """Lift a lock-out after failed sign-ins."""
        accounts.unlock(db.session, _user(email), actor="cli")
        click.echo(f"unlocked {normalize_email(email)}")


def _user(email: str) -> User:
    user = accounts.find_user(db.session, email)
    if user is None:
        raise click.ClickException(f"no user with the email {normalize_email(email)}")
    return user


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def register_tokens(app: Flask) -> None:
    @app.cli.group("tokens")
    def tokens() -> None:
        """API tokens."""

    @tokens.command("create")
    @click.argument("email")
    @click.option("--name", default="", help="What the token is for (shown in the console).")
    def create(email: str, name: str) -> None:
        """Print a new API token for EMAIL; it is shown only this once."""
        user = accounts.find_user(db.session, email)
        if user is None or not user.active:
            raise click.ClickException(f"no active user with the email {email}")
        click.echo(create_token(db.session, user, name))


def register_info(app: Flask) -> None:
    @app.cli.group("info")
    def info_group() -> None:
        """Information line entries."""

    @info_group.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--as", "email", required=True, help="The staff member the entries are by.")
    @click.option("--approve", is_flag=True, help="Approve them too (check them first).")
    def import_entries(path: Path, email: str, approve: bool) -> None:
        """Create the entries of a YAML file (config/info_entries.yaml's format) not there yet."""
        user = accounts.find_user(db.session, email)
        if user is None or not user.active:
            raise click.ClickException(f"no active user with the email {email}")
        try:
            created = info.import_entries(db.session, path, user, utcnow(), approve_all=approve)
        except info.EntryRefused as refused:
            raise click.ClickException(f"an entry was refused: {refused.reason}") from refused
        click.echo(f"{created} entr{'y' if created == 1 else 'ies'} created")


def register_demo(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--password", default=None,
                  help="Password of the demo accounts (default: a new random one, printed).")
    def demo_command(password: str | None) -> None:
        """Realistic demo data in Arabic: staff of every role, information entries, cases."""
        from services import services

        password = password or secrets.token_urlsafe(12)
        result = demo.load(db.session, vault=services().vault, dialogue=services().dialogue,
                           entries_path=services().settings.sawti_config_dir
                           / "info_entries.yaml", password=password, echo=click.echo)
        for email in result.users:
            click.echo(f"  {email}")
        if result.users:
            click.echo(f"password of the new demo accounts: {password}")
