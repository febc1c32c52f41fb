"""Exceptions that end a test with one clear line instead of a traceback.

They are pytest failures (`pytest.fail.Exception`, a BaseException), so a solution's
`except Exception:` cannot swallow them and pytest caches them like any failed fixture.
"""

import pytest


class GradingError(pytest.fail.Exception):
    """Base class: the message is the whole story, shown without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(msg=message, pytrace=False)


class SolutionMissing(GradingError):
    """The solutions folder has no file for this kata: it is not started."""


class SolutionBroken(GradingError):
    """The solution cannot be imported or used: syntax error, import error, missing name."""


class MissingName(SolutionBroken, AttributeError):
    """The solution module lacks a public name of the kata (an AttributeError, so hasattr works)."""


class SolutionExit(GradingError):
    """The solution tried to end the process (os._exit)."""


class ForbiddenCall(GradingError):
    """The solution used a call that its kata.toml forbids."""


class NotRun(GradingError):
    """An earlier test of the same kata hung, so this one was not run."""
