"""The assertion kata tests use: strict about type, shape and dtype, tolerant as torch is."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dojo.checks import TensorAudit, assert_close, assert_draws_follow, tolerance


def test_equal_tensors_and_arrays_are_close():
    assert_close(torch.arange(3.0), torch.arange(3.0))
    assert_close(np.arange(3.0), np.arange(3.0))
    assert_close(torch.tensor([float("inf"), -1.0]), torch.tensor([float("inf"), -1.0]))


@pytest.mark.parametrize(
    ("actual", "expected", "says"),
    [
        (torch.ones(3), torch.ones(4), "shapes differ"),
        (torch.ones(3), torch.ones(3, dtype=torch.float64), "dtypes differ"),
        (torch.zeros(2), torch.full((2,), 1e-3), "not close"),
        (torch.tensor([float("nan")]), torch.tensor([float("nan")]), "not close"),
        (torch.tensor([float("inf")]), torch.tensor([-float("inf")]), "not close"),
        (torch.tensor([1, 2]), torch.tensor([1, 3]), "not close"),
    ],
    ids=["shape", "dtype", "values", "nan", "inf", "integers"],
)
def test_differences_are_reported(actual, expected, says):
    with pytest.raises(AssertionError, match=says):
        assert_close(actual, expected)


def test_tolerances_follow_the_dtype_and_can_be_given():
    assert_close(torch.tensor([1.0]), torch.tensor([1.0 + 1e-6]))
    with pytest.raises(AssertionError):
        assert_close(torch.tensor([1.0], dtype=torch.float64), torch.tensor([1.0 + 1e-6]).double())
    assert_close(torch.zeros(1), torch.full((1,), 0.1), atol=0.2, rtol=0)


def test_the_message_names_the_call():
    with pytest.raises(AssertionError, match=r"^f\(x\) was wrong: Tensors are not close"):
        assert_close(torch.zeros(1), torch.ones(1), msg=lambda m: f"f(x) was wrong: {m}")


def test_low_precision_tolerances_are_looser_than_float32():
    assert tolerance(torch.bfloat16)["rtol"] > tolerance(torch.float16)["rtol"]
    assert tolerance(torch.float16)["rtol"] > tolerance(torch.float32)["rtol"]


def test_draws_from_the_right_distribution_pass_and_biased_ones_fail():
    probs = torch.tensor([[0.5, 0.3, 0.2, 0.0]], dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    good = torch.multinomial(probs.float(), 20_000, replacement=True, generator=gen)
    assert_draws_follow(good, probs, "multinomial")
    biased = torch.multinomial(torch.tensor([[0.52, 0.3, 0.18, 0.0]]), 20_000, True, generator=gen)
    with pytest.raises(AssertionError, match="do not follow the expected distribution"):
        assert_draws_follow(biased, probs, "biased")
    impossible = good.clone()
    impossible[0, 0] = 3
    with pytest.raises(AssertionError, match="drew token 3, whose probability is 0"):
        assert_draws_follow(impossible, probs, "impossible")


def test_a_tensor_audit_records_what_decomposed_ops_produce():
    a, b = torch.ones(3, 4), torch.ones(4, 5)
    with TensorAudit() as audit:
        (a @ b).sum()
    shapes = [shape for _, shape in audit.produced]
    assert (3, 5) in shapes and () in shapes
    assert any("mm" in op for op, _ in audit.produced)
