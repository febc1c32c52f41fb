"""Assertions for kata tests: one place, hidden from tracebacks so a learner sees their line."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch


def _as_tensor(x: Any) -> Any:
    if isinstance(x, np.ndarray | np.generic):
        return torch.as_tensor(np.asarray(x))
    return x


def assert_close(actual: Any, expected: Any, *, msg: str | None = None, **tolerances: Any) -> None:
    """torch.testing.assert_close that also takes numpy arrays (compared as tensors).

    Shape, dtype and device are checked, as in torch; `rtol` and `atol` pass through.
    """
    __tracebackhide__ = True
    torch.testing.assert_close(_as_tensor(actual), _as_tensor(expected), msg=msg, **tolerances)


def _cuda_param() -> Any:
    return pytest.param(
        "cuda",
        marks=[
            pytest.mark.gpu,
            pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
        ],
        id="cuda",
    )


# `@pytest.mark.parametrize("device", DEVICES)`: one test body on the CPU and, marked `gpu`, CUDA
DEVICES = ["cpu", _cuda_param()]
