"""A kata's benchmark: the `[bench]` table of its kata.toml, made ready to run.

    [bench]
    setup = '''
    x = randn(64, 128, 256)
    '''
    call = "layer_norm(x, (256,))"                       # timed, solution and reference
    builtin = "torch.nn.functional.layer_norm(x, (256,))"  # optional: the torch built-in
    check = "x"          # optional: what parity compares after one call (default: its result)
    parity = true        # optional: false for calls whose result is random draws

`setup` is Python, run once per implementation and device, with torch's and numpy's seeds
set to 0 first. In scope: the implementation's public names, `torch`, `np`, `math`,
`device` (a string), `rng` (numpy's default_rng(0)), and `randn(*shape)`, `rand(*shape)`,
`randint(high, *shape)`, which draw on the CPU from a seeded generator in torch's default
dtype (int64 for randint) and move the tensor to `device`, so that every device sees the
same numbers. Modules made in setup are made on the CPU: move them with `.to(device)`.

`python -m dojo.bench NAME` (`nox -s bench -- NAME`) times the call with your solution and
with the reference, and the built-in, on the CPU and on CUDA when present, and prints a table.
The parity test (tests/test_bench.py) runs the reference on two devices through `outcome`
and compares the two with `assert_same`.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dojo import cli, sandbox
from dojo.catalog import Kata, UnknownKata, check_names, load_catalog, tomllib
from dojo.errors import GradingError, SolutionMissing
from dojo.impl import Impl, ImplError, choose_impl
from dojo.loader import import_solution

if TYPE_CHECKING:
    import torch
    from rich.console import Console, RenderableType


@dataclass(frozen=True)
class BenchSpec:
    setup: str
    call: str
    builtin: str | None = None
    check: str | None = None
    parity: bool = True


def load_spec(kata: Kata) -> BenchSpec | None:
    meta = tomllib.loads((kata.folder / "kata.toml").read_text(encoding="utf-8"))
    table = meta.get("bench")
    if table is None:
        return None
    return BenchSpec(
        setup=table.get("setup", ""),
        call=table["call"],
        builtin=table.get("builtin"),
        check=table.get("check"),
        parity=bool(table.get("parity", True)),
    )


def namespace(module: ModuleType | None, device: str) -> dict:
    """The names a spec sees, with its data made (seeded) but its setup not yet run."""
    import numpy as np
    import torch

    torch.manual_seed(0)
    np.random.seed(0)
    cpu = torch.Generator().manual_seed(0)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=cpu).to(device)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=cpu).to(device)

    def randint(high: int, *shape: int) -> torch.Tensor:
        return torch.randint(high, shape, generator=cpu).to(device)

    names = {
        "torch": torch,
        "np": np,
        "math": math,
        "device": device,
        "rng": np.random.default_rng(0),
        "randn": randn,
        "rand": rand,
        "randint": randint,
    }
    if module is not None:
        public = getattr(module, "__all__", None) or [
            n for n in vars(module) if not n.startswith("_")
        ]
        names.update({n: getattr(module, n) for n in public})
    return names


def prepare(
    spec: BenchSpec, module: ModuleType | None, device: str, expression: str | None = None
) -> tuple[Callable[[], object], dict]:
    """Run spec's setup; return a function that evaluates `expression` (default: the call)
    and the namespace it runs in."""
    names = namespace(module, device)
    exec(compile(spec.setup, "<bench setup>", "exec"), names)
    code = compile(expression or spec.call, "<bench call>", "eval")
    return (lambda: eval(code, names)), names


# parity: the same spec on two devices must give the same numbers


@contextlib.contextmanager
def precision(dtype: torch.dtype) -> Iterator[None]:
    """torch's default dtype set to dtype and TF32 off (so float32 is float32 on CUDA too);
    all three as they were afterwards."""
    import torch

    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = torch.get_default_dtype(), matmul.allow_tf32, cudnn.allow_tf32
    torch.set_default_dtype(dtype)
    matmul.allow_tf32 = cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.set_default_dtype(saved[0])
        matmul.allow_tf32, cudnn.allow_tf32 = saved[1], saved[2]


def outcome(spec: BenchSpec, module: ModuleType | None, device: str, dtype: torch.dtype) -> Any:
    """What parity compares: setup and call on device in dtype, then `check` (evaluated in
    the same namespace, after the call) when the spec has one, else the call's result."""
    with precision(dtype):
        call, names = prepare(spec, module, device)
        result = call()
        if spec.check is not None:
            result = eval(compile(spec.check, "<bench check>", "eval"), names)
    return result


def assert_same(
    actual: Any, expected: Any, *, rtol: float, atol: float, where: str = "result"
) -> None:
    """Every tensor, array and number in two (possibly nested) results is close, tensors
    compared on the CPU; `where` names the part in the message (`result[1]['h']`)."""
    __tracebackhide__ = True
    import numpy as np
    import torch

    from dojo.checks import assert_close

    if type(actual) is not type(expected):
        raise AssertionError(
            f"{where}: a {type(actual).__name__} against a {type(expected).__name__}"
        )
    if isinstance(actual, torch.Tensor):
        actual, expected = actual.detach().cpu(), expected.detach().cpu()
        assert_close(actual, expected, rtol=rtol, atol=atol, msg=where)
    elif isinstance(actual, np.ndarray | np.generic):
        assert_close(actual, expected, rtol=rtol, atol=atol, msg=where)
    elif isinstance(actual, float | complex):
        dtype = torch.float64 if isinstance(actual, float) else torch.complex128
        assert_close(
            torch.tensor(actual, dtype=dtype),
            torch.tensor(expected, dtype=dtype),
            rtol=rtol,
            atol=atol,
            msg=where,
        )
    elif actual is None or isinstance(actual, bool | int | str | bytes):
        if actual != expected:
            raise AssertionError(f"{where}: {actual!r} against {expected!r}")
    elif isinstance(actual, list | tuple):
        if len(actual) != len(expected):
            raise AssertionError(f"{where}: {len(actual)} items against {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, rtol=rtol, atol=atol, where=f"{where}[{i}]")
    elif isinstance(actual, dict):
        if list(actual) != list(expected):
            raise AssertionError(f"{where}: keys {list(actual)} against {list(expected)}")
        for key in actual:
            assert_same(actual[key], expected[key], rtol=rtol, atol=atol, where=f"{where}[{key!r}]")
    elif dataclasses.is_dataclass(actual):
        for field in dataclasses.fields(actual):
            a, e = getattr(actual, field.name), getattr(expected, field.name)
            assert_same(a, e, rtol=rtol, atol=atol, where=f"{where}.{field.name}")
    elif isinstance(actual, torch.nn.Module):
        a, e = actual.state_dict(), expected.state_dict()
        assert_same(a, e, rtol=rtol, atol=atol, where=f"{where}.state_dict()")
    else:
        raise TypeError(
            f"{where}: cannot compare a {type(actual).__name__}; give the [bench] table a "
            "`check` that returns tensors, arrays or numbers"
        )


# timing: `nox -s bench -- NAME`

ROOT = Path(__file__).resolve().parents[1]
YOURS = "your solution"
REFERENCE = "reference"

# (expression, namespace) -> median seconds of one evaluation
Measure = Callable[[str, dict], float]


class BenchError(ValueError):
    """Input that cannot be benched: one line for the user."""


@dataclass(frozen=True)
class Options:
    kata: Kata
    spec: BenchSpec
    impl: Impl
    min_time: float = 0.5
    threads: int = 1


@dataclass(frozen=True)
class Contender:
    """One row's implementation: the module whose names the setup sees, and what is timed."""

    label: str
    module: ModuleType | None
    expression: str
    problem: str | None = None  # why it cannot run at all (not started, broken)


@dataclass(frozen=True)
class Row:
    impl: str
    device: str
    seconds: float | None = None  # the median of one call; None when it did not run
    note: str = ""


def timer(min_time: float, threads: int = 1) -> Measure:
    """torch.utils.benchmark's measurement: blocks of calls for at least min_time seconds
    (after a warm-up), the median per call; CUDA is synchronised around each block."""

    def measure(expression: str, names: dict) -> float:
        from torch.utils.benchmark import Timer

        timer = Timer(stmt=expression, globals=names, num_threads=threads)
        return timer.blocked_autorange(min_run_time=min_time).median

    return measure


def builtin_label(expression: str) -> str:
    """'torch built-in', or 'numpy built-in' for a spec whose built-in uses numpy alone."""
    names = {n.id for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Name)}
    return "numpy built-in" if "np" in names and "torch" not in names else "torch built-in"


def devices(kata: Kata, cuda_available: bool) -> list[str]:
    """The CPU always; CUDA too when present and the kata is written in torch."""
    return ["cpu", "cuda"] if cuda_available and kata.uses_torch else ["cpu"]


def _import(kata: Kata, impl: Impl) -> tuple[ModuleType | None, str | None]:
    try:
        return import_solution(kata, impl), None
    except SolutionMissing:
        return None, "not started"
    except GradingError as exc:
        return None, str(exc)


def contenders(root: Path, kata: Kata, spec: BenchSpec, impl: Impl) -> list[Contender]:
    """The rows to time: the solution in impl, the reference (when the checkout has
    references/) and the built-in (when the spec names one), in that order."""
    label = YOURS if impl.label == "stubs" else impl.label
    mine, problem = _import(kata, impl)
    rows = [Contender(label, mine, spec.call, problem)]
    reference = None
    if (root / "references").is_dir():
        reference, problem = _import(kata, Impl("references", root / "references"))
        rows.append(Contender(REFERENCE, reference, spec.call, problem))
    if spec.builtin is not None:
        # the setup may build the kata's own objects (a module to compare with torch's)
        names_from = reference if reference is not None else mine
        rows.append(Contender(builtin_label(spec.builtin), names_from, spec.builtin))
    return rows


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return line if len(line) <= 100 else line[:97] + "..."


def time_row(spec: BenchSpec, contender: Contender, device: str, measure: Measure) -> Row:
    """Run the setup, call once (a warm-up, and where a stub shows it is one), then measure.
    Whatever the code does to torch's global state is put back afterwards."""
    if contender.problem is not None:
        return Row(contender.label, device, note=contender.problem)
    before = sandbox.snapshot()
    try:
        call, names = prepare(spec, contender.module, device, contender.expression)
        call()
        return Row(contender.label, device, measure(contender.expression, names))
    except NotImplementedError:
        if contender.expression == spec.call:
            return Row(contender.label, device, note="not implemented")
        return Row(contender.label, device, note="its setup needs your solution: not written yet")
    except Exception as exc:
        return Row(contender.label, device, note=_first_line(exc))
    except SystemExit as exc:
        return Row(contender.label, device, note=f"called sys.exit({exc.code!r})")
    finally:
        sandbox.restore(before)


def bench(
    root: Path,
    options: Options,
    on: list[str],
    measure: Measure,
    progress: Callable[[str], object] | None = None,
) -> list[Row]:
    """Every contender on every device in `on`, device by device: the rows of the table."""
    rows = []
    everyone = contenders(root, options.kata, options.spec, options.impl)
    for device in on:
        for contender in everyone:
            if progress is not None:
                progress(f"timing {contender.label} on {device}")
            rows.append(time_row(options.spec, contender, device, measure))
    return rows


def baseline(rows: list[Row]) -> str | None:
    """What the ratios compare with: the reference, else the built-in, else nothing."""
    labels = [r.impl for r in rows]
    if REFERENCE in labels:
        return REFERENCE
    return next((label for label in labels if label.endswith("built-in")), None)


def ratios(rows: list[Row], base: str | None) -> list[float | None]:
    """Each row's time over the baseline's on the same device (above 1: slower)."""
    base_seconds = {r.device: r.seconds for r in rows if r.impl == base}
    out = []
    for r in rows:
        denominator = base_seconds.get(r.device)
        out.append(r.seconds / denominator if r.seconds and denominator else None)
    return out


def duration(seconds: float) -> str:
    """Three significant figures in the unit that fits: 412 µs, 3.07 ms, 1.25 s."""
    for unit, scale in (("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3)):
        if round(seconds / scale, 1) < 999.5:
            return f"{seconds / scale:#.3g} {unit}".replace(". ", " ")
    return f"{seconds:#.3g} s".replace(". ", " ")


def table(rows: list[Row], options: Options, cuda_available: bool) -> list[RenderableType]:
    """The table, and the lines that say where the sizes come from and how it was timed."""
    from rich.table import Table
    from rich.text import Text

    kata = options.kata
    base = baseline(rows)
    grid = Table(title=f"bench: {kata.name}", title_justify="left")
    grid.add_column("implementation")
    grid.add_column("device")
    grid.add_column("median", justify="right")
    grid.add_column(f"vs {base}" if base else "ratio", justify="right")
    notes = any(r.note for r in rows)
    if notes:
        grid.add_column("note", overflow="fold")
    for r, ratio in zip(rows, ratios(rows, base), strict=True):
        cells = [
            Text(r.impl),
            r.device,
            duration(r.seconds) if r.seconds is not None else "-",
            f"{ratio:.2f}×" if ratio is not None else "-",
        ]
        grid.add_row(*cells, *([Text(r.note, style="dim")] if notes else []))
    threads = f"{options.threads} thread" + ("s" if options.threads > 1 else "")
    if not kata.uses_torch:
        where = "CPU only, not a torch kata"
    elif cuda_available:
        where = f"CPU on {threads}, and CUDA"
    else:
        where = f"CPU on {threads}, no CUDA device"
    medians = f"Medians over {options.min_time:g} s of runs or more"
    lines = [
        f"Timed: {options.spec.call}",
        f"Sizes from katas/{kata.name}/kata.toml [bench]; {where}.",
        f"{medians}; a ratio over 1 is slower than the {base}." if base else f"{medians}.",
    ]
    return [grid, *(Text(line) for line in lines)]


# the command line


def parse_args(argv: list[str], root: Path, invocation_dir: Path) -> Options:
    parser = cli.Parser(
        "bench",
        description="Time your solution, the reference and the torch built-in on one kata.",
    )
    parser.add_argument("kata", metavar="NAME", help="the kata to bench")
    parser.add_argument(
        "--min-time",
        type=cli.positive(float, "seconds"),
        default=0.5,
        metavar="S",
        help="seconds of runs per row, at least (default 0.5)",
    )
    parser.add_argument(
        "--impl",
        default="stubs",
        metavar="PATH",
        help="bench this solutions folder instead of your files in katas/",
    )
    parser.add_argument(
        "--threads",
        type=cli.positive(int),
        default=1,
        metavar="N",
        help="CPU threads for torch while timing (default 1, as when grading)",
    )
    args = parser.parse_args(argv)
    catalog = load_catalog(root)
    try:
        check_names([args.kata], catalog)
        impl = choose_impl(args.impl, root, invocation_dir)
    except (UnknownKata, ImplError) as exc:
        raise BenchError(str(exc)) from None
    kata = catalog[args.kata]
    try:
        spec = load_spec(kata)
    except KeyError as exc:
        raise BenchError(f"katas/{kata.name}/kata.toml: [bench] has no {exc}") from None
    if spec is None:
        raise BenchError(
            f"{kata.name} has no [bench] table in katas/{kata.name}/kata.toml yet: "
            "there is nothing to time"
        )
    return Options(kata, spec, impl, args.min_time, args.threads)


def main(
    argv: list[str] | None = None,
    root: Path = ROOT,
    console: Console | None = None,
    measure: Measure | None = None,
    cuda_available: bool | None = None,
) -> int:
    """`python -m dojo.bench NAME [--min-time S] [--impl PATH] [--threads N]`."""
    from rich.console import Console

    console = console or Console(highlight=False)
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv, root, Path.cwd())
        if cuda_available is None:
            import torch

            cuda_available = torch.cuda.is_available()
        measure = measure or timer(options.min_time, options.threads)
        with console.status("timing") as status:
            rows = bench(
                root,
                options,
                devices(options.kata, cuda_available),
                measure,
                progress=lambda text: status.update(text),
            )
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # the command line was wrong (and said so) or asked for --help
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    for part in table(rows, options, cuda_available):
        console.print(part)
    return 0


if __name__ == "__main__":
    sys.exit(main())
