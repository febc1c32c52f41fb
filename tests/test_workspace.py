"""`nox -s reset` and `nox -s reveal`, in a throwaway git repository."""

from __future__ import annotations

import io
import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from dojo import history, workspace
from dojo.stubs import TEMPLATE_SUBJECT

BLANK = 'def double(x: int) -> int:\n    """2 * x."""\n    raise NotImplementedError\n'
MINE = 'def double(x: int) -> int:\n    """2 * x."""\n    return x + x\n'
REFERENCE = 'def double(x: int) -> int:\n    """2 * x."""\n    return 2 * x\n'
NOW = datetime(2026, 3, 4, 5, 6, 7)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A learner's fork: the kata `demo` with its blank stub committed, then edited."""
    folder = tmp_path / "katas" / "demo"
    folder.mkdir(parents=True)
    (folder / "kata.toml").write_text('difficulty = "E"\n')
    (folder / "demo.py").write_text(BLANK)
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "Add the demo kata")
    return tmp_path


def solution(root: Path) -> Path:
    return root / "katas" / "demo" / "demo.py"


def grade(root: Path, status: str, impl: str = "stubs") -> None:
    path = root / ".katas" / "report.json"
    path.parent.mkdir(exist_ok=True)
    entry = {"status": status, "passed": 1, "failed": 1, "message": ""}
    path.write_text(json.dumps({"schema": 1, "impl": impl, "katas": {"demo": entry}}))


# reset


def test_reset_restores_the_first_committed_stub_and_saves_the_learners_file(root):
    solution(root).write_text(MINE)
    done = workspace.reset(root, "demo", yes=True, now=NOW)
    assert solution(root).read_text() == BLANK
    assert done.backup == root / ".katas" / "backup" / "demo-20260304-050607.py"
    assert done.backup.read_text() == MINE


def test_reset_without_yes_refuses_a_file_with_changes_and_touches_nothing(root):
    solution(root).write_text(MINE)
    with pytest.raises(workspace.WorkspaceError, match=r"has changes.*--yes"):
        workspace.reset(root, "demo", now=NOW)
    assert solution(root).read_text() == MINE
    assert not (root / ".katas" / "backup").exists()


def test_reset_of_an_untouched_stub_needs_no_yes_and_makes_no_backup(root):
    done = workspace.reset(root, "demo")
    assert done.backup is None
    assert solution(root).read_text() == BLANK


def test_reset_finds_the_blank_stub_even_after_the_learner_committed_a_solution(root):
    solution(root).write_text(MINE)
    commit(root, "My solution")
    solution(root).write_text(MINE + "# more\n")
    workspace.reset(root, "demo", yes=True, now=NOW)
    assert solution(root).read_text() == BLANK


def test_reset_uses_the_template_commit_over_the_first_committed_stub(root):
    template_stub = "# the stub as the template ships it\n" + BLANK
    solution(root).write_text(template_stub)
    commit(root, f"{TEMPLATE_SUBJECT}0123abc")
    solution(root).write_text(MINE)
    commit(root, "My solution")
    workspace.reset(root, "demo", yes=True, now=NOW)
    assert solution(root).read_text() == template_stub


def test_in_the_main_checkout_reset_restores_the_stub_as_committed_last(root):
    revised = "# the stub as maintainers revised it\n" + BLANK
    (root / "references").mkdir()
    (root / "references" / "demo.py").write_text(REFERENCE)
    solution(root).write_text(revised)
    commit(root, "Revise the demo stub")
    solution(root).write_text(MINE)
    workspace.reset(root, "demo", yes=True, now=NOW)
    assert solution(root).read_text() == revised


def test_two_resets_in_the_same_second_keep_both_backups(root):
    solution(root).write_text(MINE)
    first = workspace.reset(root, "demo", yes=True, now=NOW).backup
    solution(root).write_text(REFERENCE)
    second = workspace.reset(root, "demo", yes=True, now=NOW).backup
    assert first.name == "demo-20260304-050607.py"
    assert second.name == "demo-20260304-050607-2.py"
    assert (first.read_text(), second.read_text()) == (MINE, REFERENCE)


def test_reset_restores_a_deleted_solution_file(root):
    solution(root).unlink()
    assert workspace.reset(root, "demo").backup is None
    assert solution(root).read_text() == BLANK


def test_reset_outside_git_history_refuses_because_the_blank_stub_is_unknown(tmp_path):
    folder = tmp_path / "katas" / "demo"
    folder.mkdir(parents=True)
    (folder / "demo.py").write_text(MINE)
    with pytest.raises(workspace.WorkspaceError, match="no committed version"):
        workspace.reset(tmp_path, "demo", yes=True)
    assert (folder / "demo.py").read_text() == MINE


# reveal


def test_reveal_refuses_a_kata_that_is_not_solved(root):
    grade(root, "failing")
    with pytest.raises(
        workspace.WorkspaceError, match=r"not solved yet.*failing 1 of 2.*--give-up"
    ):
        workspace.reveal(root, "demo")


def test_reveal_refuses_when_the_solved_grade_is_of_another_impl(root):
    (root / "references").mkdir()
    (root / "references" / "demo.py").write_text(REFERENCE)
    grade(root, "solved", impl="references")
    with pytest.raises(workspace.WorkspaceError, match="no grading of your own work"):
        workspace.reveal(root, "demo")


def test_reveal_shows_the_references_folder_once_the_kata_is_solved(root):
    (root / "references").mkdir()
    (root / "references" / "demo.py").write_text(REFERENCE)
    grade(root, "solved")
    shown = workspace.reveal(root, "demo")
    assert (shown.source, shown.text) == ("references/demo.py", REFERENCE)
    assert history.load(root) == []


def test_giving_up_reveals_the_reference_and_is_recorded_once(root):
    (root / "references").mkdir()
    (root / "references" / "demo.py").write_text(REFERENCE)
    first = workspace.reveal(root, "demo", give_up=True)
    second = workspace.reveal(root, "demo", give_up=True)
    assert (first.text, first.gave_up_now) == (REFERENCE, True)
    assert (second.text, second.gave_up_now) == (REFERENCE, False)
    records = history.load(root)
    assert [(r["kind"], r["kata"]) for r in records] == [("give_up", "demo")]


def test_once_given_up_a_later_reveal_needs_no_flag(root):
    (root / "references").mkdir()
    (root / "references" / "demo.py").write_text(REFERENCE)
    workspace.reveal(root, "demo", give_up=True)
    assert workspace.reveal(root, "demo").text == REFERENCE


def test_reveal_reads_the_reference_branch_when_there_is_no_references_folder(root):
    git(root, "checkout", "-q", "-b", "reference")
    solution(root).write_text(REFERENCE)
    commit(root, "References")
    git(root, "checkout", "-q", "main")
    grade(root, "solved")
    shown = workspace.reveal(root, "demo")
    assert (shown.source, shown.text) == ("reference:katas/demo/demo.py", REFERENCE)


def test_reveal_falls_back_to_the_remote_reference_branches_in_order(root):
    solution(root).write_text("# upstream\n")
    commit(root, "upstream's")
    git(root, "update-ref", "refs/remotes/upstream/reference", "HEAD")
    solution(root).write_text("# origin\n")
    commit(root, "origin's")
    git(root, "update-ref", "refs/remotes/origin/reference", "HEAD")
    grade(root, "solved")
    assert workspace.reveal(root, "demo").source == "origin/reference:katas/demo/demo.py"
    git(root, "update-ref", "-d", "refs/remotes/origin/reference")
    assert workspace.reveal(root, "demo").text == "# upstream\n"


def test_reveal_says_clearly_when_no_reference_is_found_and_records_no_give_up(root):
    with pytest.raises(workspace.WorkspaceError, match=r"no reference for demo.*git fetch"):
        workspace.reveal(root, "demo", give_up=True)
    assert history.load(root) == []


# the command line


def run(root: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = workspace.main(list(argv), root=root, console=Console(file=out, width=100))
    return status, out.getvalue()


def test_the_reset_command_names_the_backup(root):
    solution(root).write_text(MINE)
    status, out = run(root, "reset", "demo", "--yes")
    assert status == 0
    assert "Saved your file to .katas/backup/demo-" in out


def test_the_reset_command_refuses_in_one_line_without_yes(root, capsys):
    solution(root).write_text(MINE)
    assert run(root, "reset", "demo")[0] == 1
    err = capsys.readouterr().err
    assert err.startswith("reset: katas/demo/demo.py has changes.") and err.count("\n") == 1


def test_an_unknown_kata_is_refused_with_the_closest_name(root, capsys):
    assert run(root, "reveal", "demp")[0] == 2
    assert "unknown kata 'demp'. Did you mean: demo?" in capsys.readouterr().err


def test_the_reveal_command_prints_the_reference_as_plain_text_outside_a_terminal(root):
    (root / "references").mkdir()
    (root / "references" / "demo.py").write_text(REFERENCE)
    status, out = run(root, "reveal", "demo", "--give-up")
    assert status == 0
    assert out == (
        "You gave up on demo; .katas/history.json records it.\n"
        "The reference for demo (references/demo.py):\n" + REFERENCE
    )
