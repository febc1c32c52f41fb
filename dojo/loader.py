"""Importing a solution lazily, inside the tests, so one broken file fails one kata only."""

from __future__ import annotations

import functools
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from dojo.catalog import Kata
from dojo.errors import (
    ForbiddenCall,
    GradingError,
    MissingName,
    SolutionBroken,
    SolutionMissing,
)
from dojo.guard import Guard, static_violations
from dojo.impl import Impl


def _where(path: Path, exc: BaseException) -> str:
    """`file:line` of the deepest frame of the solution file in exc's traceback."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if Path(frame.f_code.co_filename) == path:
            line = lineno
    return f"{path}:{line}" if line else str(path)


def import_solution(kata: Kata, impl: Impl) -> ModuleType:
    """Parse, check and import the kata's solution file; raise a GradingError on trouble."""
    path = impl.solution_file(kata.name)
    if path is None:
        raise SolutionMissing(
            f"not started: {impl.root} has no {kata.name}.py (nor {kata.name}/{kata.name}.py)"
        )
    try:
        source = path.read_text(encoding="utf-8")
        found = static_violations(source, kata)
    except SyntaxError as exc:
        raise SolutionBroken(f"{path}:{exc.lineno}: SyntaxError: {exc.msg}") from None
    if found:
        raise ForbiddenCall(f"forbidden call in {path}: {'; '.join(found)}")
    name = f"dojo_solution_{kata.name}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    except GradingError:
        raise
    except SystemExit as exc:
        raise SolutionBroken(
            f"{_where(path, exc)}: called sys.exit({exc.code!r}) on import"
        ) from None
    except BaseException as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise SolutionBroken(
            f"{_where(path, exc)}: {type(exc).__name__} on import: {first}".rstrip(": ")
        ) from None
    return module


class Solution:
    """What a kata's tests see as `solution`: the learner's module, names checked on use."""

    def __init__(self, module: ModuleType, path: Path, guard_for: Any, numpy_only: tuple) -> None:
        self._module = module
        self._path = path
        self._guard_for = guard_for  # () -> the Guard active for the running test
        self._numpy_only = numpy_only

    def __getattr__(self, name: str) -> Any:
        try:
            obj = getattr(self._module, name)
        except AttributeError:
            raise MissingName(
                f"{self._path} defines no `{name}`; the kata's stub shows every name to write"
            ) from None
        # a whole numpy kata ("*") is guarded by the Guard itself; here only the named functions
        # of a mixed kata (cross_entropy's numpy losses beside its torch one)
        if name in self._numpy_only and callable(obj):
            return self._numpy_only_wrapper(obj)
        return obj

    def _numpy_only_wrapper(self, func: Any) -> Any:
        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            guard: Guard | None = self._guard_for()
            if guard is None:
                return func(*args, **kwargs)
            with guard.numpy_only():
                return func(*args, **kwargs)

        return call
