"""`nox -s watch`: verdicts read from the report, saves noticed and debounced, Ctrl-C."""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from dojo import watch
from dojo.watch import Verdict

AT = datetime(2026, 3, 4, 19, 2, 11)
FAILING = Verdict(
    "demo",
    "failing",
    passed=18,
    failed=12,
    seconds=0.7,
    message="test_doubles_two[int]: AssertionError: double(2) == 5, expected 4",
    where="katas/demo/test_demo.py:9",
)
SOLVED = Verdict("demo", "solved", passed=30, seconds=3.14)


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, highlight=False), out


# verdicts


def test_a_failing_verdict_names_the_count_and_the_first_failing_test():
    assert FAILING.headline() == "demo: failing 12 of 30 — test_doubles_two[int]"
    assert FAILING.first_failure() == "AssertionError: double(2) == 5, expected 4"


def test_a_solved_verdict_says_how_long_it_took():
    assert SOLVED.headline() == "demo: solved in 3.1 s (30 tests pass)"


def test_a_message_without_a_test_name_is_the_first_failure_whole():
    verdict = Verdict("demo", "forbidden", failed=1, message="forbidden call: torch.softmax")
    assert verdict.headline() == "demo: forbidden call"
    assert verdict.first_failure() == "forbidden call: torch.softmax"


def test_the_verdict_is_read_from_the_report_the_run_wrote(tmp_path):
    report = tmp_path / ".katas" / "report.json"
    report.parent.mkdir()
    entry = {"status": "failing", "passed": 18, "failed": 12, "seconds": 0.7}
    entry["message"] = FAILING.message
    report.write_text(json.dumps({"schema": 1, "impl": "stubs", "katas": {"demo": entry}}))
    output = (
        "FF.\n=== FAILURES ===\n"
        f"{tmp_path}/katas/demo/test_demo.py:9: AssertionError: double(2) == 5, expected 4\n"
    )
    assert watch.read_verdict(tmp_path, "demo", output, fresh=True) == FAILING


def test_a_run_that_wrote_no_report_shows_the_end_of_pytests_output(tmp_path):
    verdict = watch.read_verdict(tmp_path, "demo", "a\n\nERROR: something broke\n", fresh=False)
    assert verdict.status == "error"
    assert verdict.headline() == "demo: the tests did not run"
    assert verdict.first_failure() == "a\nERROR: something broke"


def test_the_first_failures_location_is_taken_from_the_failures_section(tmp_path):
    output = (
        "/elsewhere/conftest.py:1: a warning before the failures\n"
        "============ FAILURES ============\n"
        "E   AssertionError: wrong\n"
        f"{tmp_path}/katas/demo/demo.py:3: RuntimeError: shapes\n"
        f"{tmp_path}/katas/demo/test_demo.py:9: AssertionError: wrong\n"
    )
    assert watch.first_location(output, tmp_path) == "katas/demo/demo.py:3"
    assert watch.first_location("1 passed\n", tmp_path) == ""


# the loop


def test_the_tests_run_once_when_watching_begins_and_once_per_change():
    con, out = console()
    verdicts = iter([FAILING, FAILING, SOLVED])
    changes = [set(), {"a"}, {"b"}]
    status = watch.watch("demo", changes, lambda: next(verdicts), con, clock=lambda: AT)
    assert status == 0
    text = out.getvalue()
    assert text.count("[19:02:11] demo: failing 12 of 30 — test_doubles_two[int]") == 2
    assert "  AssertionError: double(2) == 5, expected 4\n  at katas/demo/test_demo.py:9" in text
    assert "[19:02:11] demo: solved in 3.1 s" in text
    assert "nox -s reveal -- demo" in text


def test_ctrl_c_while_waiting_for_a_save_ends_cleanly_with_status_zero():
    def changes():
        yield set()
        yield {"a"}
        raise KeyboardInterrupt

    con, out = console()
    assert watch.watch("demo", changes(), lambda: SOLVED, con, clock=lambda: AT) == 0
    assert out.getvalue().endswith("Stopped watching demo.\n")
    assert out.getvalue().count("solved") == 2


def test_ctrl_c_during_a_run_ends_cleanly_with_status_zero():
    def interrupted() -> Verdict:
        raise KeyboardInterrupt

    con, out = console()
    assert watch.watch("demo", [set()], interrupted, con, clock=lambda: AT) == 0
    assert "Stopped watching demo." in out.getvalue()


# noticing saves


class Enough(Exception):
    """Ends a polling loop in a test."""


class FakeFile:
    """A file that is saved at given ticks of an injected sleep, polled until tick `last`."""

    def __init__(self, saves_at: set[int], last: int) -> None:
        self.tick, self.version, self.saves_at, self.last = 0, 0, saves_at, last

    def sleep(self, seconds: float) -> None:
        self.tick += 1
        if self.tick > self.last:
            raise Enough
        if self.tick in self.saves_at:
            self.version += 1

    def signature(self, path: Path) -> int:
        return self.version


def changes_seen(fake: FakeFile) -> list[int]:
    """The ticks at which poll_changes yielded a change."""
    found = []
    with pytest.raises(Enough):
        for _ in watch.poll_changes(Path("demo.py"), 0.5, fake.signature, fake.sleep):
            found.append(fake.tick)
    return found


def test_polling_says_when_it_begins_then_notices_each_save_once_the_file_settles():
    assert changes_seen(FakeFile({3, 10}, last=20)) == [0, 4, 11]


def test_polling_turns_a_burst_of_saves_into_one_change():
    assert changes_seen(FakeFile({3, 4, 5, 6}, last=20)) == [0, 7]


def test_without_watchfiles_saves_are_found_by_polling(monkeypatch):
    notices = []
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # import fails
    monkeypatch.setattr(watch, "poll_changes", lambda path: iter([{path}]))
    changes = list(watch.file_changes(Path("demo.py"), notice=notices.append))
    assert changes == [{Path("demo.py")}]
    assert notices == ["watchfiles is not installed: polling every 0.5 s instead."]


def test_when_file_events_fail_saves_are_found_by_polling(monkeypatch, tmp_path):
    import watchfiles

    def failing_watch(*args, **kwargs):
        raise OSError("inotify watch limit reached")
        yield

    notices = []
    monkeypatch.setattr(watchfiles, "watch", failing_watch)
    monkeypatch.setattr(watch, "poll_changes", lambda path: iter([{path}]))
    changes = list(watch.file_changes(tmp_path / "demo.py", notice=notices.append))
    assert changes == [{tmp_path / "demo.py"}]
    assert "inotify watch limit reached" in notices[0]


def test_poll_skips_file_events(monkeypatch):
    import watchfiles

    monkeypatch.setattr(watchfiles, "watch", pytest.fail)
    monkeypatch.setattr(watch, "poll_changes", lambda path: iter([{path}]))
    assert list(watch.file_changes(Path("demo.py"), poll=True)) == [{Path("demo.py")}]


def test_file_events_begin_with_an_empty_set_then_pass_on_saves_of_the_solution_file(
    monkeypatch, tmp_path
):
    import watchfiles

    target = tmp_path / "demo.py"
    seen_filter = {}

    def fake_watch(folder, watch_filter, **options):
        seen_filter["folder"] = folder
        seen_filter["keeps"] = [
            watch_filter(watchfiles.Change.modified, str(p))
            for p in (target, tmp_path / "test_demo.py")
        ]
        yield set()  # the first timeout: the watcher runs
        yield {(watchfiles.Change.modified, str(target))}
        yield set()  # a later timeout: nothing to do

    monkeypatch.setattr(watchfiles, "watch", fake_watch)
    assert list(watch.file_changes(target)) == [set(), {target}]
    assert seen_filter == {"folder": tmp_path.resolve(), "keeps": [True, False]}
