"""`nox -s bench`: every kata has a [bench] table that runs, the reference gives the same
numbers on every device, and the table is built right (timed here with a fake timer)."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console

from dojo import bench
from dojo.catalog import load_catalog
from dojo.checks import DEVICES, tolerance
from dojo.impl import Impl
from dojo.loader import import_solution
from tests.grading import KATAS, ROOT

CATALOG = load_catalog(ROOT)
TORCH_KATAS = [name for name in KATAS if CATALOG[name].uses_torch]


@functools.cache
def reference(name: str):
    return import_solution(CATALOG[name], Impl("references", ROOT / "references"))


def spec_of(name: str) -> bench.BenchSpec:
    spec = bench.load_spec(CATALOG[name])
    assert spec is not None, f"katas/{name}/kata.toml has no [bench] table"
    return spec


# random draws differ between devices by design: such a spec sets parity = false
PARITY_KATAS = [name for name in TORCH_KATAS if bench.load_spec(CATALOG[name]).parity]


# the catalog's specs


@pytest.mark.parametrize("kata", KATAS)
def test_every_kata_has_a_bench_table(kata):
    assert bench.load_spec(CATALOG[kata]) is not None, (
        f"katas/{kata}/kata.toml has no [bench] table: `nox -s bench -- {kata}` cannot run "
        "(the format is in dojo/bench.py)"
    )


@pytest.mark.parametrize("kata", KATAS)
def test_every_bench_spec_runs_once_with_the_reference_on_the_cpu(kata):
    spec = spec_of(kata)
    call, names = bench.prepare(spec, reference(kata), "cpu")
    result = call()
    if spec.check is not None:
        result = eval(spec.check, names)
    assert result is not None, f"{kata}: `{spec.check or spec.call}` gave None"
    if spec.builtin is not None:  # it runs (an optimizer's step returns None)
        builtin, _ = bench.prepare(spec, reference(kata), "cpu", spec.builtin)
        builtin()


# float32 on two devices differs by summation order, compounded through a few layers
PARITY = {
    torch.float64: {"rtol": 1e-7, "atol": 1e-9},
    torch.float32: {key: 10 * value for key, value in tolerance(torch.float32).items()},
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", list(PARITY), ids=["float64", "float32"])
@pytest.mark.parametrize("kata", PARITY_KATAS)
def test_the_reference_gives_the_same_numbers_on_the_device_as_on_the_cpu(kata, dtype, device):
    """The spec's call (or its `check`) on `device` agrees with the CPU, in float64 and in
    float32 with TF32 off. On "cpu" this proves the comparison itself; the "cuda" cases run
    in `nox -s gpu`. Random draws differ between devices by design: samplers compare their
    deterministic part (`check`: the filtered logits), other random katas (dropout) set
    parity = false, and their own kata tests check their distributions on CUDA."""
    spec = spec_of(kata)
    expected = bench.outcome(spec, reference(kata), "cpu", dtype)
    actual = bench.outcome(spec, reference(kata), device, dtype)
    bench.assert_same(actual, expected, where=spec.check or spec.call, **PARITY[dtype])


# the parity helpers


def test_an_outcome_runs_in_the_dtype_asked_and_puts_the_defaults_back():
    spec = bench.BenchSpec(setup="x = randn(3)", call="x * 2", check="(x.dtype, {'y': [x]})")
    dtype, tf32 = torch.get_default_dtype(), torch.backends.cuda.matmul.allow_tf32
    seen, parts = bench.outcome(spec, None, "cpu", torch.float64)
    assert seen == torch.float64 and parts["y"][0].dtype == torch.float64
    assert torch.get_default_dtype() == dtype
    assert torch.backends.cuda.matmul.allow_tf32 == tf32


def test_precision_puts_the_defaults_back_after_an_error():
    dtype, tf32 = torch.get_default_dtype(), torch.backends.cudnn.allow_tf32
    with pytest.raises(ZeroDivisionError), bench.precision(torch.float64):
        assert not torch.backends.cudnn.allow_tf32
        1 / 0  # noqa: B018
    assert (torch.get_default_dtype(), torch.backends.cudnn.allow_tf32) == (dtype, tf32)


def test_nested_results_agree_when_every_part_is_close():
    base = {"out": (torch.ones(2), [1.0, 3]), "n": np.arange(3), "s": "ok", "none": None}
    near = {"out": (torch.ones(2) + 1e-9, [1.0 + 1e-9, 3]), "n": np.arange(3), "s": "ok"}
    bench.assert_same({**near, "none": None}, base, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize(
    ("actual", "expected", "says"),
    [
        ({"h": [torch.ones(2), torch.ones(2)]}, {"h": [torch.ones(2), torch.zeros(2)]}, "['h'][1]"),
        ((1.0, 2.0), (1.0, 2.5), "result[1]"),
        ([torch.ones(2)], [torch.ones(2), torch.ones(2)], "1 items against 2"),
        ({"a": 1}, {"b": 1}, "keys ['a'] against ['b']"),
        (torch.ones(2), np.ones(2), "a Tensor against a ndarray"),
        ((3,), (4,), "3 against 4"),
    ],
    ids=["a tensor deep inside", "a float", "a length", "dict keys", "types", "an int"],
)
def test_a_difference_anywhere_fails_and_names_the_part(actual, expected, says):
    with pytest.raises(AssertionError) as caught:
        bench.assert_same(actual, expected, rtol=1e-7, atol=1e-7)
    assert says in str(caught.value)


def test_a_result_that_cannot_be_compared_asks_for_a_check():
    with pytest.raises(TypeError, match="`check`"):
        bench.assert_same(object(), object(), rtol=0, atol=0)


# the table, timed with a fake timer

TOML = """difficulty = "E"
minutes = 5
tags = ["torch"]
"""
BENCH = """
[bench]
setup = "x = randn(4, 3)"
call = "double(x)"
builtin = "torch.mul(x, 2)"
"""
STUB = "import torch\n\n\ndef double(x: torch.Tensor):\n    raise NotImplementedError\n"


def written(who: str, body: str = "return x * 2") -> str:
    return f"import torch\n\nWHO = {who!r}\n\n\ndef double(x):\n    {body}\n"


TIMES = {
    ("yours", "double(x)"): 6e-3,
    ("reference", "double(x)"): 2e-3,
    ("reference", "torch.mul(x, 2)"): 1e-3,
    ("yours", "torch.mul(x, 2)"): 1e-3,
}


def fake_timer(expression: str, names: dict) -> float:
    """Seconds by who wrote the module (its WHO) and what is timed; the setup has run."""
    assert names["x"].shape == (4, 3)
    return TIMES[names["WHO"], expression]


def make_repo(
    root: Path, solution: str | None = STUB, reference: str | None = None, bench_table=BENCH
) -> Path:
    kata = root / "katas" / "double"
    kata.mkdir(parents=True)
    (kata / "kata.toml").write_text(TOML + bench_table)
    (kata / "double.py").write_text(STUB)
    if solution is not None:
        (kata / "double.py").write_text(solution)
    if reference is not None:
        (root / "references").mkdir()
        (root / "references" / "double.py").write_text(reference)
    return root


def options(root: Path, impl: str = "stubs") -> bench.Options:
    return bench.parse_args(["double", "--impl", impl], root, root)


def run(root: Path, impl: str = "stubs") -> list[bench.Row]:
    return bench.bench(root, options(root, impl), ["cpu"], fake_timer)


def test_a_stub_is_not_implemented_and_the_reference_and_built_in_are_timed(tmp_path):
    root = make_repo(tmp_path, reference=written("reference"))
    assert run(root) == [
        bench.Row("your solution", "cpu", None, "not implemented"),
        bench.Row("reference", "cpu", 2e-3),
        bench.Row("torch built-in", "cpu", 1e-3),
    ]


def test_a_written_solution_is_timed_beside_the_others(tmp_path):
    root = make_repo(tmp_path, written("yours"), written("reference"))
    assert [(r.impl, r.seconds) for r in run(root)] == [
        ("your solution", 6e-3),
        ("reference", 2e-3),
        ("torch built-in", 1e-3),
    ]


def test_without_references_the_built_in_sees_the_solution_s_names(tmp_path):
    root = make_repo(tmp_path, written("yours"))
    rows = run(root)
    assert [r.impl for r in rows] == ["your solution", "torch built-in"]
    assert bench.baseline(rows) == "torch built-in"


def test_a_spec_without_a_built_in_has_no_built_in_row(tmp_path):
    no_builtin = BENCH.replace("builtin", "# builtin")
    root = make_repo(tmp_path, reference=written("reference"), bench_table=no_builtin)
    assert [r.impl for r in run(root)] == ["your solution", "reference"]


@pytest.mark.parametrize(
    ("solution", "note"),
    [
        (None, "not started"),
        ("def double(x)\n", "SyntaxError"),
        (written("yours", "raise ValueError('no')"), "ValueError: no"),
        (written("yours", "raise SystemExit(3)"), "called sys.exit(3)"),
    ],
    ids=["missing", "syntax error", "raises", "exits"],
)
def test_a_solution_that_cannot_run_is_a_row_with_the_reason(tmp_path, solution, note):
    root = make_repo(tmp_path, reference=written("reference"))
    if solution is None:  # a solutions folder without the kata
        (root / "mine").mkdir()
        rows = run(root, str(root / "mine"))
    else:
        (root / "katas" / "double" / "double.py").write_text(solution)
        rows = run(root)
    assert rows[0].seconds is None and note in rows[0].note
    assert rows[1] == bench.Row("reference", "cpu", 2e-3)


def test_global_torch_state_a_solution_changes_is_put_back(tmp_path):
    body = "torch.set_default_dtype(torch.float64); return x * 2"
    root = make_repo(tmp_path, written("yours", body), written("reference"))
    run(root)
    assert torch.get_default_dtype() == torch.float32


def test_cuda_is_benched_when_present_and_the_kata_is_written_in_torch(tmp_path):
    kata = load_catalog(make_repo(tmp_path))["double"]
    assert bench.devices(kata, cuda_available=True) == ["cpu", "cuda"]
    assert bench.devices(kata, cuda_available=False) == ["cpu"]
    (kata.folder / "double.py").write_text("import numpy as np\n")
    assert bench.devices(kata, cuda_available=True) == ["cpu"]


def test_ratios_compare_each_row_with_the_baseline_on_the_same_device():
    rows = [
        bench.Row("your solution", "cpu", 6.0),
        bench.Row("reference", "cpu", 2.0),
        bench.Row("your solution", "cuda", None, "not implemented"),
        bench.Row("reference", "cuda", 0.5),
        bench.Row("torch built-in", "cuda", 0.25),
    ]
    assert bench.baseline(rows) == "reference"
    assert bench.ratios(rows, "reference") == [3.0, 1.0, None, 1.0, 0.5]
    assert bench.ratios(rows, None) == [None] * 5


def test_a_built_in_that_uses_numpy_alone_is_called_a_numpy_built_in():
    assert bench.builtin_label("np.sort(x)") == "numpy built-in"
    assert bench.builtin_label("torch.sort(torch.from_numpy(x))") == "torch built-in"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4.123e-7, "412 ns"), (3.0712e-3, "3.07 ms"), (0.9997e-3, "1.00 ms"), (12.5, "12.5 s")],
)
def test_durations_read_in_the_unit_that_fits(seconds, text):
    assert bench.duration(seconds) == text


def test_the_table_shows_times_ratios_and_where_the_sizes_come_from(tmp_path):
    root = make_repo(tmp_path, written("yours"), written("reference"))
    out = io.StringIO()
    console = Console(file=out, width=160)
    code = bench.main(["double"], root, console, fake_timer, cuda_available=False)
    text = out.getvalue()
    assert code == 0
    assert "vs reference" in text and "6.00 ms" in text and "3.00×" in text and "0.50×" in text
    assert "Timed: double(x)\nSizes from katas/double/kata.toml [bench]" in text
    assert "CPU on 1 thread, no CUDA device" in text


def test_another_solutions_folder_is_benched_under_its_own_name(tmp_path):
    root = make_repo(tmp_path, reference=written("reference"))
    (root / "mine").mkdir()
    (root / "mine" / "double.py").write_text(written("yours"))
    rows = run(root, str(root / "mine"))
    assert rows[0] == bench.Row(str(root / "mine"), "cpu", 6e-3)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["doubel"], "unknown kata 'doubel'. Did you mean: double?"),
        ([], "the following arguments are required: NAME"),
        (["double", "--min-time", "0"], "give a number above 0"),
        (["double", "--threads", "two"], "'two' is not a number"),
        (["double", "--impl", "nowhere"], "--impl=nowhere: no such folder"),
        (["plain"], "plain has no [bench] table in katas/plain/kata.toml yet"),
    ],
    ids=["unknown kata", "no kata", "zero time", "bad threads", "no such folder", "no table"],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys, argv, says):
    root = make_repo(tmp_path)
    (root / "katas" / "plain").mkdir()
    (root / "katas" / "plain" / "kata.toml").write_text(TOML)
    console = Console(file=io.StringIO())
    assert bench.main(argv, root, console, fake_timer, cuda_available=False) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench: ") and err.count("\n") == 1 and says in err
