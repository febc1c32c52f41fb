"""The mock interview's logic: choosing a kata, the clock, grading's verdict, the record."""

from __future__ import annotations

import io
import json
import math
import os
import random
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from dojo import history, stubs
from dojo import interview as iv

BLANK = "def double(x):\n    raise NotImplementedError\n"
SOLVED = "def double(x):\n    return 2 * x\n"
README = """# {name}: a tiny kata

Double a number, {name} style.

## Worked example

```python
double(2) == 4
```

## Hints

### Hint 1

Multiply.

### Hint 2

By two.

## Follow-up questions

1. **Why two?** Because doubling.
2. **What about overflow?** Python ints do not overflow.
3. **And floats?** They round.
"""
TESTS = """
def test_two_doubles_to_four(solution):
    assert solution.double(2) == 4


def test_zero_stays_zero(solution):
    assert solution.double(0) == 0
"""
KATAS = {  # name: (difficulty, minutes, tags, forbidden, numpy_only)
    "alpha": ("E", 15, ["warm-up", "numpy"], ["scipy.special"], ["*"]),
    "beta": ("M", 30, ["attention"], [], []),
    "gamma": ("M", 30, ["attention", "torch"], ["torch.nn.functional.softmax"], []),
}


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository of three small katas; the learner has written in alpha's stub."""
    for name, (difficulty, minutes, tags, forbidden, numpy_only) in KATAS.items():
        folder = tmp_path / "katas" / name
        folder.mkdir(parents=True)
        (folder / "kata.toml").write_text(
            f'difficulty = "{difficulty}"\nminutes = {minutes}\ntags = {_toml_list(tags)}\n'
            f"[guard]\nforbidden = {_toml_list(forbidden)}\n"
            f"numpy_only = {_toml_list(numpy_only)}\n"
        )
        (folder / "README.md").write_text(README.format(name=name))
        (folder / f"{name}.py").write_text(BLANK)
        (folder / f"test_{name}.py").write_text(TESTS)
    (tmp_path / "katas" / "alpha" / "alpha.py").write_text(SOLVED)
    # the blank stub comes from git in a real checkout (dojo.stubs has its own tests)
    monkeypatch.setattr(stubs, "blank_stub", lambda root, kata: BLANK)
    return tmp_path


def katas_snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in (root / "katas").rglob("*.py")}


def write_report(root: Path, impl: str, statuses: dict[str, str]) -> None:
    path = root / ".katas" / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    katas = {name: {"status": status} for name, status in statuses.items()}
    path.write_text(json.dumps({"schema": 1, "impl": impl, "katas": katas}))


class Keyboard:
    """A clock and the Enter key: presses at given times on the clock, then the input ends
    (or a Ctrl-C, at a given time)."""

    def __init__(self, presses: tuple[float, ...] = (), interrupt_at: float | None = None):
        self.now = 0.0
        self.presses = sorted(presses)
        self.interrupt_at = interrupt_at
        self.waits: list[float | None] = []
        self.discarded = 0

    def clock(self) -> float:
        return self.now

    def wait(self, timeout: float | None) -> bool:
        self.waits.append(timeout)
        until = self.now + timeout if timeout is not None else math.inf
        press = self.presses[0] if self.presses else math.inf
        stop = self.interrupt_at if self.interrupt_at is not None else math.inf
        if stop < press and stop <= until:
            self.now = max(self.now, stop)
            raise KeyboardInterrupt
        if press <= until:
            self.now = max(self.now, self.presses.pop(0))
            return True
        if timeout is None:  # nothing more will be pressed: the input has ended
            return True
        self.now = until
        return False

    def discard(self) -> None:
        before = len(self.presses)
        self.presses = [t for t in self.presses if t > self.now]
        self.discarded += before - len(self.presses)


class Grader:
    """Grading that gives a set verdict (or a Ctrl-C), taking `seconds` on the keyboard's clock."""

    def __init__(
        self,
        verdict: iv.Verdict | None = None,
        interrupt: bool = False,
        keyboard: Keyboard | None = None,
        seconds: float = 0.0,
    ):
        self.verdict = verdict or iv.Verdict("solved", 2, 0, "")
        self.interrupt = interrupt
        self.keyboard, self.seconds = keyboard, seconds
        self.calls: list[tuple[str, Path]] = []

    def __call__(self, root: Path, kata: str, folder: Path) -> iv.Verdict:
        self.calls.append((kata, folder))
        if self.keyboard is not None:
            self.keyboard.now += self.seconds
        if self.interrupt:
            raise KeyboardInterrupt
        return self.verdict


def make_io(
    keyboard: Keyboard,
    grader: Grader | None = None,
    interactive: bool = False,
    seed: int = 0,
) -> iv.Io:
    return iv.Io(
        console=Console(file=io.StringIO(), width=100, force_terminal=False),
        enter=keyboard,
        interactive=interactive,
        clock=keyboard.clock,
        now=lambda: datetime(2026, 3, 14, 9, 26, 53),
        rng=random.Random(seed),
        grader=grader or Grader(),
    )


def output(io_: iv.Io) -> str:
    return io_.console.file.getvalue()


# choosing the kata


def test_nothing_is_solved_without_a_report(root):
    assert iv.solved_katas(root) == set()


def test_solved_katas_come_from_the_last_grading_of_the_stubs(root):
    write_report(root, "stubs", {"alpha": "solved", "beta": "failing", "gamma": "not_started"})
    assert iv.solved_katas(root) == {"alpha"}


def test_a_report_of_another_solutions_folder_says_nothing_about_the_learner(root):
    write_report(root, "references", {"alpha": "solved", "beta": "solved"})
    assert iv.solved_katas(root) == set()


def test_a_solved_kata_is_never_drawn(root):
    catalog = iv.load_catalog(root)
    drawn = {iv.choose(catalog, {"beta"}, random.Random(seed)).name for seed in range(50)}
    assert drawn == {"alpha", "gamma"}


def test_the_same_seed_draws_the_same_kata(root):
    catalog = iv.load_catalog(root)
    first = [iv.choose(catalog, set(), random.Random(7)).name for _ in range(3)]
    assert first == [first[0]] * 3


def test_difficulty_and_tag_narrow_the_draw(root):
    catalog = iv.load_catalog(root)
    chosen = iv.choose(catalog, set(), random.Random(0), difficulty="M", tag="torch")
    assert chosen.name == "gamma"
    medium = {iv.choose(catalog, set(), random.Random(s), difficulty="M").name for s in range(30)}
    assert medium == {"beta", "gamma"}


def test_a_tag_no_kata_has_suggests_the_closest_tags(root):
    with pytest.raises(iv.InterviewError, match=r"no kata has the tag 'atention'.*attention"):
        iv.choose(iv.load_catalog(root), set(), random.Random(0), tag="atention")


def test_a_filter_nothing_matches_says_so(root):
    with pytest.raises(iv.InterviewError, match="there is no H kata"):
        iv.choose(iv.load_catalog(root), set(), random.Random(0), difficulty="H")


def test_when_every_matching_kata_is_solved_the_message_says_how_to_go_again(root):
    with pytest.raises(
        iv.InterviewError, match=r"every M kata tagged 'attention' is solved.*--kata"
    ):
        iv.choose(iv.load_catalog(root), {"beta", "gamma"}, random.Random(0), "M", tag="attention")


def test_a_named_kata_is_used_even_when_solved(root):
    write_report(root, "stubs", {"alpha": "solved"})
    kata = iv.select(root, iv.load_catalog(root), iv.Options(kata="alpha"), random.Random(0))
    assert kata.name == "alpha"


def test_an_unknown_kata_name_suggests_the_closest_names(root):
    with pytest.raises(iv.InterviewError, match=r"unknown kata 'alpah'\. Did you mean: alpha\?"):
        iv.select(root, iv.load_catalog(root), iv.Options(kata="alpah"), random.Random(0))


def test_a_named_kata_with_filters_is_refused(root):
    with pytest.raises(iv.InterviewError, match="leave out --difficulty and --tag"):
        iv.select(
            root, iv.load_catalog(root), iv.Options(kata="beta", tag="torch"), random.Random(0)
        )


# the attempt folder


def test_the_attempt_folder_holds_a_blank_stub_and_the_learners_file_is_untouched(root):
    folder = iv.make_attempt(root, "alpha", datetime(2026, 3, 14, 9, 26, 53))
    assert folder == root / ".interview" / "20260314-092653"
    assert (folder / "alpha.py").read_text() == BLANK
    assert (root / "katas" / "alpha" / "alpha.py").read_text() == SOLVED


def test_without_git_history_the_blank_stub_is_unknown_and_no_attempt_is_made(tmp_path):
    (tmp_path / "katas" / "double").mkdir(parents=True)
    (tmp_path / "katas" / "double" / "double.py").write_text("def double(x):\n    return 2 * x\n")
    with pytest.raises(iv.InterviewError, match="no committed version"):
        iv.make_attempt(tmp_path, "double", datetime(2026, 1, 2, 3, 4, 5))
    assert not (tmp_path / ".interview").exists()


def test_two_attempts_in_the_same_second_get_two_folders(root):
    now = datetime(2026, 3, 14, 9, 26, 53)
    first, second = iv.make_attempt(root, "alpha", now), iv.make_attempt(root, "beta", now)
    assert first != second and second.name == "20260314-092653-2"


# the clock


def test_enter_stops_the_clock_and_the_time_taken_is_measured():
    keyboard, ticks = Keyboard(presses=(42.5,)), []
    timing = iv.countdown(900, keyboard.clock, keyboard.wait, ticks.append)
    assert timing == iv.Timing(42.5, False)
    assert ticks == [float(s) for s in range(43)]  # once a second, on whole seconds


def test_the_clock_stops_by_itself_when_time_runs_out():
    keyboard, ticks = Keyboard(), []
    timing = iv.countdown(90, keyboard.clock, keyboard.wait, ticks.append)
    assert timing == iv.Timing(90, True)
    assert ticks[-1] == 90 and len(ticks) == 91


def test_swaps_are_announced_every_swap_interval():
    keyboard, swaps = Keyboard(presses=(1500,)), []
    iv.countdown(
        1800, keyboard.clock, keyboard.wait, lambda _: None, 600, lambda *s: swaps.append(s)
    )
    assert swaps == [(1, 600), (2, 1200)]


def test_the_end_of_input_counts_as_enter():
    enter = iv.StdinEnter(io.StringIO(""))
    assert enter.wait(5) is True and enter.wait(5) is True


def test_each_line_of_input_is_one_enter():
    enter = iv.StdinEnter(io.StringIO("\n\n"))
    assert [enter.wait(5) for _ in range(3)] == [True, True, True]
    assert enter.ended


def test_no_input_within_the_wait_is_no_enter():
    read_end, write_end = os.pipe()
    with os.fdopen(read_end) as stream, os.fdopen(write_end, "w"):
        enter = iv.StdinEnter(stream)
        assert enter.wait(0.05) is False


def test_times_read_as_minutes_and_seconds_and_over_time_is_flagged():
    assert (
        iv.mmss(0) == "00:00"
        and iv.mmss(61.4) == "01:01"
        and iv.mmss(61.6) == "01:02"
        and iv.mmss(3600) == "60:00"
    )
    assert iv.time_text(iv.Timing(125, False), 900) == "02:05 of 15:00"
    assert iv.time_text(iv.Timing(900, True), 900) == "15:00 of 15:00 (time ran out)"


def test_the_live_line_shows_the_time_left_and_the_next_swap():
    view = iv.CountdownView(Console(file=io.StringIO()), "beta", 1800, 600)
    assert view.line(0.4).plain == "beta  30:00 left   swap in 10:00   Enter when done"
    assert view.line(1799.2).plain == "beta  00:01 left   Enter when done"


# grading


def test_grading_runs_pytest_on_the_attempt_folder_and_reports_into_it(tmp_path):
    command = iv.grading_command("alpha", tmp_path)
    assert command[1:6] == ["-m", "pytest", "katas/alpha", "-q", "--tb=short"]
    assert f"--impl={tmp_path}" in command
    assert f"--report={tmp_path / 'report.json'}" in command


def test_the_verdict_comes_from_the_attempts_report(tmp_path):
    entry = {"status": "failing", "passed": 3, "failed": 2, "not_run": 0, "message": "boom"}
    (tmp_path / "report.json").write_text(json.dumps({"schema": 1, "katas": {"alpha": entry}}))
    verdict = iv.read_verdict(tmp_path / "report.json", "alpha", 1)
    assert verdict == iv.Verdict("failing", 3, 2, "boom")
    assert iv.verdict_text(verdict) == "failing: 2 of 5 tests fail"


def test_a_grading_that_wrote_no_report_is_broken(tmp_path):
    verdict = iv.read_verdict(tmp_path / "report.json", "alpha", 4)
    assert verdict.status == "broken" and "exit code 4" in verdict.message


@pytest.mark.slow
def test_grading_a_real_attempt_gives_its_verdict_and_keeps_its_report_in_the_folder(tmp_path):
    """A subprocess on purpose: this is the grading the interview runs."""
    repository = Path(__file__).resolve().parents[1]
    shutil.copyfile(repository / "references" / "softmax.py", tmp_path / "softmax.py")
    verdict = iv.grade(repository, "softmax", tmp_path)
    assert verdict.status == "solved" and verdict.failed == 0 and verdict.passed > 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["impl"] == str(tmp_path) and list(report["katas"]) == ["softmax"]
    assert "passed" in (tmp_path / "grading.txt").read_text()


# the interview, start to end


def test_an_interview_is_recorded_with_its_verdict_and_time(root):
    grader = Grader(iv.Verdict("failing", 1, 1, "AssertionError"))
    io_ = make_io(Keyboard(presses=(95.0,)), grader)
    assert iv.interview(root, iv.Options(kata="beta"), io_) == 0
    [record] = history.load(root)
    folder = root / record.pop("folder")
    assert record.pop("at")
    assert record == {
        "kind": "interview",
        "kata": "beta",
        "minutes": 30,  # the kata's own minutes
        "seconds_taken": 95,
        "status": "failing",
        "mode": "solo",
        "timed_out": False,
    }
    assert grader.calls == [("beta", folder)] and (folder / "beta.py").read_text() == BLANK
    text = output(io_)
    assert "failing: 1 of 2 tests fail" in text and "01:35 of 30:00" in text


def test_an_interview_that_runs_out_of_time_is_graded_and_flagged(root):
    io_ = make_io(Keyboard())
    iv.interview(root, iv.Options(kata="alpha", minutes=2), io_)
    [record] = history.load(root)
    assert record["timed_out"] is True and record["seconds_taken"] == 120
    assert record["minutes"] == 2 and record["status"] == "solved"
    assert "Time is up" in output(io_) and "(time ran out)" in output(io_)


def test_an_interview_draws_a_kata_not_yet_solved(root):
    write_report(root, "stubs", {"alpha": "solved", "beta": "solved"})
    iv.interview(root, iv.Options(), make_io(Keyboard(presses=(1,))))
    assert history.load(root)[0]["kata"] == "gamma"


def test_pair_mode_prints_the_roles_announces_swaps_and_is_recorded_as_pair(root):
    io_ = make_io(Keyboard(presses=(25 * 60,)))
    iv.interview(root, iv.Options(kata="beta", pair=True, swap=10), io_)
    text = output(io_)
    assert "Driver: types, and thinks aloud" in text and "Navigator: reviews" in text
    assert "10:00: swap 1." in text and "20:00: swap 2." in text and "swap 3" not in text
    assert history.load(root)[0]["mode"] == "pair"


def test_ctrl_c_during_the_countdown_records_an_abandoned_attempt(root):
    before = katas_snapshot(root)
    grader = Grader()
    io_ = make_io(Keyboard(interrupt_at=200.0), grader)
    assert iv.interview(root, iv.Options(kata="alpha", pair=True), io_) == iv.INTERRUPTED
    [record] = history.load(root)
    assert record["status"] == "abandoned" and record["seconds_taken"] == 200
    assert record["mode"] == "pair" and record["timed_out"] is False
    assert grader.calls == [] and katas_snapshot(root) == before
    assert "Interview abandoned after 03:20" in output(io_)


def test_ctrl_c_during_grading_records_an_abandoned_attempt_with_its_time(root):
    before = katas_snapshot(root)
    io_ = make_io(Keyboard(presses=(61,)), Grader(interrupt=True))
    assert iv.interview(root, iv.Options(kata="beta"), io_) == iv.INTERRUPTED
    [record] = history.load(root)
    assert record["status"] == "abandoned" and record["seconds_taken"] == 61
    assert katas_snapshot(root) == before


def test_ctrl_c_during_the_follow_ups_keeps_the_graded_record(root):
    keyboard = Keyboard(presses=(10,), interrupt_at=11)
    io_ = make_io(keyboard, interactive=True)
    assert iv.interview(root, iv.Options(kata="alpha"), io_) == iv.INTERRUPTED
    assert [r["status"] for r in history.load(root)] == ["solved"]


def test_follow_ups_wait_for_enter_one_at_a_time_when_stdin_is_a_terminal(root):
    keyboard = Keyboard(presses=(10, 12, 30, 40))  # 12: pressed while it was grading
    io_ = make_io(keyboard, Grader(keyboard=keyboard, seconds=5), interactive=True)
    iv.interview(root, iv.Options(kata="alpha"), io_)
    assert keyboard.discarded == 1
    assert keyboard.waits[-2:] == [None, None]  # after questions 1 and 2, not after the last
    assert keyboard.now == 40
    text = output(io_)
    assert text.index("1/3. Why two?") < text.index("2/3.") < text.index("3/3. And floats?")


def test_follow_ups_are_printed_without_waiting_when_stdin_is_not_a_terminal(root):
    keyboard = Keyboard(presses=(10,))
    io_ = make_io(keyboard, interactive=False)
    iv.interview(root, iv.Options(kata="alpha"), io_)
    assert None not in keyboard.waits and "3/3. And floats?" in output(io_)


def test_no_questions_skips_the_follow_ups(root):
    io_ = make_io(Keyboard(presses=(10,)), interactive=True)
    iv.interview(root, iv.Options(kata="alpha", questions=False), io_)
    assert "Why two?" not in output(io_)


# the interviewer's view


def test_the_interviewers_view_has_problem_hints_answers_and_what_a_strong_answer_covers(root):
    io_ = make_io(Keyboard())
    assert iv.interview(root, iv.Options(kata="alpha", interviewer=True), io_) == 0
    text = output(io_)
    for part in ("Double a number, alpha style.", "double(2) == 4", "Because doubling."):
        assert part in text
    assert text.index("Hint 1. Multiply.") < text.index("Hint 2. By two.")
    assert "numpy alone" in text and "scipy.special" in text
    assert "two doubles to four" in text and "zero stays zero" in text
    assert not (root / ".interview").exists() and history.load(root) == []


def test_a_strong_answer_is_derived_from_the_katas_metadata_and_tests(root):
    kata = iv.load_catalog(root)["gamma"]
    assert iv.strong_answer(kata) == [
        "works within 30 minutes (difficulty M)",
        "does not use `torch.nn.functional.softmax`",
        "passes what the tests check:",
    ]
    assert iv.checked_by_tests(kata) == ["two doubles to four", "zero stays zero"]


# the command line


def test_options_are_parsed_with_their_defaults():
    assert iv.parse_args([]) == iv.Options()
    options = iv.parse_args(["--difficulty", "m", "--tag", "Attention", "--minutes", "1.5"])
    assert (options.difficulty, options.tag, options.minutes) == ("M", "attention", 1.5)
    assert iv.parse_args(["--pair", "--swap", "5"]).swap == 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--minutes", "0"], "give a number above 0"),
        (["--minutes", "ten"], "not a number of minutes"),
        (["--swap", "5"], "--swap is for pair mode"),
        (["--difficulty", "X"], "invalid choice"),
    ],
)
def test_bad_options_give_one_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        iv.parse_args(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and err.count("\n") == 1


def test_an_unknown_kata_on_the_command_line_is_one_line_with_suggestions(capsys):
    assert iv.main(["--kata", "sofmax"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "interview: unknown kata 'sofmax'. Did you mean: softmax? "
        "The katas are the folders under katas/.\n"
    )
