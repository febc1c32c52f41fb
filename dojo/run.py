"""Grading one kata in a pytest subprocess, as the learner's commands do between saves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def kata_command(kata: str, impl: str | Path, report: str | Path, *options: str) -> list[str]:
    """`python -m pytest katas/KATA -q OPTIONS --impl=IMPL --report=REPORT`."""
    return [
        sys.executable,
        "-m",
        "pytest",
        f"katas/{kata}",
        "-q",
        *options,
        f"--impl={impl}",
        f"--report={report}",
    ]


def capture(command: list[str], root: Path) -> tuple[str, int]:
    """Run command in root; return its output (stdout and stderr) and exit status. Ctrl-C
    stops it at once and is raised again, for the caller to say goodbye."""
    process = subprocess.Popen(
        command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = process.communicate()
    except KeyboardInterrupt:
        process.kill()
        process.wait()
        raise
    return output, process.returncode
