"""The user's verbs. `nox` alone grades your solutions (the `check` session).

Every session shares one environment, `.nox/shared`, made with the running Python's venv
module and installed from pyproject.toml under constraints.txt (which pins the tested torch).
It is rebuilt only when those files or the Python change, so a rerun installs nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import nox

nox.options.sessions = ["check"]
nox.options.download_python = "never"

ROOT = Path(__file__).resolve().parent
ENV = ROOT / ".nox" / "shared"
BIN = ENV / ("Scripts" if os.name == "nt" else "bin")


def _requirements() -> list[str]:
    project = nox.project.load_toml(ROOT / "pyproject.toml")["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"]]


def _python(session: nox.Session) -> str:
    """The shared environment's python; (re)install only when the requirements changed."""
    requirements = _requirements()
    digest = hashlib.sha256(
        "\n".join([sys.version, *requirements, (ROOT / "constraints.txt").read_text()]).encode()
    ).hexdigest()
    stamp = ENV / "installed.sha256"
    python = BIN / ("python.exe" if os.name == "nt" else "python")
    if stamp.is_file() and stamp.read_text() == digest and python.exists():
        return str(python)
    if ENV.exists():
        shutil.rmtree(ENV)
    session.log(f"making {ENV.relative_to(ROOT)} (once; about a minute, torch is large)")
    session.run(sys.executable, "-m", "venv", str(ENV), external=True)
    session.run(
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-q",
        "-c",
        str(ROOT / "constraints.txt"),
        *requirements,
        external=True,
    )
    stamp.write_text(digest)
    return str(python)


def _pytest(session: nox.Session, *args: str, **kwargs) -> None:
    session.run(_python(session), "-m", "pytest", *args, external=True, **kwargs)


def _split(posargs: list[str]) -> tuple[list[str], list[str]]:
    """Kata names, and everything else (pytest options) from `nox -s X -- ...`."""
    names = [a for a in posargs if not a.startswith("-")]
    return names, [a for a in posargs if a.startswith("-")]


@nox.session(venv_backend="none")
def check(session: nox.Session) -> None:
    """Grade your solutions: every kata, or `-- NAME ...`. KATAS_IMPL=DIR grades DIR."""
    names, options = _split(session.posargs)
    # one kata: show each failure in full; the whole catalog: the table and one line each
    detail = ["--tb=short"] if names else ["--tb=no", "-rN"]
    _pytest(session, "katas", "-q", *detail, *[f"--kata={n}" for n in names], *options)


@nox.session(venv_backend="none")
def references(session: nox.Session) -> None:
    """Every reference solution against every kata's tests (all must pass)."""
    names, options = _split(session.posargs)
    _pytest(
        session,
        "katas",
        "--impl=references",
        "-q",
        "--report=none",
        *[f"--kata={n}" for n in names],
        *options,
    )


@nox.session(venv_backend="none")
def harness(session: nox.Session) -> None:
    """The harness's own tests: stubs fail, references pass, variants, guards, robustness."""
    _pytest(session, "tests", "-q", "-n", "auto", *session.posargs)


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The repository's whole test suite: `references`, then `harness`."""
    references(session)
    harness(session)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    python = _python(session)
    session.run(python, "-m", "ruff", "check", ".", external=True)
    session.run(python, "-m", "ruff", "format", "--check", ".", external=True)


@nox.session(venv_backend="none")
def gpu(session: nox.Session) -> None:
    """The GPU-marked tests on CUDA. Without CUDA: one line, exit 0 (`-- --require-gpu`: 1)."""
    require = "--require-gpu" in session.posargs
    names, options = _split([a for a in session.posargs if a != "--require-gpu"])
    python = _python(session)
    has_cuda = (
        session.run(
            python,
            "-c",
            "import torch; print(torch.cuda.is_available())",
            external=True,
            silent=True,
        )
        .strip()
        .endswith("True")
    )
    if not has_cuda:
        listed = session.run(
            python,
            "-m",
            "pytest",
            "katas",
            "-m",
            "gpu",
            "--collect-only",
            "-q",
            *[f"--kata={n}" for n in names],
            external=True,
            silent=True,
            success_codes=[0, 5],
        )
        count = sum("::" in line for line in listed.splitlines())
        message = f"no CUDA device: {count} GPU tests skipped"
        if require:
            session.error(message + " (--require-gpu)")
        session.log(message)
        return
    _pytest(
        session,
        "katas",
        "-m",
        "gpu",
        "-q",
        "--report=.katas/report-gpu.json",
        *[f"--kata={n}" for n in names],
        *options,
        success_codes=[0, 5],
    )
