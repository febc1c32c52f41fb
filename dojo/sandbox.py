"""Keeping one kata's misbehaviour inside that kata.

Global torch state (default dtype, grad mode, threads) is compared before and after each
test: a change is undone and fails the test. Random-number state is restored silently, so
no kata's draws depend on which katas ran before it. `os._exit` called by a solution raises
instead of killing the grader. Captured output is cut to a readable size.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable
from typing import Any

from dojo.errors import SolutionExit

OUTPUT_LIMIT = 4000


class StateChanged(AssertionError):
    """The test left global torch state changed; the harness has put it back."""


def snapshot() -> dict[str, Any]:
    state: dict[str, Any] = {"python_random": random.getstate()}
    if "numpy" in sys.modules:
        state["numpy_random"] = sys.modules["numpy"].random.get_state()
    if "torch" in sys.modules:
        import torch

        state["torch"] = {
            "default dtype": torch.get_default_dtype(),
            "grad mode": torch.is_grad_enabled(),
            "number of threads": torch.get_num_threads(),
            "deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        }
        state["torch_random"] = torch.random.get_rng_state()
    return state


def restore(before: dict[str, Any]) -> list[str]:
    """Put global state back as it was; return what a test had changed, as phrases."""
    random.setstate(before["python_random"])
    if "numpy_random" in before:
        sys.modules["numpy"].random.set_state(before["numpy_random"])
    if "torch" not in sys.modules:
        return []
    import torch

    if "torch" in before:
        torch.random.set_rng_state(before["torch_random"])
    else:  # the solution imported torch during the test: compare with torch's defaults
        before = {
            "torch": {
                "default dtype": torch.float32,
                "grad mode": True,
                "number of threads": torch.get_num_threads(),
                "deterministic algorithms": False,
            }
        }
    now = snapshot()["torch"]
    changed = [
        f"{what} {before['torch'][what]} -> {now[what]}"
        for what in before["torch"]
        if now[what] != before["torch"][what]
    ]
    setters: dict[str, Callable[[Any], Any]] = {
        "default dtype": torch.set_default_dtype,
        "grad mode": torch.set_grad_enabled,
        "number of threads": torch.set_num_threads,
        "deterministic algorithms": torch.use_deterministic_algorithms,
    }
    for what, value in before["torch"].items():
        if now[what] != value:
            setters[what](value)
    return changed


def guard_process_exit(solution_is_calling: Callable[[], bool]) -> Callable[[], None]:
    """Make os._exit raise SolutionExit when a solution calls it; return the undo."""
    import posix

    real = os._exit

    def _exit(code: int) -> None:
        if solution_is_calling():
            raise SolutionExit(f"the solution called os._exit({code})")
        real(code)

    os._exit = posix._exit = _exit

    def undo() -> None:
        os._exit = posix._exit = real

    return undo


def cut(text: str, limit: int = OUTPUT_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... [{len(text) - limit} more characters cut by the grader]\n"
