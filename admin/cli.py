"""``flask users create`` — staff accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask import Flask

from casework import accounts
from casework.accounts import AccountError
from casework.models import Role
from casework.tokens import create_token
from extensions import db


def register(app: Flask) -> None:
    register_users(app)
    register_tokens(app)


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
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = accounts.create_user(db.session, email, password, role, name=name,
                                        locations=list(locations))
        except AccountError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"created {user.email} ({user.role})")


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
