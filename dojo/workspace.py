"""The learner's solution file: `reset` puts the blank stub back (after saving the file to
`.katas/backup/`), `reveal` shows the reference once the kata is solved or given up on."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.syntax import Syntax

from dojo import cli, git, history, stubs
from dojo.catalog import UnknownKata, check_names, load_catalog
from dojo.progress import load_grades

ROOT = Path(__file__).resolve().parents[1]  # the repository this harness lives in
BACKUP = Path(".katas") / "backup"
REFERENCE_BRANCHES = ("reference", "origin/reference", "upstream/reference")


class WorkspaceError(Exception):
    """Why reset or reveal cannot do what was asked, as a sentence for the learner."""


def _relative(kata: str) -> str:
    return f"katas/{kata}/{kata}.py"


# reset


@dataclass(frozen=True)
class Reset:
    path: Path  # the solution file, now the blank stub
    backup: Path | None  # where the learner's file was saved; None when it was already blank


def backup_path(root: Path, kata: str, now: datetime) -> Path:
    """`.katas/backup/NAME-YYYYmmdd-HHMMSS.py`, with -2, -3, ... if that name is taken."""
    stem = f"{kata}-{now:%Y%m%d-%H%M%S}"
    path = root / BACKUP / f"{stem}.py"
    n = 2
    while path.exists():
        path, n = root / BACKUP / f"{stem}-{n}.py", n + 1
    return path


def reset(root: Path, kata: str, yes: bool = False, now: datetime | None = None) -> Reset:
    """Restore kata's blank stub. A file with changes is first saved to `.katas/backup/`,
    and only with yes: without it, WorkspaceError says what would happen."""
    try:
        blank = stubs.blank_stub(root, kata)
    except stubs.StubUnknown as err:
        raise WorkspaceError(f"{err}.") from None
    path = stubs.stub_path(root, kata)
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if current == blank:
        return Reset(path, None)
    backup = None
    if current is not None:
        if not yes:
            raise WorkspaceError(
                f"{_relative(kata)} has changes. `nox -s reset -- {kata} --yes` saves your "
                f"file in {BACKUP.as_posix()}/ and restores the blank stub."
            )
        backup = backup_path(root, kata, now or datetime.now())
        backup.parent.mkdir(parents=True, exist_ok=True)
        backup.write_text(current, encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(blank, encoding="utf-8")
    return Reset(path, backup)


# reveal


@dataclass(frozen=True)
class Reference:
    kata: str
    source: str  # where it was found: references/NAME.py or BRANCH:katas/NAME/NAME.py
    text: str
    gave_up_now: bool = False  # whether this reveal recorded a give-up


def find_reference(root: Path, kata: str) -> Reference | None:
    """references/NAME.py (the main checkout), else katas/NAME/NAME.py on the first of the
    branches reference, origin/reference and upstream/reference that has it."""
    local = root / "references" / f"{kata}.py"
    if local.is_file():
        return Reference(kata, f"references/{kata}.py", local.read_text(encoding="utf-8"))
    for branch in REFERENCE_BRANCHES:
        spec = f"{branch}:{_relative(kata)}"
        text = git.output(root, "show", spec)
        if text is not None:
            return Reference(kata, spec, text)
    return None


def reveal(root: Path, kata: str, give_up: bool = False) -> Reference:
    """The reference of kata, when the last grading of the learner's work says it is solved,
    when the learner gave up on it before, or now (give_up, which is recorded)."""
    grades = load_grades(root)
    solved = grades.of_own_work and grades.status(kata) == "solved"
    gave_up = history.gave_up(root, kata)
    if not (solved or gave_up or give_up):
        last = (
            f"the last grading says {grades.status_text(kata)}"
            if grades.of_own_work
            else "no grading of your own work says it is solved"
        )
        raise WorkspaceError(
            f"{kata} is not solved yet ({last}). Solve it and grade it with "
            f"`nox -s check -- {kata}`, or give up with `nox -s reveal -- {kata} --give-up` "
            "(which is recorded)."
        )
    reference = find_reference(root, kata)
    if reference is None:
        raise WorkspaceError(
            f"no reference for {kata}: there is no references/{kata}.py, and none of the "
            f"branches {', '.join(REFERENCE_BRANCHES)} has {_relative(kata)}. Fetch the "
            "reference branch (`git fetch origin reference`, or from upstream) and try again."
        )
    if give_up and not (solved or gave_up):
        history.append(root, {"kind": "give_up", "kata": kata})
        return replace(reference, gave_up_now=True)
    return reference


def main(argv: list[str] | None = None, root: Path = ROOT, console: Console | None = None) -> int:
    parser = cli.Parser("reset|reveal")
    verbs = parser.add_subparsers(dest="verb", required=True)
    reset_parser = verbs.add_parser(
        "reset", prog="nox -s reset --", help="restore a kata's blank stub"
    )
    reset_parser.add_argument("kata", help="the kata's name")
    reset_parser.add_argument(
        "--yes", action="store_true", help="reset even though the file has changes (saved first)"
    )
    reveal_parser = verbs.add_parser(
        "reveal", prog="nox -s reveal --", help="show a solved kata's reference"
    )
    reveal_parser.add_argument("kata", help="the kata's name")
    reveal_parser.add_argument(
        "--give-up", action="store_true", help="show it although it is not solved (recorded)"
    )
    args = parser.parse_args(argv)
    try:
        check_names([args.kata], load_catalog(root))
        console = console or Console(highlight=False)
        if args.verb == "reset":
            done = reset(root, args.kata, yes=args.yes)
            relative = done.path.relative_to(root)
            if done.backup is None:
                console.print(f"{relative} is already the blank stub: nothing to do.")
            else:
                console.print(f"Saved your file to {done.backup.relative_to(root)}.")
                console.print(f"{relative} is the blank stub again.")
            return 0
        reference = reveal(root, args.kata, give_up=args.give_up)
        if reference.gave_up_now:
            console.print(f"You gave up on {args.kata}; {history.HISTORY} records it.")
        console.print(f"The reference for {args.kata} ({reference.source}):", markup=False)
        if console.is_terminal:
            console.print(Syntax(reference.text, "python", word_wrap=True))
        else:  # plain text, so that it can be redirected into a file
            console.print(reference.text, markup=False, highlight=False, soft_wrap=True, end="")
        return 0
    except (UnknownKata, WorkspaceError) as err:
        print(f"{args.verb}: {err}", file=sys.stderr)
        return 2 if isinstance(err, UnknownKata) else 1


if __name__ == "__main__":
    sys.exit(main())
