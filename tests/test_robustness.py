"""A solutions folder full of broken katas is graded to the end, each failing on its own.

These tests build a small synthetic repository (katas `k_*` that double a number) and grade
it in a subprocess, as a learner's `nox -s check` would. The katas' tests need no torch, so
a run costs well under a second; the solutions that misuse torch import it themselves.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.grading import Repo

KATA_TEST = """
def test_doubles_a_positive_number(solution):
    assert solution.double(3) == 6

def test_doubles_a_negative_number(solution):
    assert solution.double(-1.5) == -3.0

def test_doubles_zero(solution):
    assert solution.double(0) == 0
"""

OK = "def double(x):\n    return x * 2\n"

BROKEN = {
    "k_syntax": "def double(x)\n    return x * 2\n",
    "k_import": "import no_such_module_anywhere\n" + OK,
    "k_missing": "def triple(x):\n    return x * 3\n",
    "k_loop": "def double(x):\n    while True:\n        pass\n",
    "k_sysexit": "import sys\n\ndef double(x):\n    sys.exit(3)\n",
    "k_osexit": "import os\n\ndef double(x):\n    os._exit(1)\n",
    "k_dtype": "import torch\n\ndef double(x):\n    torch.set_default_dtype(torch.float64)\n"
    "    return x * 2\n",
    "k_grad": "import torch\n\ndef double(x):\n    torch.set_grad_enabled(False)\n"
    "    return x * 2\n",
    "k_threads": "import torch\n\ndef double(x):\n"
    "    torch.set_num_threads(torch.get_num_threads() + 1)\n    return x * 2\n",
}
EXPECTED_WHY = {
    "k_syntax": "SyntaxError",
    "k_import": "ModuleNotFoundError",
    "k_missing": "defines no `double`",
    "k_loop": "timed out after 1 s",
    "k_sysexit": "sys.exit(3)",
    "k_osexit": "os._exit(1)",
    "k_dtype": "default dtype torch.float32 -> torch.float64",
    "k_grad": "grad mode True -> False",
    "k_threads": "number of threads",
}
PRINTS = "def double(x):\n    print('x' * 10_000_000)\n    return x * 2\n"
SEED = "import torch\n\ndef double(x):\n    torch.manual_seed(0)\n    return x * 2\n"
GOOD = {"k_ok": OK, "k_prints": PRINTS, "k_seed": SEED}
LOUD_AND_WRONG = "def double(x):\n    print('y' * 10_000_000)\n    return x * 3\n"


def katas(names: list[str]) -> dict[str, tuple[str, str]]:
    # one second is enough to catch the hang, and too short for a first torch import
    return {
        name: (f'difficulty = "E"\ntimeout = {1 if name == "k_loop" else 20}\n', KATA_TEST)
        for name in names
    }


SPEED_TEST = (
    KATA_TEST
    + """
import pytest

@pytest.mark.speed
@pytest.mark.timeout(1)
def test_doubles_a_million_numbers_fast(solution):
    \"\"\"A loop over a million numbers in Python is too slow: vectorise.\"\"\"
    assert solution.double_all(list(range(10))) == [2 * i for i in range(10)]

def test_after_the_speed_test(solution):
    assert solution.double(2) == 4
"""
)
SLOW = OK + "\ndef double_all(xs):\n    while True:\n        pass\n"


def test_too_slow_for_a_speed_test_fails_that_test_alone_and_says_why(tmp_path, monkeypatch):
    repo = Repo(tmp_path, {"k_speed": ('difficulty = "E"\n', SPEED_TEST)})
    assert repo.grade_in_process(monkeypatch, "--impl=sol", solutions={"k_speed": SLOW}) == 1
    entry = repo.report()["katas"]["k_speed"]
    assert entry["status"] == "failing" and entry["not_run"] == 0, entry
    assert entry["passed"] == 4 and entry["failed"] == 1, entry
    assert "timed out after 1 s: A loop over a million numbers" in entry["message"], entry


UNRENDERABLE = """
import _pytest._code.code as code

def test_doubles_three(solution, monkeypatch):
    # what a timeout that lands between two lines does: the traceback has no line number
    monkeypatch.setattr(code.TracebackEntry, "lineno", property(lambda entry: None - 1))
    assert solution.double(3) == 6
"""


def test_a_failure_pytest_cannot_render_still_fails_the_kata(tmp_path, monkeypatch):
    repo = Repo(tmp_path, {"k_odd": ('difficulty = "E"\n', KATA_TEST + UNRENDERABLE)})
    wrong = "def double(x):\n    return x * 2 if x != 3 else 5\n"
    assert repo.grade_in_process(monkeypatch, "--impl=sol", solutions={"k_odd": wrong}) == 1
    entry = repo.report()["katas"]["k_odd"]
    assert entry["status"] == "failing" and entry["failed"] == 2, entry
    assert "AssertionError" in entry["message"], entry


def test_tests_left_unrun_by_a_stopped_session_are_not_counted_as_passed(tmp_path, monkeypatch):
    repo = Repo(tmp_path, katas(["k_a", "k_b"]))
    solutions = {"k_a": "def double(x):\n    return x * 2 if x > 0 else 1\n", "k_b": OK}
    assert repo.grade_in_process(monkeypatch, "--impl=sol", "-x", solutions=solutions) == 1
    report = repo.report()["katas"]
    assert report["k_a"]["status"] == "failing" and report["k_a"]["not_run"] == 1, report
    assert report["k_b"]["status"] == "failing" and report["k_b"]["not_run"] == 3, report
    assert "session stopped" in report["k_b"]["message"], report


def test_collecting_only_grades_nothing(tmp_path, monkeypatch):
    repo = Repo(tmp_path, katas(["k_a"]))
    assert repo.grade_in_process(monkeypatch, "--impl=sol", "--collect-only") == 0
    assert not (tmp_path / ".katas" / "report.json").exists()


@pytest.fixture
def make_repo(tmp_path):
    return lambda names: Repo(tmp_path, katas(names))


@pytest.fixture(scope="module")
def everything_graded(tmp_path_factory):
    """A folder of every kind of breakage, plus well-behaved katas, graded once."""
    repo = Repo(tmp_path_factory.mktemp("everything"), katas([*BROKEN, *GOOD, "k_loud"]))
    start = time.monotonic()
    result = repo.grade("--impl=sol", solutions={**BROKEN, **GOOD, "k_loud": LOUD_AND_WRONG})
    return result, repo.report(), time.monotonic() - start


@pytest.mark.slow
def test_a_folder_of_broken_katas_is_graded_to_the_end(everything_graded):
    result, report, seconds = everything_graded
    assert result.returncode == 1
    assert set(report["katas"]) == {*BROKEN, *GOOD, "k_loud"}
    for name, why in EXPECTED_WHY.items():
        entry = report["katas"][name]
        assert entry["status"] == "broken", (name, entry)
        assert why in entry["message"], (name, entry["message"])
        assert "\n" not in entry["message"]
    # the hanging kata cost one timeout; its other tests were not run
    assert report["katas"]["k_loop"]["not_run"] == 2
    assert seconds < 60


@pytest.mark.slow
def test_well_behaved_katas_are_graded_as_if_the_broken_ones_were_absent(everything_graded):
    _, report, _ = everything_graded
    for name in GOOD:
        assert report["katas"][name]["status"] == "solved", report["katas"][name]


@pytest.mark.slow
def test_megabytes_of_output_do_not_flood_the_terminal_or_the_report(everything_graded):
    result, report, _ = everything_graded
    assert report["katas"]["k_loud"]["status"] == "failing"
    assert "more characters cut by the grader" in result.stdout
    assert len(result.stdout) + len(result.stderr) < 200_000
    assert len(json.dumps(report)) < 20_000


def test_a_learner_sees_one_line_per_broken_kata_not_a_traceback(everything_graded):
    result, _, _ = everything_graded
    assert re.search(r"k_syntax: \S*k_syntax.py:1: SyntaxError", result.stdout)
    assert "Traceback" not in result.stdout


def test_an_unknown_kata_name_suggests_the_closest(make_repo):
    result = make_repo(["k_ok"]).grade("--kata=k_okk")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "unknown kata 'k_okk'. Did you mean: k_ok?" in result.stderr


def test_an_impl_folder_that_does_not_exist_is_a_clear_error(make_repo):
    result = make_repo(["k_ok"]).grade("--impl=nowhere")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--impl=nowhere: no such folder" in result.stderr


def test_references_in_a_checkout_without_them_is_a_clear_error(make_repo):
    result = make_repo(["k_ok"]).grade("--impl=references")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "this checkout has no references/ folder" in result.stderr


def test_katas_impl_in_the_environment_chooses_the_folder(make_repo, monkeypatch):
    repo = make_repo(["k_ok"])
    monkeypatch.setenv("KATAS_IMPL", "sol")
    assert repo.grade_in_process(monkeypatch, solutions={"k_ok": OK}) == 0
    assert repo.report()["impl"] == "sol"
    assert repo.report()["katas"]["k_ok"]["status"] == "solved"


def test_the_stubs_are_graded_by_default_and_show_as_not_started(make_repo, monkeypatch):
    repo = make_repo(["k_ok"])
    assert repo.grade_in_process(monkeypatch) == 1
    assert repo.report()["impl"] == "stubs"
    assert repo.report()["katas"]["k_ok"]["status"] == "not_started"


def test_a_solution_missing_from_the_folder_is_not_started(make_repo, monkeypatch):
    repo = make_repo(["k_ok"])
    assert repo.grade_in_process(monkeypatch, "--impl=sol") == 1
    assert repo.report()["katas"]["k_ok"]["status"] == "not_started"
    assert "has no k_ok.py" in repo.report()["katas"]["k_ok"]["message"]
