"""Wrong: the overlap widths are not clamped at 0, so two boxes apart in both x and y
get a positive "intersection" (negative times negative)."""

import torch


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    lt = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2) top-left
    rb = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2) bottom-right
    wh = rb - lt  # (N, M, 2): no overlap is 0, never negative
    inter = wh[..., 0] * wh[..., 1]  # (N, M)
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])  # (N,)
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])  # (M,)
    union = area1[:, None] + area2[None, :] - inter  # (N, M): the overlap counted once
    return inter / union


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
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
