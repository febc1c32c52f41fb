"""Intersection over union of boxes, and greedy non-maximum suppression."""

import torch


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """The intersection over union of every box of boxes1 with every box of boxes2.

        inter[i, j] = area of (boxes1[i] ∩ boxes2[j]), 0 when they do not overlap
        iou[i, j]   = inter[i, j] / (area1[i] + area2[j] - inter[i, j])

    Args:
        boxes1: (N, 4) boxes (x1, y1, x2, y2) with x1 < x2 and y1 < y2, a floating dtype.
        boxes2: (M, 4) boxes in the same format, with boxes1's dtype and device.

    Returns:
        (N, M) IoUs in [0, 1], with boxes1's dtype and device.

    Conventions and edge cases:
        Coordinates are continuous: a box's area is (x2 - x1) * (y2 - y1), with no "+1
        pixel". Boxes that only touch (share an edge or a corner) have IoU 0. N = 0 or
        M = 0 gives an empty (N, M) result. The inputs are left unchanged.

    Do not use: torchvision (any of it: torchvision.ops.box_iou, torchvision.ops.nms).
    """
    lt = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2) top-left
    rb = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2) bottom-right
    wh = (rb - lt).clamp(min=0)  # (N, M, 2): no overlap is 0, never negative
    inter = wh[..., 0] * wh[..., 1]  # (N, M)
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])  # (N,)
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])  # (M,)
    union = area1[:, None] + area2[None, :] - inter  # (N, M): the overlap counted once
    return inter / union


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression: keep the best box, drop the boxes that overlap it
    too much, repeat with the best box left.

    Args:
        boxes: (N, 4) boxes (x1, y1, x2, y2) with x1 < x2 and y1 < y2, a floating dtype.
        scores: (N,) one score per box, with boxes' dtype and device.
        iou_threshold: a box is suppressed when its IoU with an already kept box of
            higher score is strictly greater than iou_threshold (as torchvision's nms);
            an IoU equal to the threshold does not suppress.

    Returns:
        (K,) int64 indices into boxes of the kept boxes, in order of decreasing score, on
        boxes' device.

    Conventions and edge cases:
        Boxes are visited in order of decreasing score; among equal scores the lower index
        comes first (as a stable sort orders them), so of two identical boxes with the same
        score the one with the lower index is kept. Only kept boxes suppress: a box removed
        earlier suppresses nothing. No boxes (N = 0) gives an empty int64 tensor. The
        inputs are left unchanged.

    Do not use: torchvision (any of it: torchvision.ops.box_iou, torchvision.ops.nms).
    """
    order = torch.sort(scores, descending=True, stable=True).indices  # (N,) ties: lower index
    iou = box_iou(boxes, boxes)  # (N, N)
    keep = []
    while order.numel() > 0:
        best = order[0]
        keep.append(best)
        rest = order[1:]
        order = rest[iou[best, rest] <= iou_threshold]  # drop what the kept box suppresses
    if not keep:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    return torch.stack(keep)  # (K,) int64
