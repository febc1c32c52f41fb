"""A timed mock interview: `nox -s interview`.

One kata (named, or drawn from the ones not yet solved), a fresh stub in
`.interview/<YYYYmmdd-HHMMSS>/NAME.py` (the learner's own katas/ are never touched), the
problem, a countdown that ends on Enter or when time runs out, the verdict of that folder's
grading, the kata's follow-up questions one at a time, and a record in `.katas/history.json`.
`--pair` adds role prompts and a swap every few minutes; `--interviewer` prints the view of
the person asking instead: the problem, hints, follow-ups with their answers, and what a
strong answer covers.

Everything outside (the clock, Enter presses, the draw, the grading subprocess, the terminal)
is passed in, so the tests drive it without a terminal, a pytest run, or a real minute.
"""

from __future__ import annotations

import ast
import json
import math
import queue
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from rich.text import Text

from dojo import cli, history, readme, run, stubs
from dojo.catalog import DIFFICULTIES, Kata, UnknownKata, check_names, load_catalog
from dojo.progress import SelectionError, load_grades
from dojo.progress import select as select_katas

FOLDER = Path(".interview")
SWAP_MINUTES = 10
ABANDONED = "abandoned"
INTERRUPTED = 130  # the shell's code for a run ended by Ctrl-C
VERDICT_STYLE = {
    "solved": "green",
    "failing": "yellow",
    "not_started": "dim",
    "forbidden": "red",
    "broken": "red",
}


class InterviewError(ValueError):
    """Input the interview cannot go on with; the message is one line for the learner."""


@dataclass(frozen=True)
class Options:
    kata: str | None = None
    difficulty: str | None = None
    tag: str | None = None
    minutes: float | None = None
    pair: bool = False
    swap: float = SWAP_MINUTES
    interviewer: bool = False
    questions: bool = True


@dataclass(frozen=True)
class Timing:
    seconds: float
    timed_out: bool


@dataclass(frozen=True)
class Verdict:
    status: str
    passed: int
    failed: int
    message: str


class EnterSource(Protocol):
    """Enter presses, as the interview waits for them."""

    def wait(self, timeout: float | None) -> bool:
        """True once Enter is pressed or the input has ended; False when timeout seconds
        (None: no limit) passed without either."""

    def discard(self) -> None:
        """Forget the presses made so far (typed while nobody was waiting for them)."""


Grader = Callable[[Path, str, Path], Verdict]


# choosing the kata


def solved_katas(root: Path) -> set[str]:
    """The katas solved in the last grading of the learner's stubs (none without a report)."""
    grades = load_grades(root)
    if not grades.of_own_work:
        return set()
    return {name for name in grades.katas if grades.status(name) == "solved"}


def _described(difficulty: str | None, tag: str | None) -> str:
    words = ["kata"]
    if difficulty:
        words.insert(0, difficulty)
    if tag:
        words.append(f"tagged '{tag}'")
    return " ".join(words)


def choose(
    catalog: dict[str, Kata],
    solved: set[str],
    rng: random.Random,
    difficulty: str | None = None,
    tag: str | None = None,
) -> Kata:
    """A kata not yet solved, of that difficulty and with that tag, drawn with rng."""
    try:
        matching = select_katas(catalog, [tag] if tag else [], [difficulty] if difficulty else [])
    except SelectionError as err:
        raise InterviewError(str(err)) from None
    if not matching:
        raise InterviewError(f"there is no {_described(difficulty, tag)}.")
    left = [k for k in matching if k.name not in solved]
    if not left:
        raise InterviewError(
            f"every {_described(difficulty, tag)} is solved already ({len(matching)} of them): "
            "name one to take it again with --kata NAME, or widen the choice."
        )
    return rng.choice(left)


def select(root: Path, catalog: dict[str, Kata], options: Options, rng: random.Random) -> Kata:
    """The named kata as it is, or one drawn from those not yet solved."""
    if options.kata is None:
        return choose(catalog, solved_katas(root), rng, options.difficulty, options.tag)
    if options.difficulty or options.tag:
        raise InterviewError("--kata names the kata: leave out --difficulty and --tag.")
    try:
        check_names([options.kata], catalog)
    except UnknownKata as err:
        raise InterviewError(str(err)) from None
    return catalog[options.kata]


# the attempt


def make_attempt(root: Path, kata: str, now: datetime) -> Path:
    """`.interview/<YYYYmmdd-HHMMSS>/` holding a blank stub of kata; a new folder each time."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    folder = root / FOLDER / stamp
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = root / FOLDER / f"{stamp}-{suffix}"
    try:
        blank = stubs.blank_stub(root, kata)
    except stubs.StubUnknown as err:
        raise InterviewError(str(err)) from None
    folder.mkdir(parents=True)
    (folder / f"{kata}.py").write_text(blank, encoding="utf-8")
    return folder


def mmss(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def countdown(
    limit_s: float,
    clock: Callable[[], float],
    enter: Callable[[float], bool],
    tick: Callable[[float], None],
    swap_s: float | None = None,
    swap: Callable[[int, float], None] | None = None,
) -> Timing:
    """Run the clock until enter(wait) says Enter was pressed, or limit_s seconds have passed.

    tick(elapsed) is called about once a second, on whole seconds; swap(n, at) each time
    another swap_s seconds have passed (n counts from 1).
    """
    start = clock()
    next_swap = swap_s if swap_s else math.inf
    swaps = 0
    while True:
        elapsed = clock() - start
        if elapsed >= limit_s:
            tick(limit_s)
            return Timing(limit_s, True)
        while elapsed >= next_swap:
            swaps += 1
            if swap is not None:
                swap(swaps, next_swap)
            next_swap += swap_s
        tick(elapsed)
        wait = min(1.0 - elapsed % 1.0, limit_s - elapsed, next_swap - elapsed)
        if enter(wait):
            return Timing(min(clock() - start, limit_s), False)


def grading_command(kata: str, folder: Path) -> list[str]:
    return run.kata_command(kata, folder, folder / "report.json", "--tb=short")


def read_verdict(report: Path, kata: str, exit_code: int) -> Verdict:
    """The kata's entry in the attempt's report; broken when grading wrote none."""
    try:
        entry = json.loads(report.read_text(encoding="utf-8"))["katas"][kata]
        return Verdict(entry["status"], entry["passed"], entry["failed"], entry["message"])
    except (OSError, ValueError, KeyError, TypeError):
        return Verdict("broken", 0, 0, f"grading wrote no result (pytest exit code {exit_code})")


def grade(root: Path, kata: str, folder: Path) -> Verdict:
    """Grade the attempt folder in a pytest subprocess; its output goes to grading.txt."""
    output, code = run.capture(grading_command(kata, folder), root)
    (folder / "grading.txt").write_text(output, encoding="utf-8")
    return read_verdict(folder / "report.json", kata, code)


def verdict_text(verdict: Verdict) -> str:
    total = verdict.passed + verdict.failed
    if verdict.status == "solved":
        return f"solved: all {total} tests pass"
    if verdict.status == "failing":
        return f"failing: {verdict.failed} of {total} tests fail"
    if verdict.status == "not_started":
        return "not started"
    if verdict.status == "forbidden":
        return "forbidden call"
    return verdict.status


def time_text(timing: Timing, limit_s: float) -> str:
    text = f"{mmss(timing.seconds)} of {mmss(limit_s)}"
    return text + " (time ran out)" if timing.timed_out else text


def record(
    root: Path,
    kata: str,
    minutes: float,
    seconds_taken: float,
    status: str,
    folder: Path,
    pair: bool,
    timed_out: bool = False,
) -> dict:
    return history.append(
        root,
        {
            "kind": "interview",
            "kata": kata,
            "minutes": minutes,
            "seconds_taken": round(seconds_taken),
            "status": status,
            "folder": folder.relative_to(root).as_posix(),
            "mode": "pair" if pair else "solo",
            "timed_out": timed_out,
        },
    )


# the interviewer's view


def checked_by_tests(kata: Kata) -> list[str]:
    """The kata's test names as sentences: what its tests check, in file order."""
    sentences = []
    for path in kata.test_files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                sentences.append(node.name.removeprefix("test_").replace("_", " "))
    return sentences


def strong_answer(kata: Kata) -> list[str]:
    """What a strong answer covers, from the kata's own files: its metadata and its tests."""
    points = [f"works within {kata.minutes} minutes (difficulty {kata.difficulty})"]
    if kata.numpy_only == ("*",):
        points.append("is written with numpy alone")
    elif kata.numpy_only:
        points.append(f"writes {', '.join(kata.numpy_only)} with numpy alone")
    if kata.forbidden:
        points.append(f"does not use {', '.join(f'`{f}`' for f in kata.forbidden)}")
    points.append("passes what the tests check:")
    return points


def interviewer_markdown(kata: Kata, text: readme.KataReadme) -> str:
    hints = "\n\n".join(f"**Hint {i}.** {hint}" for i, hint in enumerate(text.hints, 1))
    follow_ups = "\n".join(
        f"{i}. **{f.question}**\n\n   {f.answer}\n" for i, f in enumerate(text.follow_ups, 1)
    )
    covers = "\n".join(f"- {point}" for point in strong_answer(kata))
    checks = "\n".join(f"  - {sentence}" for sentence in checked_by_tests(kata))
    return "\n\n".join(
        [
            f"# Interviewer's view: {text.title}",
            f"{kata.difficulty} · {kata.minutes} minutes · {', '.join(kata.tags)}",
            "## Problem",
            text.problem,
            "## Worked example",
            text.example,
            "## Hints (when the candidate is stuck, one at a time, in order)",
            hints,
            "## Follow-up questions, with short answers",
            follow_ups,
            "## What a strong answer covers",
            f"{covers}\n{checks}\n- answers the follow-up questions above",
            f"The candidate starts with `nox -s interview -- --kata {kata.name}`.",
        ]
    )


# the interview


@dataclass
class Io:
    """The world outside the interview, injectable."""

    console: Console
    enter: EnterSource
    interactive: bool  # stdin is a terminal: wait for Enter between follow-up questions
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = datetime.now
    rng: random.Random = field(default_factory=random.Random)
    grader: Grader = grade


class CountdownView:
    """The countdown on the terminal: a line refreshed each second (a plain line per event
    when the output is not a terminal), and the pair's swaps announced above it."""

    def __init__(self, console: Console, kata: str, limit_s: float, swap_s: float | None):
        self.console, self.kata, self.limit_s, self.swap_s = console, kata, limit_s, swap_s
        self.live: Live | None = None

    def __enter__(self) -> CountdownView:
        if self.console.is_terminal:
            self.live = Live(console=self.console, auto_refresh=False)
            self.live.start()
        else:
            self.console.print(f"The clock is running: {mmss(self.limit_s)}.")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def line(self, elapsed: float) -> Text:
        left = self.limit_s - elapsed
        text = Text.assemble(
            (f"{self.kata}  ", "bold"),
            (f"{mmss(math.ceil(left))} left", "red" if left <= 60 else "cyan"),
        )
        if self.swap_s:
            next_swap = (elapsed // self.swap_s + 1) * self.swap_s
            if next_swap < self.limit_s:
                text.append(f"   swap in {mmss(math.ceil(next_swap - elapsed))}")
        return text.append("   Enter when done", "dim")

    def tick(self, elapsed: float) -> None:
        if self.live is not None:
            self.live.update(self.line(elapsed), refresh=True)

    def swap(self, number: int, at: float) -> None:
        self.console.print(
            f"[bold]{mmss(at)}: swap {number}.[/] The navigator takes the keyboard; "
            "the driver navigates.",
            soft_wrap=True,
        )


PAIR_ROLES = (
    "Driver: types, and thinks aloud (what each line is for, before writing it).",
    "Navigator: reviews each line, asks why, points at edge cases, keeps time.",
)


@dataclass
class Attempt:
    kata: Kata
    minutes: float
    folder: Path
    started: float | None = None  # the clock's reading when the countdown began
    seconds: float | None = None  # the time taken, once the countdown has ended
    recorded: bool = False


def interview(root: Path, options: Options, io: Io) -> int:
    """The whole mock interview; 0 when it ran to the end, 130 when Ctrl-C ended it."""
    out = io.console
    catalog = load_catalog(root)
    kata = select(root, catalog, options, io.rng)
    text = readme.read(kata.folder)
    if options.interviewer:
        out.print(Markdown(interviewer_markdown(kata, text)))
        return 0
    minutes = options.minutes if options.minutes is not None else kata.minutes
    attempt = Attempt(kata, minutes, make_attempt(root, kata.name, io.now()))
    try:
        return _run(root, options, io, attempt, text)
    except KeyboardInterrupt:
        if not attempt.recorded:
            seconds = attempt.seconds
            if seconds is None:  # stopped during the countdown, or before it
                started = attempt.started
                seconds = 0.0 if started is None else min(io.clock() - started, minutes * 60)
            record(root, kata.name, minutes, seconds, ABANDONED, attempt.folder, options.pair)
            out.print(
                f"\nInterview abandoned after {mmss(seconds)}: recorded in "
                f"{history.HISTORY.as_posix()}. The attempt stays in "
                f"{attempt.folder.relative_to(root).as_posix()}.",
                soft_wrap=True,
            )
        return INTERRUPTED


def _run(root: Path, options: Options, io: Io, attempt: Attempt, text: readme.KataReadme) -> int:
    out, kata, folder = io.console, attempt.kata, attempt.folder
    limit_s = attempt.minutes * 60
    relative = folder.relative_to(root).as_posix()
    out.print(f"[bold]Mock interview: {text.title}[/] ({kata.difficulty}, {mmss(limit_s)})")
    out.print()
    out.print(Markdown(text.problem))
    out.print()
    out.print(Markdown(f"## Worked example\n\n{text.example}"))
    out.print()
    out.print(
        f"Write your solution in [bold]{relative}/{kata.name}.py[/] "
        f"(katas/{kata.name}/{kata.name}.py is not touched).\n"
        f"Try it at any time: python -m pytest katas/{kata.name} --impl={relative} "
        "--report=none\n"
        "Press Enter when you are done: the clock stops and the attempt is graded.",
        soft_wrap=True,
    )
    swap_s = options.swap * 60 if options.pair else None
    if options.pair:
        out.print(f"\nPair mode: swap roles every {mmss(swap_s)}.")
        for line in PAIR_ROLES:
            out.print(f"  {line}")
    out.print()

    attempt.started = io.clock()
    view = CountdownView(out, kata.name, limit_s, swap_s)
    with view:
        timing = countdown(limit_s, io.clock, io.enter.wait, view.tick, swap_s, view.swap)
    attempt.seconds = timing.seconds
    out.print("Time is up: grading." if timing.timed_out else "Grading.")

    verdict = io.grader(root, kata.name, folder)
    style = VERDICT_STYLE.get(verdict.status, "bold")
    out.print(f"Verdict: [{style}]{verdict_text(verdict)}[/]")
    if verdict.message:
        out.print(f"  {verdict.message}", markup=False, soft_wrap=True)
    out.print(f"Time: {time_text(timing, limit_s)}")
    out.print(f"The grading's output: {relative}/grading.txt", soft_wrap=True)
    record(
        root,
        kata.name,
        attempt.minutes,
        timing.seconds,
        verdict.status,
        folder,
        options.pair,
        timing.timed_out,
    )
    attempt.recorded = True
    out.print(f"Recorded in {history.HISTORY.as_posix()}.")

    if options.questions and text.follow_ups:
        ask(out, text, io.enter if io.interactive else None)
        out.print(f"\nThe short answers: katas/{kata.name}/README.md, 'Follow-up questions'.")
    return 0


def ask(out: Console, text: readme.KataReadme, enter: EnterSource | None) -> None:
    """The follow-up questions one at a time, waiting for Enter after each (unless enter is
    None); the candidate answers aloud."""
    out.print(
        "\n[bold]Follow-up questions[/]: answer each aloud"
        + (", then press Enter." if enter else ".")
    )
    if enter is not None:
        enter.discard()
    total = len(text.follow_ups)
    for number, follow_up in enumerate(text.follow_ups, 1):
        out.print(f"\n{number}/{total}. {follow_up.question}", markup=False, soft_wrap=True)
        if enter is not None and number < total:
            enter.wait(None)


# the real terminal


class StdinEnter:
    """Enter presses from a stream, read by a daemon thread; the end of input counts as one,
    and every wait after it returns at once."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.lines: queue.Queue[bool] = queue.Queue()
        self.ended = False
        self.thread: threading.Thread | None = None

    def _read(self) -> None:
        stream = self.stream if self.stream is not None else sys.stdin
        try:
            while stream is not None and stream.readline():
                self.lines.put(True)
        except (OSError, ValueError):  # no usable input: the same as its end
            pass
        finally:
            self.lines.put(False)

    def wait(self, timeout: float | None) -> bool:
        if self.ended:
            return True
        if self.thread is None:
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        while True:  # in short waits, so that Ctrl-C is seen at once on every platform
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.0, min(left, 0.25)))
            except queue.Empty:
                if left <= 0.25:
                    return False
                continue
            self.ended = not line
            return True

    def discard(self) -> None:
        while not self.ended:
            try:
                self.ended = not self.lines.get_nowait()
            except queue.Empty:
                return


def parse_args(argv: list[str]) -> Options:
    parser = cli.Parser(
        "interview",
        description="A timed mock interview on one kata.",
    )
    parser.add_argument("--kata", metavar="NAME", help="the kata (default: one not yet solved)")
    parser.add_argument(
        "--difficulty",
        type=str.upper,
        choices=DIFFICULTIES,
        help="draw among the katas of this difficulty",
    )
    parser.add_argument("--tag", type=str.lower, help="draw among the katas with this tag")
    parser.add_argument(
        "--minutes",
        type=cli.positive(float, "minutes"),
        help="the clock (default: the kata's minutes in kata.toml)",
    )
    parser.add_argument("--pair", action="store_true", help="pair mode: driver and navigator")
    parser.add_argument(
        "--swap",
        type=cli.positive(float, "minutes"),
        metavar="MINUTES",
        help=f"with --pair: swap roles every MINUTES (default {SWAP_MINUTES})",
    )
    parser.add_argument(
        "--interviewer",
        action="store_true",
        help="print the interviewer's view (problem, hints, answers) and exit",
    )
    parser.add_argument("--no-questions", action="store_true", help="skip the follow-up questions")
    args = parser.parse_args(argv)
    if args.swap is not None and not args.pair:
        parser.error("--swap is for pair mode: add --pair")
    return Options(
        kata=args.kata,
        difficulty=args.difficulty,
        tag=args.tag,
        minutes=args.minutes,
        pair=args.pair,
        swap=args.swap if args.swap is not None else SWAP_MINUTES,
        interviewer=args.interviewer,
        questions=not args.no_questions,
    )


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv)
        io = Io(
            console=Console(highlight=False),
            enter=StdinEnter(),
            interactive=sys.stdin is not None and sys.stdin.isatty(),
        )
        return interview(root, options, io)
    except InterviewError as err:
        print(f"interview: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before the kata was chosen: nothing to record
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
