"""Who is calling: the learner's solution, or the tests and their oracles.

The innermost frame that belongs to either side decides: test files (`test_*.py`,
`conftest.py`) are the tests' side, files under the solutions folder the solution's. Frames
of the harness and of libraries (torch, numpy, hypothesis) belong to neither and are
skipped, so a torch helper called by a solution counts as the solution's call, and a test
callback called by a solution counts as the test's.
"""

from __future__ import annotations

import sys
from pathlib import Path


class Origins:
    def __init__(self, solutions_root: Path) -> None:
        self.solutions_root = solutions_root.resolve()
        self._cache: dict[str, bool | None] = {}

    def _side(self, filename: str) -> bool | None:
        """True for solution code, False for test or harness code, None for neither."""
        try:
            return self._cache[filename]
        except KeyError:
            pass
        path = Path(filename).resolve()
        side: bool | None = None
        if path.name.startswith("test_") or path.name == "conftest.py":
            side = False
        elif path.is_relative_to(self.solutions_root):
            side = True
        self._cache[filename] = side
        return side

    def solution_is_calling(self) -> bool:
        frame = sys._getframe(1)
        while frame is not None:
            side = self._side(frame.f_code.co_filename)
            if side is not None:
                return side
            frame = frame.f_back
        return False
