"""`nox -s list`: which katas are shown, their statuses from the last report, the progress line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dojo import progress
from dojo.catalog import load_catalog

KATAS = {  # name: (difficulty, tags)
    "attention": ("E", ["attention", "torch"]),
    "kv_cache": ("M", ["attention", "decoding", "torch"]),
    "beam_search": ("M", ["decoding", "torch"]),
    "kmeans": ("M", ["classic-ml", "numpy"]),
    "flash_attention": ("H", ["attention", "torch"]),
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name, (difficulty, tags) in KATAS.items():
        folder = tmp_path / "katas" / name
        folder.mkdir(parents=True)
        minutes = {"E": 15, "M": 30, "H": 45}[difficulty]
        (folder / "kata.toml").write_text(
            f'difficulty = "{difficulty}"\nminutes = {minutes}\ntags = {json.dumps(tags)}\n'
        )
    return tmp_path


def write_report(root: Path, katas: dict[str, dict], impl: str = "stubs") -> None:
    path = root / ".katas" / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {"schema": 1, "impl": impl, "created": "2026-01-02T03:04:05+00:00", "katas": katas}
    path.write_text(json.dumps(report))


def entry(status: str, passed: int = 0, failed: int = 0) -> dict:
    return {"status": status, "passed": passed, "failed": failed, "message": ""}


def names(katas) -> list[str]:
    return [k.name for k in katas]


def test_without_filters_every_kata_is_selected_in_alphabetical_order(root):
    assert names(progress.select(load_catalog(root))) == sorted(KATAS)


def test_a_tag_selects_the_katas_that_carry_it(root):
    selected = progress.select(load_catalog(root), tags=["attention"])
    assert names(selected) == ["attention", "flash_attention", "kv_cache"]


def test_two_tags_select_the_katas_that_carry_both(root):
    selected = progress.select(load_catalog(root), tags=["attention", "decoding"])
    assert names(selected) == ["kv_cache"]


def test_tag_and_difficulty_together_narrow_the_selection(root):
    selected = progress.select(load_catalog(root), tags=["attention"], levels=["M"])
    assert names(selected) == ["kv_cache"]


def test_several_difficulties_select_any_of_them(root):
    selected = progress.select(load_catalog(root), levels=["E", "H"])
    assert names(selected) == ["attention", "flash_attention"]


def test_an_unknown_tag_is_refused_with_the_closest_tags(root):
    with pytest.raises(progress.SelectionError, match=r"'atention'.*Did you mean: attention"):
        progress.select(load_catalog(root), tags=["atention"])


def test_an_unknown_difficulty_is_refused(root):
    with pytest.raises(progress.SelectionError, match="use E, M or H"):
        progress.select(load_catalog(root), levels=["X"])


def test_statuses_come_from_the_report_and_a_kata_absent_from_it_is_not_started(root):
    write_report(root, {"attention": entry("solved", 9), "kmeans": entry("failing", 3, 2)})
    grades = progress.load_grades(root)
    assert grades.status_text("attention") == "solved"
    assert grades.status_text("kmeans") == "failing 2 of 5"
    assert grades.status_text("beam_search") == "not started"


def test_without_a_report_every_kata_is_not_started(root):
    grades = progress.load_grades(root)
    assert grades.impl is None
    assert all(grades.status(name) == "not_started" for name in KATAS)
    assert "no grading yet" in progress.source_line(grades)


def test_an_unreadable_report_counts_as_no_grading_and_says_why(root):
    (root / ".katas").mkdir()
    (root / ".katas" / "report.json").write_text("{not json")
    grades = progress.load_grades(root)
    assert grades.status("attention") == "not_started"
    assert "could not be read" in progress.source_line(grades)


def test_the_progress_line_counts_solved_katas_in_total_and_by_difficulty(root):
    write_report(
        root,
        {
            "attention": entry("solved", 9),
            "kv_cache": entry("solved", 4),
            "kmeans": entry("failing", 3, 2),
            "flash_attention": entry("broken", 0, 5),
        },
    )
    line = progress.progress_line(progress.select(load_catalog(root)), progress.load_grades(root))
    assert line == "2 of 5 solved · E 1/1 · M 1/3 · H 0/1"


def test_the_progress_line_leaves_out_difficulties_with_no_selected_kata(root):
    write_report(root, {"kmeans": entry("solved", 3)})
    katas = progress.select(load_catalog(root), tags=["decoding"])
    assert progress.progress_line(katas, progress.load_grades(root)) == "0 of 2 solved · M 0/2"


def test_statuses_graded_from_another_impl_say_where_they_come_from(root):
    write_report(root, {"attention": entry("solved", 9)}, impl="references")
    grades = progress.load_grades(root)
    assert not grades.of_own_work
    assert "of 'references'" in progress.source_line(grades)
    assert "not of your own work" in progress.source_line(grades)


def test_the_table_shows_every_selected_kata_with_its_metadata_and_status(root):
    write_report(root, {"kmeans": entry("failing", 3, 2)})
    text = progress.render(progress.select(load_catalog(root)), progress.load_grades(root), 120)
    kmeans_row = next(line for line in text.splitlines() if "kmeans" in line)
    for cell in ("M", "30", "classic-ml, numpy", "failing 2 of 5"):
        assert cell in kmeans_row
    assert "0 of 5 solved · E 0/1 · M 0/3 · H 0/1" in text


def test_the_command_line_refuses_an_unknown_tag_in_one_line(root, capsys):
    assert progress.main(["--tag", "atention"], root=root) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Did you mean: attention" in err


def test_the_command_line_takes_difficulties_in_any_case_and_comma_separated(root, capsys):
    assert progress.main(["--difficulty", "e,h"], root=root) == 0
    out = capsys.readouterr().out
    assert "attention" in out and "flash_attention" in out and "kmeans" not in out
