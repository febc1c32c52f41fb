"""The template and reference branches, and tamper-evident grading of a learner's fork.

One temporary git repository is made from this checkout's files; the template and reference
branches are built in it with `python -m dojo.template`, exactly as `nox -s template` and the
template workflow do; a "fork" is cloned from the template branch and graded as
`nox -s grade` and the grade workflow do, before and after its tests are tampered with.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dojo import tamper, template
from dojo.grade import mark_modified
from dojo.stubs import TEMPLATE_SUBJECT
from tests.grading import DROPPED_ENV, KATAS, ROOT

# building both trees grades every stub and every reference: minutes on two busy cores
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

IDENTITY = {
    "GIT_AUTHOR_NAME": "a maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.com",
    "GIT_COMMITTER_NAME": "a maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.com",
}


def run(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    done = subprocess.run(
        args, cwd=cwd, env={**env, **IDENTITY}, capture_output=True, text=True, timeout=600
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def dojo(cwd: Path, module: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`python -m dojo.<module>` with the repository at cwd on the path, as nox runs it."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    done = subprocess.run(
        [sys.executable, "-m", f"dojo.{module}", *args],
        cwd=cwd,
        env={**env, **IDENTITY, "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"dojo.{module} {args}: exit {done.returncode}\n{done.stderr}")
    return done


def make_main(path: Path) -> Path:
    """A git repository holding this checkout's files (committed or not), one commit."""
    files = run(ROOT, "git", "ls-files", "--cached", "--others", "--exclude-standard").stdout
    for name in files.splitlines():
        if (ROOT / name).is_file():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, path / name)
    run(path, "git", "init", "-q", "-b", "main")
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-q", "-m", "main")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """main, with its template and reference branches built (and checked) from HEAD."""
    main = make_main(tmp_path_factory.mktemp("main"))
    out = tmp_path_factory.mktemp("out")
    dojo(main, "template", "--out", str(out / "template"), "--branch", "template")
    dojo(main, "template", "--out", str(out / "reference"), "--solved", "--branch", "reference")
    return main, out


def tip(repo: Path, branch: str) -> str:
    return run(repo, "git", "rev-parse", f"refs/heads/{branch}").stdout.strip()


def test_the_template_has_every_stub_and_test_but_no_reference(built):
    _, out = built
    tree = out / "template"
    for name in KATAS:
        stub = tree / "katas" / name / f"{name}.py"
        assert stub.read_text() == (ROOT / "katas" / name / f"{name}.py").read_text(), name
        assert (tree / "katas" / name / f"test_{name}.py").is_file(), name
    for gone in ("references", "tests", "benchmarks", ".ci", "template", "CONTRIBUTING.md"):
        assert not (tree / gone).exists(), gone
    assert sorted(p.name for p in (tree / ".github" / "workflows").iterdir()) == ["grade.yml"]
    assert not [p for p in tree.rglob("*") if p.name in ("__pycache__", ".katas", ".hypothesis")]


def test_the_template_readme_starts_with_the_learners_quick_start(built):
    readme = (built[1] / "template" / "README.md").read_text()
    assert readme.index("## Start here") < readme.index("## The katas")
    assert "main-only" not in readme and "--impl=references" not in readme
    assert "CONTRIBUTING" not in readme and "nox -s harness" not in readme


def test_the_template_manifest_hashes_every_file_that_decides_a_grade(built):
    tree = built[1] / "template"
    manifest = tamper.load_manifest(tree)
    assert manifest["source"] == tip(built[0], "main")
    assert {f"katas/{n}/test_{n}.py" for n in KATAS} <= set(manifest["files"])
    assert {"conftest.py", "noxfile.py", "dojo/plugin.py", "katas/attention/kata.toml"} <= set(
        manifest["files"]
    )
    assert tamper.changed_files(tree, manifest) == []


def test_the_branches_are_commits_named_after_their_source(built):
    main, _ = built
    source = tip(main, "main")
    subject = run(main, "git", "log", "-1", "--format=%s", tip(main, "template")).stdout.strip()
    assert subject == TEMPLATE_SUBJECT + source
    parents = run(main, "git", "log", "-1", "--format=%P", tip(main, "reference")).stdout.split()
    assert parents == [tip(main, "template")]
    # the learner's way to compare: only the solution file differs
    diff = run(main, "git", "diff", "--name-only", "template", "reference", "--").stdout
    assert set(diff.split()) == {f"katas/{n}/{n}.py" for n in KATAS}


def test_the_reference_tree_holds_every_reference(built):
    tree = built[1] / "reference"
    for name in KATAS:
        solved = (tree / "katas" / name / f"{name}.py").read_text()
        assert solved == (ROOT / "references" / f"{name}.py").read_text(), name
    assert not (tree / "references").exists()


def test_a_dirty_tree_is_refused(built, tmp_path):
    main, _ = built
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(main), str(clone))
    (clone / "README.md").write_text("changed\n")
    done = dojo(clone, "template", "--out", str(tmp_path / "out"), check=False)
    assert done.returncode == 1
    assert "uncommitted changes (README.md)" in done.stderr


def test_a_reference_body_left_in_a_file_is_found(tmp_path):
    references = {
        "double.py": 'def double(x):\n    """Twice x."""\n    y = x + x\n    return y'
        " if y is not None else None\n"
    }
    bodies = template.reference_bodies(references)
    assert list(bodies) == ["double.py:double"]
    (tmp_path / "notes.md").write_text("see:\n    y = x + x\n  return y if y is not None else None")
    (tmp_path / "clean.py").write_text("def double(x):\n    raise NotImplementedError\n")
    assert template.leaked_bodies(tmp_path, bodies) == ["notes.md holds double.py:double"]


# grading a learner's fork

SOLVED, WRONG = "softmax", "attention"


@pytest.fixture(scope="module")
def fork(built, tmp_path_factory):
    """A learner's clone of the template: softmax solved, attention wrong, then committed."""
    main, _ = built
    clone = tmp_path_factory.mktemp("fork") / "fork"
    run(clone.parent, "git", "clone", "-q", "-b", "template", str(main), str(clone))
    shutil.copyfile(ROOT / "references" / f"{SOLVED}.py", clone / "katas" / SOLVED / f"{SOLVED}.py")
    wrong = ROOT / "tests" / "variants" / WRONG / "wrong_no_scale.py"
    shutil.copyfile(wrong, clone / "katas" / WRONG / f"{WRONG}.py")
    run(clone, "git", "commit", "-qam", "my solutions")
    return clone


def report(clone: Path) -> dict:
    return json.loads((clone / ".katas" / "report.json").read_text())


ASSIGNED = f"{SOLVED} {WRONG}"


def test_an_honest_fork_is_graded_by_its_own_copy(fork):
    done = dojo(fork, "grade", "--assigned", ASSIGNED)
    assert done.returncode == 0  # only --require makes failing katas fail the job
    graded = report(fork)
    assert {n: e["status"] for n, e in graded["katas"].items()} == {
        SOLVED: "solved",
        WRONG: "failing",
    }
    assert graded["tests_modified"] == [] and graded["assigned"] == sorted(ASSIGNED.split())


def test_require_fails_the_job_until_every_assigned_kata_is_solved(fork):
    assert dojo(fork, "grade", "--assigned", ASSIGNED, "--require", check=False).returncode == 1
    assert dojo(fork, "grade", "--assigned", SOLVED, "--require").returncode == 0


def test_an_unknown_assigned_kata_fails_naming_it(fork):
    done = dojo(fork, "grade", "--assigned", "softmax atention", check=False)
    assert done.returncode == 2
    assert "unknown kata 'atention'" in done.stderr and "attention" in done.stderr


@pytest.fixture
def tampered(fork):
    """The fork with attention's tests replaced by one that always passes."""
    test_file = fork / "katas" / WRONG / f"test_{WRONG}.py"
    original = test_file.read_text()
    test_file.write_text("def test_nothing(solution):\n    pass\n")
    yield fork
    test_file.write_text(original)


def test_a_tampered_test_is_named_and_voids_the_grade_in_the_learners_checkout(tampered):
    dojo(tampered, "grade", "--assigned", ASSIGNED)
    graded = report(tampered)
    name = f"katas/{WRONG}/test_{WRONG}.py"
    assert graded["tests_modified"] == [name] and not graded["trusted"]
    assert graded["katas"][WRONG]["status"] == "failing"
    assert graded["katas"][WRONG]["message"] == f"tests modified: {name}"
    assert graded["katas"][SOLVED]["status"] == "solved"  # its files are untouched


def test_graded_with_the_upstream_tests_a_tampered_fork_gets_its_untampered_verdict(tampered):
    pinned = run(
        tampered, "git", "log", "-1", "--format=%H", f"--grep=^{TEMPLATE_SUBJECT}"
    ).stdout.strip()
    dojo(tampered, "grade", "--assigned", ASSIGNED, "--trusted", pinned)
    graded = report(tampered)
    assert graded["trusted"] and graded["tests_modified"] == [f"katas/{WRONG}/test_{WRONG}.py"]
    entry = graded["katas"][WRONG]
    assert entry["status"] == "failing" and entry["failed"] > 1, entry
    assert "AssertionError" in entry["message"], entry
    assert graded["katas"][SOLVED]["status"] == "solved"


def test_an_added_conftest_counts_as_tampering(fork):
    intruder = fork / "katas" / SOLVED / "conftest.py"
    intruder.write_text("")
    try:
        changed = tamper.changed_files(fork, tamper.load_manifest(fork))
    finally:
        intruder.unlink()
    assert changed == [f"katas/{SOLVED}/conftest.py (added)"]


def test_a_changed_harness_file_voids_every_kata():
    katas = {"a": {"status": "solved", "message": ""}, "b": {"status": "failing", "message": ""}}
    mark_modified(katas, ["dojo/plugin.py", "katas/b/kata.toml"])
    assert katas["a"] == {
        "status": "failing",
        "message": "tests modified: dojo/plugin.py",
        "tests_modified": ["dojo/plugin.py"],
    }
    assert katas["b"]["tests_modified"] == ["dojo/plugin.py", "katas/b/kata.toml"]
