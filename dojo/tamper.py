"""Tamper evidence: the files that decide a grade, their hashes, and what changed.

The template tree carries `grading-manifest.json`: the SHA-256 of every file that decides a
grade (the tests, each kata.toml, the harness, conftest.py, noxfile.py, the pytest config).
Comparing a learner's checkout with it names the files they changed, and the files they added
where pytest would pick them up (a conftest.py, a pytest.ini, a test file).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from pathlib import Path

MANIFEST = "grading-manifest.json"
PROTECTED = (
    "conftest.py",
    "noxfile.py",
    "pyproject.toml",
    "constraints.txt",
    "dojo/*.py",
    "katas/*/test_*.py",
    "katas/*/kata.toml",
    ".github/workflows/grade.yml",
)
# files that would change what pytest runs or how, wherever a learner adds them
INTRUDERS = (
    "**/conftest.py",
    "conftest.py",
    "pytest.ini",
    "tox.ini",
    "setup.cfg",
    "sitecustomize.py",
    "usercustomize.py",
    "dojo/**",
    "katas/*/test_*.py",
    "katas/*/*_test.py",
    "katas/*/*/test_*.py",
)
_SKIP = {".git", ".nox", ".venv", "__pycache__", ".katas", ".interview", "node_modules"}


def _files(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not _SKIP.intersection(relative.parts[:-1]):
            found.append(relative.as_posix())
    return sorted(found)


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def protected_files(root: Path) -> list[str]:
    return [f for f in _files(root) if _matches(f, PROTECTED)]


def make_manifest(root: Path, source: str) -> dict:
    """The manifest of the tree at root, built from commit `source` of main."""
    return {
        "source": source,
        "files": {f: digest(root / f) for f in protected_files(root)},
    }


def write_manifest(root: Path, source: str) -> None:
    text = json.dumps(make_manifest(root, source), indent=2) + "\n"
    (root / MANIFEST).write_text(text, encoding="utf-8")


def load_manifest(root: Path) -> dict | None:
    path = root / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def changed_files(checkout: Path, manifest: dict) -> list[str]:
    """The files of checkout that differ from the manifest: changed, deleted, or added
    where pytest would use them."""
    expected: dict[str, str] = manifest["files"]
    changed = []
    for name, sha in expected.items():
        path = checkout / name
        if not path.is_file():
            changed.append(f"{name} (deleted)")
        elif digest(path) != sha:
            changed.append(name)
    for name in _files(checkout):
        if name not in expected and _matches(name, INTRUDERS) and not name.endswith(".pyc"):
            changed.append(f"{name} (added)")
    return sorted(changed)


def kata_of(changed: str) -> str | None:
    """The kata a changed file belongs to, or None for a harness file (which touches all)."""
    parts = changed.split(" ")[0].split("/")
    if len(parts) >= 3 and parts[0] == "katas":
        return parts[1]
    return None
