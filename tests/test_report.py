"""Statuses, the JSON report's contract, the job summary."""

from __future__ import annotations

import json

import pytest

from dojo import outcomes, report
from dojo.outcomes import KataResult

P, N, F, B, X = (
    outcomes.PASSED,
    outcomes.NOT_IMPLEMENTED,
    outcomes.FAILED,
    outcomes.BROKEN,
    outcomes.FORBIDDEN,
)


def result(*kinds: str, name: str = "k") -> KataResult:
    r = KataResult(name, "E")
    for i, kind in enumerate(kinds):
        r.record(f"katas/{name}/test_{name}.py::test_{i}", kind, f"why {i}", 0.5)
    return r


@pytest.mark.parametrize(
    ("kinds", "status", "shown"),
    [
        ((P, P), "solved", "solved"),
        ((N, N), "not_started", "not started"),
        ((P, N), "failing", "failing 1 of 2"),
        ((P, F, F), "failing", "failing 2 of 3"),
        ((P, B), "broken", "broken"),
        ((F, X, B), "forbidden", "forbidden call"),
    ],
)
def test_a_katas_status_follows_from_its_tests(kinds, status, shown):
    r = result(*kinds)
    assert r.status == status
    assert report.status_text(r) == shown


def test_the_worst_phase_of_a_test_decides_its_outcome():
    r = KataResult("k", "E")
    r.record("katas/k/test_k.py::test_0", P, "", 0.1)  # the call passed
    r.record("katas/k/test_k.py::test_0", B, "changed torch state", 0.1)  # teardown did not
    assert r.status == "broken" and r.message == "changed torch state"
    assert r.seconds == pytest.approx(0.2)


def test_a_failing_katas_message_names_its_first_failing_test():
    assert result(P, F, F).message == "test_1: why 1"


def test_the_json_report_keeps_its_contract(tmp_path):
    target = tmp_path / "report.json"
    report.write_json([result(P, F, name="a"), result(P, name="b")], "references", target)
    data = json.loads(target.read_text())
    assert data["schema"] == 1 and data["impl"] == "references"
    assert data["katas"]["a"] == {
        "status": "failing",
        "difficulty": "E",
        "passed": 1,
        "failed": 1,
        "not_run": 0,
        "seconds": 1.0,
        "message": "test_1: why 1",
    }
    assert data["summary"] == {"solved": 1, "total": 2}


def test_grading_some_katas_keeps_the_others_in_the_report(tmp_path):
    target = tmp_path / "report.json"
    report.write_json([result(N, name="a"), result(N, name="b")], "stubs", target)
    report.write_json([result(P, name="b")], "stubs", target)
    data = json.loads(target.read_text())
    assert {k: v["status"] for k, v in data["katas"].items()} == {
        "a": "not_started",
        "b": "solved",
    }
    report.write_json([result(P, name="b")], "elsewhere", target)
    assert list(json.loads(target.read_text())["katas"]) == ["b"]


def test_the_job_summary_gets_a_markdown_table(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier steps\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report.append_step_summary([result(P, F, name="a|b")], "stubs")
    text = summary.read_text()
    assert text.startswith("earlier steps\n\n### Grades for `stubs`")
    assert "| a\\|b | E | failing 1 of 2 | 1.0s | test_1: why 1 |" in text


def test_the_terminal_table_lists_every_kata_and_the_progress():
    text = report.terminal_table([result(P, name="alpha"), result(N, name="beta")], "x", 100, False)
    assert "alpha" in text and "beta" in text and "not started" in text
    assert "1 of 2 katas solved (E 1/2)" in text


def test_gpu_marked_tests_get_a_column_of_their_own():
    ran = KataResult("ran", "E")
    ran.record("katas/ran/test_ran.py::test_a[cpu]", P, "", 0.1)
    ran.record("katas/ran/test_ran.py::test_a[cuda]", F, "off by one", 0.1, gpu=True)
    ran.record("katas/ran/test_ran.py::test_b[cuda]", P, "", 0.1, gpu=True)
    skipped = result(P, name="skipped")
    skipped.gpu_skipped = 3
    assert ran.as_json()["gpu"] == {"passed": 1, "failed": 1, "skipped": 0}
    assert skipped.as_json()["gpu"] == {"passed": 0, "failed": 0, "skipped": 3}
    assert report.gpu_text(ran) == "failing 1 of 2"
    assert report.gpu_text(skipped) == "skipped (no CUDA)"
    table = report.terminal_table([ran, skipped], "stubs", 200, color=False)
    assert "┃ gpu " in table and "failing 1 of 2" in table and "skipped (no CUDA)" in table
    assert "| gpu |" in report.markdown([ran, skipped], "stubs")


def test_without_cuda_the_skipped_gpu_tests_are_one_line_not_a_column():
    skipped = result(P, name="skipped")
    skipped.gpu_skipped = 3
    table = report.terminal_table([skipped], "stubs", 200, color=False)
    assert "┃ gpu " not in table and "3 GPU tests skipped: no CUDA device" in table
    summary = report.markdown([skipped], "stubs")
    assert "| gpu |" not in summary and "3 GPU tests skipped: no CUDA device" in summary


def test_a_grading_without_gpu_tests_has_no_gpu_column():
    numpy_only = result(P, P, name="numpy_only")
    assert "gpu" not in numpy_only.as_json()
    assert "gpu" not in report.terminal_table([numpy_only], "stubs", 200, color=False)
