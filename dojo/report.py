"""Reporting a grading: a terminal table, `.katas/report.json`, and the GitHub job summary."""

from __future__ import annotations

import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dojo.outcomes import KataResult

SCHEMA = 1
DEFAULT_PATH = Path(".katas") / "report.json"  # relative to the repository
WHY_WIDTH = 120  # characters of a kata's message in the terminal table (JSON has it all)
STATUS_STYLE = {
    "solved": "green",
    "failing": "yellow",
    "not_started": "dim",
    "forbidden": "red",
    "broken": "red",
}


def status_words(status: str, failed: int, total: int) -> str:
    """A status as the table shows it: 'failing 3 of 12', 'forbidden call', 'not started'."""
    if status == "failing":
        return f"failing {failed} of {total}"
    if status == "forbidden":
        return "forbidden call"
    return status.replace("_", " ")


def status_text(result: KataResult) -> str:
    return status_words(result.status, result.failed, len(result.tests))


def gpu_text(result: KataResult) -> str:
    """The GPU column: its gpu-marked tests, skipped without a CUDA device."""
    gpu = result.gpu
    if gpu is None:
        return ""
    ran = gpu["passed"] + gpu["failed"]
    if ran == 0:
        return "skipped (no CUDA)"
    if gpu["failed"]:
        return f"failing {gpu['failed']} of {ran}"
    return f"{ran} passed"


def gpu_ran(results: list[KataResult]) -> bool:
    """Whether any gpu-marked test ran: only then does the table get a gpu column."""
    return any(r.gpu and r.gpu["passed"] + r.gpu["failed"] for r in results)


def gpu_skipped_line(results: list[KataResult]) -> str:
    skipped = sum(r.gpu["skipped"] for r in results if r.gpu)
    return f"{skipped} GPU tests skipped: no CUDA device" if skipped else ""


def progress_line(results: list[KataResult]) -> str:
    solved = [r for r in results if r.status == "solved"]
    by_level = ", ".join(
        f"{level} {sum(r.difficulty == level for r in solved)}/"
        f"{sum(r.difficulty == level for r in results)}"
        for level in ("E", "M", "H")
        if any(r.difficulty == level for r in results)
    )
    return f"{len(solved)} of {len(results)} katas solved ({by_level})"


def terminal_table(results: list[KataResult], impl: str, width: int, color: bool) -> str:
    table = Table(title=f"Grades for {impl}", title_justify="left", expand=False)
    gpu = gpu_ran(results)
    for column in ("kata", "level", "status", *(["gpu"] if gpu else []), "time", "why"):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(
            r.name,
            r.difficulty,
            f"[{STATUS_STYLE[r.status]}]{status_text(r)}[/]",
            *([gpu_text(r)] if gpu else []),
            f"{r.seconds:.1f}s",
            r.message if len(r.message) <= WHY_WIDTH else r.message[: WHY_WIDTH - 3] + "...",
        )
    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    console.print(table)
    console.print(progress_line(results))
    if not gpu and gpu_skipped_line(results):
        console.print(gpu_skipped_line(results), style="dim")
    return out.getvalue()


def as_json(results: list[KataResult], impl: str) -> dict:
    return {
        "schema": SCHEMA,
        "impl": impl,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "summary": {
            "solved": sum(r.status == "solved" for r in results),
            "total": len(results),
        },
        "katas": {r.name: r.as_json() for r in results},
    }


def write_json(results: list[KataResult], impl: str, path: Path) -> None:
    """Write the report; katas graded earlier for the same impl, and not now, are kept."""
    new = as_json(results, impl)
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    if old.get("schema") == SCHEMA and old.get("impl") == impl:
        katas = {**old.get("katas", {}), **new["katas"]}
        new["katas"] = dict(sorted(katas.items()))
        new["summary"] = {
            "solved": sum(k["status"] == "solved" for k in katas.values()),
            "total": len(katas),
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(new, indent=2) + "\n", encoding="utf-8")


def markdown(results: list[KataResult], impl: str) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    gpu = gpu_ran(results)
    columns = ["kata", "level", "status", *(["gpu"] if gpu else []), "time", "why"]
    lines = [
        "",
        f"### Grades for `{impl}`",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for r in results:
        row = [cell(r.name), r.difficulty, status_text(r), *([gpu_text(r)] if gpu else [])]
        lines.append("| " + " | ".join([*row, f"{r.seconds:.1f}s", cell(r.message)]) + " |")
    lines += ["", progress_line(results), ""]
    if not gpu and gpu_skipped_line(results):
        lines += [gpu_skipped_line(results), ""]
    return "\n".join(lines)


def append_step_summary(results: list[KataResult], impl: str) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(markdown(results, impl))
