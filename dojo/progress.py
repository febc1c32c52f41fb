"""The learner's progress: every kata with its level, tags and minutes, and its status from
the last grading (`.katas/report.json`), never from a new run. `nox -s list` prints it."""

from __future__ import annotations

import difflib
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dojo import cli
from dojo.catalog import DIFFICULTIES, Kata, load_catalog
from dojo.report import DEFAULT_PATH, SCHEMA, STATUS_STYLE, status_words

ROOT = Path(__file__).resolve().parents[1]  # the repository this harness lives in
OWN_WORK = "stubs"  # the impl label of a grading of katas/<name>/<name>.py


class SelectionError(ValueError):
    """A filter that matches no kata's metadata (an unknown tag, say)."""


@dataclass(frozen=True)
class Grades:
    """The last grading: which impl it graded, when, and each kata's entry."""

    impl: str | None = None  # None: there is no readable report
    created: str = ""
    katas: dict[str, dict] = field(default_factory=dict)
    problem: str = ""  # why an existing report could not be read

    @property
    def of_own_work(self) -> bool:
        return self.impl == OWN_WORK

    def status(self, kata: str) -> str:
        """solved / failing / not_started / forbidden / broken; absent means not started."""
        return self.katas.get(kata, {}).get("status", "not_started")

    def status_text(self, kata: str) -> str:
        entry = self.katas.get(kata, {})
        failed = entry.get("failed", 0)
        return status_words(self.status(kata), failed, entry.get("passed", 0) + failed)


def load_grades(root: Path) -> Grades:
    path = root / DEFAULT_PATH
    if not path.is_file():
        return Grades()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return Grades(problem=f"{DEFAULT_PATH} could not be read ({err})")
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return Grades(problem=f"{DEFAULT_PATH} is not a schema {SCHEMA} report")
    katas = data.get("katas")
    return Grades(
        impl=str(data.get("impl", "?")),
        created=str(data.get("created", "")),
        katas=katas if isinstance(katas, dict) else {},
    )


def select(
    catalog: dict[str, Kata], tags: Sequence[str] = (), levels: Sequence[str] = ()
) -> list[Kata]:
    """The katas that carry every tag in tags and have one of levels (all, when empty)."""
    known = sorted({tag for kata in catalog.values() for tag in kata.tags})
    for tag in tags:
        if tag not in known:
            close = difflib.get_close_matches(tag, known, n=3, cutoff=0.5)
            hint = (
                f"Did you mean: {', '.join(close)}?" if close else f"The tags: {', '.join(known)}."
            )
            raise SelectionError(f"no kata has the tag '{tag}'. {hint}")
    for level in levels:
        if level not in DIFFICULTIES:
            raise SelectionError(f"unknown difficulty '{level}': use E, M or H.")
    return [
        kata
        for kata in catalog.values()
        if set(tags) <= set(kata.tags) and (not levels or kata.difficulty in levels)
    ]


def progress_line(katas: Sequence[Kata], grades: Grades) -> str:
    """'12 of 41 solved · E 5/14 · M 6/20 · H 1/7' (levels with no kata left out)."""
    solved = [k for k in katas if grades.status(k.name) == "solved"]
    parts = [f"{len(solved)} of {len(katas)} solved"]
    for level in DIFFICULTIES:
        total = sum(k.difficulty == level for k in katas)
        if total:
            parts.append(f"{level} {sum(k.difficulty == level for k in solved)}/{total}")
    return " · ".join(parts)


def source_line(grades: Grades) -> str:
    """Where the statuses come from, in one line."""
    if grades.impl is None:
        why = grades.problem or "no grading yet"
        return f"{why}: every kata shows as not started. Grade your work with `nox -s check`."
    when = grades.created.replace("T", " ").replace("+00:00", " UTC") or "at an unknown time"
    if grades.of_own_work:
        return f"Statuses from the last grading of your work ({when})."
    return (
        f"Statuses from the last grading, of '{grades.impl}' ({when}), not of your own work "
        "in katas/: run `nox -s check` to grade that."
    )


def render(katas: Sequence[Kata], grades: Grades, width: int = 100, color: bool = False) -> str:
    table = Table(title="Katas", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("kata", no_wrap=True)
    table.add_column("level")
    table.add_column("min", justify="right")
    table.add_column("status", no_wrap=True)
    table.add_column("tags", overflow="fold")
    for kata in katas:
        style = STATUS_STYLE.get(grades.status(kata.name), "")
        table.add_row(
            kata.name,
            kata.difficulty,
            str(kata.minutes),
            Text(grades.status_text(kata.name), style=style),
            ", ".join(kata.tags),
        )
    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    if katas:
        console.print(table)
    else:
        console.print("No kata matches those filters.")
    console.print(source_line(grades))
    console.print(progress_line(katas, grades))
    return out.getvalue()


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = cli.Parser("list", description="Every kata, its last grade, and your progress.")
    parser.add_argument("--tag", action="append", default=[], help="only katas with this tag")
    parser.add_argument(
        "--difficulty",
        action="append",
        default=[],
        metavar="E|M|H",
        help="only katas of this difficulty (repeat it, or write E,M)",
    )
    args = parser.parse_args(argv)
    levels = [part.strip().upper() for value in args.difficulty for part in value.split(",")]
    try:
        katas = select(load_catalog(root), args.tag, levels)
    except SelectionError as err:
        print(f"list: {err}", file=sys.stderr)
        return 2
    console = Console()
    sys.stdout.write(render(katas, load_grades(root), console.width, console.is_terminal))
    return 0


if __name__ == "__main__":
    sys.exit(main())
