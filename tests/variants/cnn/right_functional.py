"""Right: a functional forward on the named parameters, and the size from the formula."""

import torch
import torch.nn.functional as F
from torch import nn


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    if min(size, kernel, stride, dilation) < 1 or padding < 0:
        raise ValueError("size, kernel, stride and dilation must be >= 1, padding >= 0")
    out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1 or size + 2 * padding < dilation * (kernel - 1) + 1:
        raise ValueError(f"the output would be empty ({out})")
    return out


class SimpleCNN(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(1568, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(F.conv2d(x, self.conv1.weight, self.conv1.bias, padding=1)), 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, self.conv2.weight, self.conv2.bias, padding=1)), 2)
        x = F.adaptive_avg_pool2d(x, (7, 7))
        return F.linear(x.reshape(x.shape[0], -1), self.fc.weight, self.fc.bias)
