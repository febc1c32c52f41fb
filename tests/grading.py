"""Grading a solutions folder from the harness's own tests, in process or in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KATAS = sorted(p.parent.name for p in (ROOT / "katas").glob("*/kata.toml"))
VARIANTS = sorted((ROOT / "tests" / "variants").glob("*/*.py"))


def solutions_folder(tmp: Path, files: dict[str, Path | str]) -> Path:
    """A folder with <kata>.py for each entry: a file to copy, or source text."""
    folder = tmp / "solutions"
    folder.mkdir(exist_ok=True)
    for kata, source in files.items():
        target = folder / f"{kata}.py"
        if isinstance(source, Path):
            shutil.copyfile(source, target)
        else:
            target.write_text(source, encoding="utf-8")
    return folder


def grade(tmp: Path, kata: str, impl: Path | str, *extra: str) -> dict:
    """Grade one real kata in this process; return its entry of the JSON report.

    In process, not through pytester: pytester forgets the modules each run imported, and
    numpy and torch cannot be imported twice into one process.
    """
    report = tmp / "report.json"
    code = pytest.main(
        [
            str(ROOT / "katas" / kata),
            f"--impl={impl}",
            f"--report={report}",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            "-q",
            "-p",
            "no:xdist",
            # each of these runs gc.collect() several times at exit: a fifth of a second a run
            "-p",
            "no:unraisableexception",
            "-p",
            "no:threadexception",
            *extra,
        ]
    )
    # forget the kata's test modules: a solution that wrote into their module-level data must
    # not change what the next grading sees (numpy and torch stay: they cannot load twice)
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(ROOT / "katas")):
            del sys.modules[name]
    # a grade is only as good as the run: pytest itself must not have crashed
    assert code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), f"pytest exited {code!r}"
    return json.loads(report.read_text())["katas"][kata]


STUB = """
def __getattr__(name):  # every public name of this stub raises, as a written stub's body would
    raise NotImplementedError
"""


class Repo:
    """A synthetic checkout of small katas in a fresh folder, graded in a subprocess."""

    def __init__(self, path: Path, katas: dict[str, tuple[str, str]]) -> None:
        """katas: name -> (kata.toml text, test file text); every stub raises."""
        self.path = path
        (path / "conftest.py").write_text('pytest_plugins = ["dojo.plugin"]\n')
        (path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
        for name, (toml, test) in katas.items():
            folder = path / "katas" / name
            folder.mkdir(parents=True)
            (folder / "kata.toml").write_text(toml)
            (folder / f"{name}.py").write_text(STUB)
            (folder / f"test_{name}.py").write_text(test)
        (path / "sol").mkdir()

    def grade(self, *args: str, solutions: dict[str, str] | None = None, **env: str):
        for name, source in (solutions or {}).items():
            (self.path / "sol" / f"{name}.py").write_text(source)
        environ = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
        return subprocess.run(
            [sys.executable, "-m", "pytest", *args],
            cwd=self.path,
            env={**environ, "PYTHONPATH": str(ROOT), **env},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def grade_in_process(self, monkeypatch: pytest.MonkeyPatch, *args: str, solutions=None) -> int:
        """The same grading in this process: a tenth of the time, for checks of options."""
        for name, source in (solutions or {}).items():
            (self.path / "sol" / f"{name}.py").write_text(source)
        for name in DROPPED_ENV - {"KATAS_IMPL"}:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.chdir(self.path)
        config = ["-c", str(self.path / "pyproject.toml"), "--rootdir", str(self.path)]
        return int(pytest.main([str(self.path / "katas"), *config, "-q", "-p", "no:xdist", *args]))

    def report(self) -> dict:
        return json.loads((self.path / ".katas" / "report.json").read_text())


DROPPED_ENV = {"GITHUB_STEP_SUMMARY", "KATAS_IMPL", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"}
