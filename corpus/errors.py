"""Errors the CLI reports as one line, never as a traceback."""

from __future__ import annotations


class CorpusError(Exception):
    """A problem the user can fix; its message is printed as is."""


class InputError(CorpusError):
    """A problem with one input file or folder; the message names it."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class UsageError(CorpusError):
    """A bad argument or option (exit status 2): the message says what to change."""
