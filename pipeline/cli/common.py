"""Shared CLI plumbing: the state object and the errors shown to users as one line."""

from __future__ import annotations

from dataclasses import dataclass

import typer
from rich.console import Console

from pipeline.db import Database

console = Console()
err_console = Console(stderr=True)


@dataclass
class AppState:
    db: Database


def state(ctx: typer.Context) -> AppState:
    return ctx.find_root().obj


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the user (or their input) is wrong, not the program."""
    from sqlalchemy.exc import ArgumentError, OperationalError

    from crawlers.profile import ProfileError
    from pipeline.cli.demo_cmd import DemoPortsBusy
    from pipeline.cli.model_cmd import InputError
    from pipeline.queue import QueueError

    errors: list[type[BaseException]] = [
        ProfileError, QueueError, InputError, DemoPortsBusy, ArgumentError, OperationalError, FileNotFoundError,
    ]
    try:
        from classifier import CorpusError, ModelIntegrityError

        errors += [CorpusError, ModelIntegrityError]
    except ImportError:  # pragma: no cover - classifier always ships
        pass
    return tuple(errors)
