"""Right: one row of IoUs per box of boxes1, and nms with a boolean 'removed' mask over a
precomputed IoU matrix."""

import torch


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    x1, y1, x2, y2 = boxes2.unbind(-1)
    area2 = (x2 - x1) * (y2 - y1)
    rows = []
    for a in boxes1:
        w = (torch.minimum(a[2], x2) - torch.maximum(a[0], x1)).clamp(min=0)
        h = (torch.minimum(a[3], y2) - torch.maximum(a[1], y1)).clamp(min=0)
        inter = w * h
        rows.append(inter / ((a[2] - a[0]) * (a[3] - a[1]) + area2 - inter))
    if not rows:
        return boxes1.new_zeros(0, len(boxes2))
    return torch.stack(rows)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    iou = box_iou(boxes, boxes)
    removed = [False] * len(order)
    keep = []
    for i in order:
        if removed[i]:
            continue
        keep.append(i)
        for j in order:
            if not removed[j] and iou[i, j] > iou_threshold:
                removed[j] = True
    return torch.tensor(keep, dtype=torch.int64, device=boxes.device)
