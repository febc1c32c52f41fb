"""Collecting per-kata results: each test's outcome, then each kata's status."""

from __future__ import annotations

from dataclasses import dataclass, field

from dojo.errors import ForbiddenCall, NotRun, SolutionBroken, SolutionExit, SolutionMissing
from dojo.sandbox import StateChanged

# what happened to one test, worst last
PASSED, NOT_IMPLEMENTED, FAILED, NOT_RUN, BROKEN, FORBIDDEN = (
    "passed",
    "not_implemented",
    "failed",
    "not_run",
    "broken",
    "forbidden",
)
_SEVERITY = [PASSED, NOT_IMPLEMENTED, FAILED, NOT_RUN, BROKEN, FORBIDDEN]
TIMEOUT_PREFIX = "Timeout"
MESSAGE_LIMIT = 300


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MESSAGE_LIMIT else line[: MESSAGE_LIMIT - 3] + "..."


def is_timeout(exc: BaseException) -> bool:
    """pytest-timeout's failure (signal method) raised into the test."""
    return type(exc).__name__ == "Failed" and str(exc).startswith(TIMEOUT_PREFIX)


def classify(exc: BaseException | None, timeout_s: float) -> tuple[str, str]:
    """(outcome, message) for a test phase that raised exc (None: it passed)."""
    if exc is None:
        return PASSED, ""
    text = str(exc)
    if isinstance(exc, SolutionMissing):
        return NOT_IMPLEMENTED, text
    if isinstance(exc, NotImplementedError):
        return NOT_IMPLEMENTED, "not implemented yet"
    if isinstance(exc, ForbiddenCall):
        return FORBIDDEN, text
    if isinstance(exc, NotRun):
        return NOT_RUN, text
    if isinstance(exc, SolutionBroken | SolutionExit | StateChanged):
        return BROKEN, text
    if isinstance(exc, SystemExit):
        return BROKEN, f"the solution called sys.exit({exc.code!r})"
    if is_timeout(exc):
        return BROKEN, f"timed out after {timeout_s:g} s (an infinite loop, or far too slow)"
    return FAILED, f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def worse(a: str, b: str) -> str:
    return max(a, b, key=_SEVERITY.index)


@dataclass
class KataResult:
    name: str
    difficulty: str
    tests: dict[str, tuple[str, str]] = field(default_factory=dict)  # nodeid -> (outcome, msg)
    seconds: float = 0.0
    gpu_tests: set[str] = field(default_factory=set)  # the gpu-marked ones among tests
    gpu_skipped: int = 0  # gpu-marked tests skipped (no CUDA device)

    def record(
        self, nodeid: str, outcome: str, message: str, seconds: float, gpu: bool = False
    ) -> None:
        self.seconds += seconds
        if gpu:
            self.gpu_tests.add(nodeid)
        previous = self.tests.get(nodeid)
        if previous is None or worse(previous[0], outcome) == outcome != previous[0]:
            self.tests[nodeid] = (outcome, _one_line(message))

    @property
    def gpu(self) -> dict | None:
        """The gpu-marked tests: how many passed, failed, were skipped; None if it has none."""
        if not self.gpu_tests and not self.gpu_skipped:
            return None
        passed = sum(self.tests[n][0] == PASSED for n in self.gpu_tests)
        return {
            "passed": passed,
            "failed": len(self.gpu_tests) - passed,
            "skipped": self.gpu_skipped,
        }

    @property
    def passed(self) -> int:
        return sum(outcome == PASSED for outcome, _ in self.tests.values())

    @property
    def failed(self) -> int:
        return len(self.tests) - self.passed

    @property
    def not_run(self) -> int:
        return sum(outcome == NOT_RUN for outcome, _ in self.tests.values())

    def _first(self, outcome: str) -> str:
        for test_id, (got, message) in self.tests.items():
            if got == outcome:
                return f"{test_id.rpartition('::')[2]}: {message}" if outcome == FAILED else message
        return ""

    @property
    def status(self) -> str:
        outcomes = {outcome for outcome, _ in self.tests.values()}
        if FORBIDDEN in outcomes:
            return "forbidden"
        if BROKEN in outcomes:
            return "broken"
        if outcomes == {PASSED}:
            return "solved"
        if outcomes == {NOT_IMPLEMENTED}:
            return "not_started"
        return "failing"

    @property
    def message(self) -> str:
        status = self.status
        if status == "forbidden":
            return self._first(FORBIDDEN)
        if status == "broken":
            extra = f"; {self.not_run} later tests not run" if self.not_run else ""
            return self._first(BROKEN) + extra
        if status == "not_started":
            return self._first(NOT_IMPLEMENTED)
        if status == "failing":
            return self._first(FAILED) or self._first(NOT_IMPLEMENTED) or self._first(NOT_RUN)
        return ""

    def as_json(self) -> dict:
        data = {
            "status": self.status,
            "difficulty": self.difficulty,
            "passed": self.passed,
            "failed": self.failed,
            "not_run": self.not_run,
            "seconds": round(self.seconds, 3),
            "message": self.message,
        }
        if self.gpu is not None:
            data["gpu"] = self.gpu
        return data
