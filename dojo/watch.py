"""`nox -s watch -- NAME`: grade one kata each time its solution file is saved.

Each run is `python -m pytest katas/NAME -q --tb=line --impl=stubs` in a subprocess; the
verdict is read from the JSON report that run writes (so `nox -s list` sees it too). Saves
are noticed by watchfiles, or by polling the file's modification time where file events are
unavailable (or with `--poll`).
"""

from __future__ import annotations

import re
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console

from dojo import cli, stubs
from dojo.catalog import UnknownKata, check_names, load_catalog
from dojo.progress import load_grades
from dojo.report import DEFAULT_PATH
from dojo.run import capture, kata_command

ROOT = Path(__file__).resolve().parents[1]  # the repository this harness lives in
POLL_SECONDS = 0.5
WAKE_MS = 200  # how often the file-event watcher wakes up when nothing changes
# a failing test's message in the report: "test_name[params]: ExceptionType: text"
_TEST_MESSAGE = re.compile(r"^(?P<test>test\w*(?:\[[^\]]*\])?): (?P<error>.+)$", re.S)
# pytest --tb=line: "/path/to/file.py:123: ExceptionType: text"
_TB_LINE = re.compile(r"^(?P<file>\S+\.py):(?P<line>\d+): ", re.M)


@dataclass(frozen=True)
class Verdict:
    kata: str
    status: str  # as in the report, or "error" when the run wrote no report
    passed: int = 0
    failed: int = 0
    seconds: float = 0.0
    message: str = ""  # the report's message: the first failure, in one line
    where: str = ""  # file:line of the first failure, from pytest's output

    def headline(self) -> str:
        """One line: 'attention: failing 12 of 30 — test_x' or 'attention: solved in 3.1 s'."""
        if self.status == "solved":
            return f"{self.kata}: solved in {self.seconds:.1f} s ({self.passed} tests pass)"
        if self.status == "error":
            return f"{self.kata}: the tests did not run"
        text = {
            "failing": f"failing {self.failed} of {self.passed + self.failed}",
            "not_started": "not started",
            "forbidden": "forbidden call",
        }.get(self.status, self.status)
        test = _TEST_MESSAGE.match(self.message)
        return f"{self.kata}: {text}" + (f" — {test['test']}" if test else "")

    def first_failure(self) -> str:
        """The first failure's error, without the test's name (which the headline has)."""
        test = _TEST_MESSAGE.match(self.message)
        return test["error"] if test else self.message


def first_location(output: str, root: Path) -> str:
    """'katas/x/test_x.py:12' for the first failure in pytest's --tb=line output, or ''."""
    _, _, failures = output.partition(" FAILURES ")
    match = _TB_LINE.search(failures)
    if not match:
        return ""
    file = Path(match["file"])
    if file.is_absolute() and file.is_relative_to(root):
        file = file.relative_to(root)
    return f"{file}:{match['line']}"


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def run_tests(root: Path, kata: str) -> Verdict:
    """Grade kata's solution file in a subprocess and read its verdict from the report."""
    report = root / DEFAULT_PATH
    before = _stamp(report)
    command = kata_command(kata, "stubs", DEFAULT_PATH.as_posix(), "--tb=line")
    output, _ = capture(command, root)
    return read_verdict(root, kata, output, fresh=_stamp(report) != before)


def read_verdict(root: Path, kata: str, output: str, fresh: bool) -> Verdict:
    """kata's verdict from the report a run just wrote (fresh), else from its output."""
    entry = load_grades(root).katas.get(kata) if fresh else None
    if entry is None:
        tail = [line for line in output.strip().splitlines() if line.strip()][-5:]
        return Verdict(kata, "error", message="\n".join(tail) or "pytest wrote no report")
    status = str(entry.get("status", "error"))
    return Verdict(
        kata,
        status,
        passed=int(entry.get("passed", 0)),
        failed=int(entry.get("failed", 0)),
        seconds=float(entry.get("seconds", 0.0)),
        message=str(entry.get("message", "")),
        where="" if status == "solved" else first_location(output, root),
    )


# noticing saves


def poll_changes(
    path: Path,
    interval: float = POLL_SECONDS,
    signature: Callable[[Path], object] = _stamp,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[set[Path]]:
    """Yield an empty set once watching begins, then {path} after each save, polling the
    file's modification time and size. A burst of saves is one change: it is yielded once
    the file has stayed the same for one interval."""
    last = signature(path)
    yield set()
    while True:
        sleep(interval)
        now = signature(path)
        if now == last:
            continue
        while True:  # debounce: wait until the file settles
            sleep(interval)
            settled = signature(path)
            if settled == now:
                break
            now = settled
        last = now
        yield {path}


def file_changes(
    path: Path, poll: bool = False, notice: Callable[[str], None] = print
) -> Iterator[set[Path]]:
    """Yield an empty set once watching begins (so a save during the first run is not
    missed), then the changed paths after each save of path: watchfiles' file events, or
    polling (with poll, or when watchfiles is missing or fails)."""
    if not poll:
        try:
            import watchfiles
        except ImportError:
            notice(f"watchfiles is not installed: polling every {POLL_SECONDS} s instead.")
        else:
            target = path.resolve()
            begun = False
            try:
                # the folder, not the file: editors often save by replacing the file.
                # yield_on_timeout gives an empty set every rust_timeout ms: the first one
                # says the watcher is running, the others are skipped
                for changes in watchfiles.watch(
                    target.parent,
                    watch_filter=lambda _change, changed: Path(changed) == target,
                    rust_timeout=WAKE_MS,
                    yield_on_timeout=True,
                    raise_interrupt=True,
                ):
                    if changes or not begun:
                        begun = True
                        yield {Path(changed) for _, changed in changes}
                return
            except Exception as err:  # no file events here (a network drive, a full inotify)
                notice(f"file events failed ({err}): polling every {POLL_SECONDS} s instead.")
    yield from poll_changes(path)


def watch(
    kata: str,
    changes: Iterable[object],
    run: Callable[[], Verdict],
    console: Console,
    clock: Callable[[], datetime] = datetime.now,
) -> int:
    """Run the tests each time changes yields (once when watching begins, then after each
    save); Ctrl-C ends it with exit status 0."""
    console.print(
        f"Watching katas/{kata}/{kata}.py: each save reruns its tests. Ctrl-C stops.", style="dim"
    )
    try:
        for _ in changes:
            show(console, run(), clock())
    except KeyboardInterrupt:
        console.print(f"Stopped watching {kata}.")
    return 0


def show(console: Console, verdict: Verdict, at: datetime) -> None:
    """The verdict's headline, then the first failure and where it happened, indented."""
    style = {"solved": "green", "failing": "yellow", "not_started": "dim"}.get(
        verdict.status, "red"
    )
    console.print(f"[{at:%H:%M:%S}] ", end="", style="dim")
    console.print(verdict.headline(), style=style, markup=False)
    if verdict.status == "solved":
        details = [(f"`nox -s reveal -- {verdict.kata}` shows the reference.", "dim")]
    elif verdict.status == "not_started":
        details = [(f"Write your solution in katas/{verdict.kata}/{verdict.kata}.py.", "dim")]
    else:
        details = [(verdict.first_failure(), ""), (verdict.where and f"at {verdict.where}", "dim")]
    for text, text_style in details:
        for line in text.splitlines():
            wrapped = textwrap.fill(
                line, console.width, initial_indent="  ", subsequent_indent="  "
            )
            console.print(wrapped, style=text_style, markup=False)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = cli.Parser("watch", description="Rerun a kata's tests each time its file is saved.")
    parser.add_argument("kata", help="the kata's name")
    parser.add_argument(
        "--poll", action="store_true", help="poll the file's modification time, not file events"
    )
    args = parser.parse_args(argv)
    try:
        check_names([args.kata], load_catalog(root))
    except UnknownKata as err:
        print(f"watch: {err}", file=sys.stderr)
        return 2
    console = Console(highlight=False)
    path = stubs.stub_path(root, args.kata)
    changes = file_changes(
        path, poll=args.poll, notice=lambda text: console.print(text, style="dim")
    )
    return watch(args.kata, changes, lambda: run_tests(root, args.kata), console)


if __name__ == "__main__":
    sys.exit(main())
