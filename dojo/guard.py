"""Forbidden calls: caught in the solution's parsed code and while it runs.

Statically, the solution's imports and dotted names are resolved through their aliases
(`import torch.nn.functional as F`) and matched against the kata's `forbidden` globs; a name
in a docstring or comment is no call. At run time a TorchFunctionMode sees every torch
function however it was looked up (an alias, `getattr` with a built string, `torch.ops.aten`)
and a global forward pre-hook sees forbidden nn.Module classes; either fails the test only
when the innermost caller is the solution, so the tests' own oracle calls are never blocked.
"""

from __future__ import annotations

import ast
import contextlib
import fnmatch
import functools
import importlib
import sys
from collections.abc import Iterator
from typing import Any

from dojo.catalog import Kata
from dojo.errors import ForbiddenCall
from dojo.frames import Origins

NUMPY_ONLY = "torch (this must be written with numpy alone)"


def _dotted(node: ast.AST) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def _is_torch(module: str) -> bool:
    return module == "torch" or module.startswith("torch.")


def static_violations(source: str, kata: Kata) -> list[str]:
    """`line N: name` for every forbidden name the code refers to."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    found: dict[tuple[int, str], None] = {}
    whole_file_numpy = "*" in kata.numpy_only

    def hit(line: int, name: str) -> None:
        found[(line, name)] = None

    def check(line: int, full: str) -> None:
        for pattern in kata.forbidden:
            if _matches(full, pattern):
                hit(line, pattern)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
                check(node.lineno, a.name)
                if whole_file_numpy and _is_torch(a.name):
                    hit(node.lineno, NUMPY_ONLY)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                aliases[a.asname or a.name] = full
                check(node.lineno, full)
            if whole_file_numpy and _is_torch(node.module):
                hit(node.lineno, NUMPY_ONLY)
        elif isinstance(node, ast.Call) and whole_file_numpy:
            # __import__("torch") and importlib.import_module("torch") with a literal name
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and _is_torch(str(first.value)):
                hit(node.lineno, NUMPY_ONLY)

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Name):
            parts = _dotted(node)
            if parts and parts[0] in aliases:
                check(node.lineno, ".".join([aliases[parts[0]], *parts[1:]]))
    return [f"line {line}: {name}" for line, name in found]


def resolve(dotted: str) -> list[tuple[Any, str, Any]]:
    """(parent, name, object) for each object a forbidden entry names (a glob in its last part
    names several); empty when nothing by that name exists here (a module not installed)."""
    parent_name, _, last = dotted.rpartition(".")
    if not parent_name:  # a top-level module: "sklearn"
        try:
            return [(None, dotted, importlib.import_module(dotted))]
        except ImportError:
            return []
    parts = parent_name.split(".")
    obj: Any = None
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return []
        break
    if obj is None:
        return []
    names = fnmatch.filter(dir(obj), last) if any(c in last for c in "*?[") else [last]
    return [(obj, n, getattr(obj, n)) for n in names if hasattr(obj, n)]


def _matches(full: str, pattern: str) -> bool:
    """A pattern names a callable, or a module and everything in it."""
    return fnmatch.fnmatchcase(full, pattern) or fnmatch.fnmatchcase(full, pattern + ".*")


class Guard:
    """The forbidden-call checks of one kata, active around one test's call phase."""

    def __init__(self, kata: Kata, origins: Origins) -> None:
        self.kata = kata
        self.origins = origins
        self.violations: list[str] = []
        # a whole numpy kata: every torch call by the solution is forbidden, classes included
        self.numpy_only_depth = 1 if "*" in kata.numpy_only else 0
        self._objects: dict[int, tuple[Any, str]] = {}  # id -> (object kept alive, entry)
        self._classes: list[tuple[type, str]] = []
        self._name_globs: list[tuple[str, str]] = []
        self._patches: list[tuple[Any, str, Any, str]] = []  # (parent, name, original, entry)
        for entry in kata.forbidden:
            for parent, name, obj in resolve(entry):
                if isinstance(obj, type):
                    self._classes.append((obj, entry))
                elif callable(obj) and not getattr(obj, "__module__", "torch").startswith("torch"):
                    # numpy and friends have no function mode: guard the attribute itself
                    self._patches.append((parent, name, obj, entry))
                else:
                    self._objects[id(obj)] = (obj, entry)
            short = entry.rpartition(".")[2].lstrip("_")
            if short[:1].islower():
                # the same op reached by another path: torch._C, torch.ops.aten, a Tensor method
                self._name_globs.append((f"*{short}*", entry))

    def _banned_name(self, func: Any) -> str | None:
        if id(func) in self._objects:
            return self._objects[id(func)][1]
        if type(func).__name__ in (
            "builtin_function_or_method",
            "method_descriptor",
            "OpOverload",
            "OpOverloadPacket",
            "wrapper_descriptor",
        ):
            name = getattr(func, "__name__", "").split(".")[0].lstrip("_")
            for pattern, entry in self._name_globs:
                if fnmatch.fnmatchcase(name, pattern):
                    return entry
        if self.numpy_only_depth:
            return NUMPY_ONLY
        return None

    def inspect_torch_call(self, func: Any) -> None:
        name = self._banned_name(func)
        if name is not None and self.origins.solution_is_calling():
            self.fail(name, getattr(func, "__name__", repr(func)))

    def inspect_module_call(self, module: Any) -> None:
        for cls, entry in self._classes:
            if isinstance(module, cls) and self.origins.solution_is_calling():
                self.fail(entry, type(module).__name__)

    def fail(self, entry: str, called: str) -> None:
        if entry == NUMPY_ONLY:
            message = f"forbidden call: torch's {called} (this must be written with numpy alone)"
        else:
            detail = "" if entry.endswith(called) else f", called as {called}"
            message = f"forbidden call: {entry}{detail}"
        self.violations.append(message)
        raise ForbiddenCall(message)

    @contextlib.contextmanager
    def numpy_only(self) -> Iterator[None]:
        self.numpy_only_depth += 1
        try:
            yield
        finally:
            self.numpy_only_depth -= 1

    def _guarded(self, original: Any, entry: str) -> Any:
        @functools.wraps(original)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.origins.solution_is_calling():
                self.fail(entry, getattr(original, "__name__", entry))
            return original(*args, **kwargs)

        return guarded

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Watch calls while the body runs: forbidden non-torch callables through their
        patched attributes, torch through a function mode (where torch was imported)."""
        with contextlib.ExitStack() as stack:
            for parent, name, original, entry in self._patches:
                setattr(parent, name, self._guarded(original, entry))
                stack.callback(setattr, parent, name, original)
            if "torch" in sys.modules:
                stack.enter_context(self._torch_watch())
            yield

    @contextlib.contextmanager
    def _torch_watch(self) -> Iterator[None]:
        import torch
        from torch.overrides import TorchFunctionMode

        guard = self

        class _Watch(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                guard.inspect_torch_call(func)
                return func(*args, **(kwargs or {}))

        hook = torch.nn.modules.module.register_module_forward_pre_hook(
            lambda module, _args: self.inspect_module_call(module)
        )
        try:
            with _Watch():
                yield
        finally:
            hook.remove()
