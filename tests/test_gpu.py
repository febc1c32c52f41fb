"""`nox -s gpu` (dojo.gpu) without a CUDA device: one clear line, and --require-gpu fails.

That every torch kata has gpu-marked cases is proved in test_katas.py; what those cases do on
a GPU is proved by running `nox -s gpu -- --require-gpu` on one.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from tests.grading import ROOT

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def gpu_session(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dojo.gpu", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_cuda_the_gpu_suite_is_skipped_with_one_line():
    done = gpu_session("attention", "kv_cache")
    assert done.returncode == 0, done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("no CUDA device: "), lines
    count = int(lines[0].removeprefix("no CUDA device: ").split()[0])
    assert count > 10 and lines[0].endswith(f"{count} GPU tests skipped")


def test_require_gpu_turns_the_skip_into_a_failure():
    done = gpu_session("--require-gpu", "attention")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("no CUDA device") == 1 and "(--require-gpu)" in done.stderr
