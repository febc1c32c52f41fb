"""Choosing the implementation to grade: `--impl` / `KATAS_IMPL`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "KATAS_IMPL"


class ImplError(ValueError):
    """The implementation asked for cannot be graded (no such folder, say)."""


@dataclass(frozen=True)
class Impl:
    """A solutions folder: `label` is what the user asked for, `root` the folder itself."""

    label: str
    root: Path

    def solution_file(self, kata: str) -> Path | None:
        """PATH/<kata>.py or PATH/<kata>/<kata>.py, whichever exists (the first wins)."""
        for candidate in (self.root / f"{kata}.py", self.root / kata / f"{kata}.py"):
            if candidate.is_file():
                return candidate
        return None


def choose_impl(option: str | None, rootdir: Path, invocation_dir: Path) -> Impl:
    """Resolve `--impl` (or, when it is absent, KATAS_IMPL) to a solutions folder."""
    label = option or os.environ.get(ENV_VAR) or "stubs"
    if label == "stubs":
        return Impl(label, rootdir / "katas")
    if label == "references":
        root = rootdir / "references"
        if not root.is_dir():
            raise ImplError(
                "--impl=references: this checkout has no references/ folder (the template "
                "branch ships without model solutions). Grade your own work with "
                "--impl=stubs, or point --impl at a solutions folder."
            )
        return Impl(label, root)
    root = (invocation_dir / label).resolve()
    if not root.is_dir():
        raise ImplError(
            f"--impl={label}: no such folder ({root}). Give 'stubs', 'references' or a "
            "folder that holds <kata>.py or <kata>/<kata>.py files."
        )
    return Impl(label, root)
