"""Every kata in the catalog: complete, stub and reference in step, graded as they should be."""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path

import pytest

from dojo.catalog import load_catalog
from dojo.guard import resolve
from tests.grading import KATAS, ROOT, VARIANTS, grade, solutions_folder

CATALOG = load_catalog(ROOT)
HAS_REFERENCES = (ROOT / "references").is_dir()
needs_references = pytest.mark.skipif(not HAS_REFERENCES, reason="no references/ here")


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _public(module) -> dict[str, object]:
    return {
        name: obj
        for name, obj in vars(module).items()
        if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
    }


def _signatures(obj) -> dict[str, str]:
    """The signature of a function, or of a class's constructor and public methods."""
    if not inspect.isclass(obj):
        return {"": str(inspect.signature(obj))}
    return {
        name: str(inspect.signature(member))
        for name, member in vars(obj).items()
        if inspect.isfunction(member) and (name == "__init__" or not name.startswith("_"))
    }


@pytest.mark.parametrize("kata", KATAS)
def test_the_kata_folder_is_complete(kata):
    folder = ROOT / "katas" / kata
    for name in ("README.md", f"{kata}.py", f"test_{kata}.py", "kata.toml"):
        assert (folder / name).is_file(), f"katas/{kata}/{name} is missing"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for heading in ("## Worked example", "## Hints", "## Follow-up questions"):
        assert heading in readme, f"katas/{kata}/README.md lacks '{heading}'"
    assert len(re.findall(r"^### Hint \d", readme, re.M)) >= 2


@pytest.mark.parametrize("kata", KATAS)
def test_every_forbidden_name_names_something_real(kata):
    for entry in CATALOG[kata].forbidden:
        if importlib.util.find_spec(entry.split(".")[0]) is None:
            continue  # a library not installed here (sklearn, say) cannot be called here either
        assert resolve(entry), f"katas/{kata}/kata.toml forbids {entry}, which does not exist"


@needs_references
@pytest.mark.parametrize("kata", KATAS)
def test_stub_and_reference_export_the_same_names_and_signatures(kata):
    stub = _module(ROOT / "katas" / kata / f"{kata}.py", f"stub_{kata}")
    reference = _module(ROOT / "references" / f"{kata}.py", f"reference_{kata}")
    stub_names, reference_names = _public(stub), _public(reference)
    assert sorted(stub_names) == sorted(reference_names)
    for name, obj in stub_names.items():
        assert _signatures(obj) == _signatures(reference_names[name]), name
        assert inspect.getdoc(obj) == inspect.getdoc(reference_names[name]), name
    for name in CATALOG[kata].numpy_only:
        assert name == "*" or name in stub_names, f"numpy_only names unknown {name}"


@pytest.mark.parametrize("kata", KATAS)
def test_the_stub_fails_every_test_as_not_started(tmp_path, kata):
    result = grade(tmp_path, kata, "stubs", "--no-shrink")
    assert result["status"] == "not_started", result
    assert result["passed"] == 0 and result["failed"] > 0


@needs_references
@pytest.mark.parametrize("kata", KATAS)
def test_the_reference_passes_every_test(tmp_path, kata):
    result = grade(tmp_path, kata, "references")
    assert result["status"] == "solved", result


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_variant_is_graded_as_its_name_says(tmp_path, variant):
    kata = variant.parent.name
    folder = solutions_folder(tmp_path, {kata: variant})
    if variant.stem.startswith("right_"):
        assert grade(tmp_path, kata, folder)["status"] == "solved"
    else:
        assert variant.stem.startswith("wrong_"), f"{variant}: name it wrong_* or right_*"
        result = grade(tmp_path, kata, folder, "-x", "--no-shrink")
        # a real assertion failed: the mistake is caught by a test, not by a crash
        assert result["status"] == "failing", result
        cause = result["message"].split(": ")[1]
        # a speed test that timed out is a real failure too: the variant is too slow
        assert cause in REAL_FAILURES or cause.startswith("timed out after"), result


# what a test that caught a mistake raises: an assertion, or pytest.raises' DID NOT RAISE
REAL_FAILURES = {"AssertionError", "Failed"}

IMPOSTOR = """
from tests.impostors import impostor
globals().update(impostor({kata!r}, {kind!r}))
"""


@needs_references
@pytest.mark.parametrize("kind", ["zeros", "input", "random", "transpose"])
@pytest.mark.parametrize("kata", KATAS)
def test_an_impostor_never_solves_a_kata(tmp_path, kata, kind):
    folder = solutions_folder(tmp_path, {kata: IMPOSTOR.format(kata=kata, kind=kind)})
    result = grade(tmp_path, kata, folder, "-x", "--no-shrink")
    assert result["status"] != "solved", result


def test_the_readme_lists_every_kata():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [kata for kata in KATAS if f"(katas/{kata}/README.md)" not in readme]
    assert not missing, f"README.md does not list {missing}"


def test_every_torch_kata_runs_its_checks_on_cuda_too():
    """Each torch kata parametrises tests over dojo.checks.DEVICES: a `gpu`-marked cuda case."""

    class Collected:
        def __init__(self) -> None:
            self.nodeids: list[str] = []

        def pytest_collection_finish(self, session):
            self.nodeids += [item.nodeid for item in session.items]

    collected = Collected()
    pytest.main(
        [
            str(ROOT / "katas"),
            "-m",
            "gpu",
            "--collect-only",
            "-q",
            "-p",
            "no:xdist",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
        ],
        plugins=[collected],
    )
    with_gpu = {nodeid.split("/")[1] for nodeid in collected.nodeids}
    torch_katas = {name for name, kata in load_catalog(ROOT).items() if kata.uses_torch}
    assert torch_katas and torch_katas <= with_gpu, f"no gpu tests: {torch_katas - with_gpu}"
