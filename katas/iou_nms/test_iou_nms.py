"""Tests for the iou_nms kata: IoU values, edge cases, greedy suppression, dtypes, devices.

The oracles are written out below with plain Python loops over floats (IoU) and over
boxes (greedy NMS); every draw is seeded.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo.checks import DEVICES, assert_close, tolerance

# ---------------------------------------------------------------------------- oracles


def iou_of(a: list[float], b: list[float]) -> float:
    """IoU of two xyxy boxes, by hand, continuous coordinates."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area_a + area_b - inter)


def expected_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """(N, M) float64 IoUs from two loops."""
    b1, b2 = boxes1.double().tolist(), boxes2.double().tolist()
    rows = [[iou_of(a, b) for b in b2] for a in b1]
    return torch.tensor(rows, dtype=torch.float64).reshape(len(b1), len(b2))


def expected_nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> list[int]:
    """Greedy NMS by hand: visit by decreasing score (ties: lower index), keep a box
    unless a kept box overlaps it with IoU > threshold."""
    b, s = boxes.double().tolist(), scores.double().tolist()
    order = sorted(range(len(b)), key=lambda i: (-s[i], i))
    keep: list[int] = []
    for i in order:
        if all(iou_of(b[i], b[k]) <= threshold for k in keep):
            keep.append(i)
    return keep


def random_boxes(seed: int, n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """n boxes in a 10 x 10 field, sides between 1 and 5: many overlaps, some disjoint."""
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 7
    wh = 1 + torch.rand(n, 2, generator=gen, dtype=torch.float64) * 4
    return torch.cat([xy, xy + wh], dim=1).to(dtype)


def random_scores(seed: int, n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, generator=gen, dtype=torch.float64).to(dtype)


def check_iou(solution, boxes1, boxes2, **tol):
    __tracebackhide__ = True
    call = f"box_iou({tuple(boxes1.shape)} {boxes1.dtype}, {tuple(boxes2.shape)} {boxes2.dtype})"
    got = solution.box_iou(boxes1, boxes2)
    want = expected_iou(boxes1, boxes2).to(boxes1.dtype)
    assert_close(got.cpu(), want, msg=lambda m: f"{call}: IoUs differ from two loops\n{m}", **tol)
    assert got.device == boxes1.device, f"{call} on {boxes1.device} returned {got.device}"


def check_nms(solution, boxes, scores, threshold):
    __tracebackhide__ = True
    call = f"nms({len(boxes)} boxes, scores, iou_threshold={threshold})"
    got = solution.nms(boxes, scores, threshold)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.int64, (
        f"{call} returned {type(got).__name__} {getattr(got, 'dtype', '')}; expected int64 tensor"
    )
    assert got.device == boxes.device, f"{call} on {boxes.device} returned {got.device}"
    want = expected_nms(boxes.cpu(), scores.cpu(), threshold)
    assert got.tolist() == want, f"{call} kept {got.tolist()}; greedy NMS keeps {want}"


# ---------------------------------------------------------------------------- the README

README_BOXES = [[0.0, 0, 4, 4], [1, 1, 5, 5], [4, 0, 6, 4], [0, 0, 2, 2]]


def test_the_readme_worked_example_gives_the_numbers_it_shows(solution):
    boxes = torch.tensor(README_BOXES)
    iou = solution.box_iou(boxes, boxes)
    want = torch.tensor(
        [
            [1.0, 0.3913, 0.0, 0.25],
            [0.3913, 1.0, 0.1429, 0.0526],
            [0.0, 0.1429, 1.0, 0.0],
            [0.25, 0.0526, 0.0, 1.0],
        ]
    )
    assert_close(iou, want, rtol=0, atol=5e-5, msg=lambda m: f"README box_iou(boxes, boxes)\n{m}")
    scores = torch.tensor([0.6, 0.9, 0.7, 0.8])
    kept = solution.nms(boxes, scores, 0.3)
    assert kept.tolist() == [1, 3, 2], f"README nms(boxes, scores, 0.3) gave {kept.tolist()}"
    kept = solution.nms(boxes, scores, 0.5)
    assert kept.tolist() == [1, 3, 2, 0], f"README nms(boxes, scores, 0.5) gave {kept.tolist()}"


# ---------------------------------------------------------------------------- box_iou


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_box_iou_matches_two_loops(solution, device, dtype):
    boxes1 = random_boxes(1, 9, dtype).to(device)
    boxes2 = random_boxes(2, 7, dtype).to(device)
    check_iou(solution, boxes1, boxes2, **tolerance(dtype))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_box_iou_in_half_precision_keeps_the_dtype_and_is_close(solution, dtype):
    boxes1, boxes2 = random_boxes(3, 8, dtype), random_boxes(4, 6, dtype)
    check_iou(solution, boxes1, boxes2, **tolerance(dtype))


@pytest.mark.parametrize(("n", "m"), [(0, 3), (3, 0), (0, 0)], ids=["N=0", "M=0", "both"])
def test_box_iou_of_no_boxes_is_empty_with_the_right_shape(solution, n, m):
    got = solution.box_iou(random_boxes(5, n), random_boxes(6, m))
    assert_close(got, torch.zeros(n, m, dtype=torch.float64), msg=f"box_iou with N={n}, M={m}")


def test_identical_boxes_have_iou_one(solution):
    boxes = random_boxes(7, 5)
    got = solution.box_iou(boxes, boxes).diagonal()
    assert_close(got, torch.ones(5, dtype=torch.float64), msg="box_iou(b, b) diagonal")


@pytest.mark.parametrize(
    "other",
    [[2.0, 0, 4, 2], [0, 2, 2, 4], [2, 2, 4, 4], [-2, -2, 0, 0], [-2, 0, 0, 2]],
    ids=["right-edge", "top-edge", "corner", "opposite-corner", "left-edge"],
)
def test_touching_boxes_have_iou_zero(solution, other):
    box = torch.tensor([[0.0, 0, 2, 2]])
    got = solution.box_iou(box, torch.tensor([other]))
    assert got.item() == 0, f"box_iou([0, 0, 2, 2], {other}) = {got.item()}; touching is 0"


@pytest.mark.parametrize(
    "other",
    [[3.0, 3, 5, 5], [-5, -5, -3, -3], [3, -4, 5, -2], [5, 0, 6, 2], [0, 5, 2, 9]],
    ids=["up-right", "down-left", "down-right", "beside", "above"],
)
def test_disjoint_boxes_have_iou_zero(solution, other):
    box = torch.tensor([[0.0, 0, 2, 2]])
    got = solution.box_iou(box, torch.tensor([other]))
    assert got.item() == 0, f"box_iou([0, 0, 2, 2], {other}) = {got.item()}; disjoint is 0"


def test_a_box_inside_another_has_the_ratio_of_their_areas(solution):
    outer = torch.tensor([[0.0, 0, 10, 10]])
    inner = torch.tensor([[2.0, 3, 7, 5], [0, 0, 10, 5], [4, 4, 5, 5]])
    got = solution.box_iou(outer, inner)
    want = torch.tensor([[0.1, 0.5, 0.01]])
    assert_close(got, want, msg=lambda m: f"box_iou(outer, boxes inside it)\n{m}")
    assert_close(solution.box_iou(inner, outer), want.T, msg="box_iou(inside, outer)")


@settings(max_examples=30)
@given(
    n=st.integers(1, 6),
    m=st.integers(1, 6),
    scale=st.sampled_from([0.01, 1.0, 300.0]),
    seed=st.integers(0, 2**16),
)
def test_drawn_boxes_of_any_scale_match_two_loops(solution, n, m, scale, seed):
    check_iou(solution, random_boxes(seed, n) * scale, random_boxes(seed + 1, m) * scale)


def test_box_iou_gradients_pass_gradcheck(solution):
    boxes1 = random_boxes(8, 4).requires_grad_()
    boxes2 = random_boxes(9, 3).requires_grad_()
    assert torch.autograd.gradcheck(solution.box_iou, (boxes1, boxes2), fast_mode=True), (
        "gradcheck failed for box_iou(4 boxes, 3 boxes) in float64"
    )


# ---------------------------------------------------------------------------- nms


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.3, 0.5, 0.7, 1.0])
def test_nms_matches_greedy_loops(solution, device, threshold):
    boxes = random_boxes(10, 40).to(device)
    scores = random_scores(11, 40).to(device)
    check_nms(solution, boxes, scores, threshold)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["float32", "float16"])
def test_nms_works_in_lower_precision(solution, dtype):
    boxes = random_boxes(12, 30).round().to(dtype)  # integer corners: no IoU within 1e-3 of 0.43
    boxes[:, 2:] = torch.maximum(boxes[:, 2:], boxes[:, :2] + 1)
    check_nms(solution, boxes, random_scores(13, 30, dtype), 0.43)


def test_nms_of_no_boxes_is_an_empty_int64_tensor(solution):
    got = solution.nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.int64 and got.shape == (0,), (
        f"nms of no boxes returned {got!r}; expected an empty int64 tensor"
    )


def test_nms_returns_the_kept_boxes_by_decreasing_score(solution):
    boxes = torch.tensor([[0.0, 0, 1, 1], [2, 0, 3, 1], [4, 0, 5, 1], [6, 0, 7, 1]])
    scores = torch.tensor([0.2, 0.9, 0.5, 0.7])
    got = solution.nms(boxes, scores, 0.5)
    assert got.tolist() == [1, 3, 2, 0], (
        f"nms of four disjoint boxes with scores {scores.tolist()} gave {got.tolist()}; "
        "expected all of them by decreasing score, [1, 3, 2, 0]"
    )


def test_of_two_identical_boxes_the_higher_score_is_kept(solution):
    boxes = torch.tensor([[1.0, 1, 3, 3], [1, 1, 3, 3]])
    got = solution.nms(boxes, torch.tensor([0.3, 0.8]), 0.5)
    assert got.tolist() == [1], f"nms(two identical boxes, scores [0.3, 0.8]) gave {got.tolist()}"


def test_of_identical_boxes_with_equal_scores_the_lower_index_is_kept(solution):
    boxes = torch.tensor([[0.0, 0, 1, 1], [1, 1, 3, 3], [1, 1, 3, 3], [1, 1, 3, 3]])
    got = solution.nms(boxes, torch.tensor([0.9, 0.5, 0.5, 0.5]), 0.5)
    assert got.tolist() == [0, 1], (
        f"nms(three identical boxes all scored 0.5) gave {got.tolist()}; ties go to the "
        "lower index, so expected [0, 1]"
    )


def test_an_iou_equal_to_the_threshold_does_not_suppress(solution):
    boxes = torch.tensor([[0.0, 0, 3, 1], [1, 0, 4, 1]])  # IoU exactly 2 / 4 = 0.5
    scores = torch.tensor([0.9, 0.8])
    got = solution.nms(boxes, scores, 0.5)
    assert got.tolist() == [0, 1], f"IoU 0.5, nms(..., iou_threshold=0.5) gave {got.tolist()}"
    got = solution.nms(boxes, scores, 0.49)
    assert got.tolist() == [0], f"IoU 0.5, nms(..., iou_threshold=0.49) gave {got.tolist()}"


def test_threshold_one_keeps_everything_and_zero_keeps_only_non_overlapping(solution):
    boxes = torch.tensor([[0.0, 0, 2, 2], [0, 0, 2, 2], [1, 1, 3, 3], [2, 0, 4, 2]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    got = solution.nms(boxes, scores, 1.0)
    assert got.tolist() == [0, 1, 2, 3], f"nms(..., iou_threshold=1.0) gave {got.tolist()}"
    got = solution.nms(boxes, scores, 0.0)
    assert got.tolist() == [0, 3], (
        f"nms(..., iou_threshold=0.0) gave {got.tolist()}; the touching box 3 has IoU 0 "
        "and stays, expected [0, 3]"
    )


def test_a_suppressed_box_suppresses_nothing(solution):
    # B overlaps A a lot and goes; C overlaps B a lot but A not at all, so C stays
    boxes = torch.tensor([[0.0, 0, 4, 2], [1, 0, 5, 2], [4, 0, 6, 2]])  # IoU(A,B)=0.6, (B,C)=0.2
    scores = torch.tensor([0.9, 0.8, 0.7])
    got = solution.nms(boxes, scores, 0.1)
    assert got.tolist() == [0, 2], (
        f"nms(A, B, C) gave {got.tolist()}; B is removed by A, and a removed box must not "
        "remove C, expected [0, 2]"
    )


@settings(max_examples=30)
@given(n=st.integers(1, 25), threshold=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_drawn_boxes_and_thresholds_match_greedy_loops(solution, n, threshold, seed):
    check_nms(solution, random_boxes(seed, n), random_scores(seed + 1, n), threshold)


def test_the_inputs_are_left_unchanged(solution):
    boxes, scores = random_boxes(14, 10), random_scores(15, 10)
    before = boxes.clone(), scores.clone()
    solution.box_iou(boxes, boxes)
    solution.nms(boxes, scores, 0.3)
    assert torch.equal(boxes, before[0]) and torch.equal(scores, before[1]), (
        "box_iou or nms modified its inputs"
    )
