"""The GPU-marked suite: every torch kata's checks on CUDA, and the references' parity.

    python -m dojo.gpu [--require-gpu] [NAME ...] [pytest options]

With a CUDA device it runs the `gpu`-marked kata tests (report: .katas/report-gpu.json) and
then, where the checkout has them, the parity tests of the references (tests/test_bench.py).
Without one it prints a single line, "no CUDA device: N GPU tests skipped", and exits 0, or
1 with --require-gpu.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ".katas/report-gpu.json"


def _pytest(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, check=False, **kwargs)


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def count_gpu_tests(names: list[str]) -> int:
    listed = _pytest(
        "katas",
        "-m",
        "gpu",
        "--collect-only",
        "-q",
        "--report=none",
        "-p",
        "no:cacheprovider",
        *[f"--kata={n}" for n in names],
        capture_output=True,
        text=True,
    )
    return sum("::" in line for line in listed.stdout.splitlines())


def main(argv: list[str] | None = None, cuda: bool | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    require = "--require-gpu" in args
    args = [a for a in args if a != "--require-gpu"]
    names = [a for a in args if not a.startswith("-")]
    options = [a for a in args if a.startswith("-")]
    if not (has_cuda() if cuda is None else cuda):
        message = f"no CUDA device: {count_gpu_tests(names)} GPU tests skipped"
        if require:
            print(f"{message} (--require-gpu)", file=sys.stderr)
            return 1
        print(message)
        return 0
    kata_names = [f"--kata={n}" for n in names]
    code = _pytest("katas", "-m", "gpu", "-q", f"--report={REPORT}", *kata_names, *options)
    status = 0 if code.returncode in (0, 5) else code.returncode
    parity = ROOT / "tests" / "test_bench.py"  # the template has no references and no tests/
    if parity.is_file():
        selected = ["-k", " or ".join(names)] if names else []
        done = _pytest(str(parity), "-m", "gpu", "-q", "-p", "no:cacheprovider", *selected)
        status = status or (0 if done.returncode in (0, 5) else done.returncode)
    return status


if __name__ == "__main__":
    sys.exit(main())
