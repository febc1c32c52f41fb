"""Asking git about the checkout, for the commands that read its history."""

from __future__ import annotations

import subprocess
from pathlib import Path


def output(root: Path, *args: str) -> str | None:
    """`git ARGS`'s standard output in root, or None when git fails or is not installed."""
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:  # no git on this machine
        return None
    return done.stdout if done.returncode == 0 else None
