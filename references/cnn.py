"""A small convolutional classifier, and the arithmetic of a convolution's output size."""

import torch
from torch import nn


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """The length of one spatial dim after a convolution (or a pooling window), as
    torch.nn.Conv2d computes it:

        out = floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1

    Args:
        size: the input length along the dim (H or W), an int >= 1.
        kernel: the kernel length along that dim, an int >= 1.
        stride: the step between windows, an int >= 1.
        padding: zeros added at each end of the dim, an int >= 0.
        dilation: the spacing between kernel taps, an int >= 1 (a dilated kernel spans
            dilation * (kernel - 1) + 1 input positions).

    Returns:
        The output length, a Python int >= 1. The division rounds down (floor), never up:
        a window that would run past the padded input is not counted.

    Raises:
        ValueError: if size < 1, kernel < 1, stride < 1, dilation < 1 or padding < 0, or
            if the dilated kernel is longer than the padded input (the output would be
            smaller than 1), where nn.Conv2d would raise a RuntimeError.

    Do not use: nothing is forbidden.
    """
    if size < 1 or kernel < 1 or stride < 1 or dilation < 1 or padding < 0:
        raise ValueError(
            f"conv_output_size(size={size}, kernel={kernel}, stride={stride}, "
            f"padding={padding}, dilation={dilation}): size, kernel, stride and dilation "
            "must be >= 1 and padding >= 0"
        )
    span = dilation * (kernel - 1) + 1  # input positions one dilated window covers
    padded = size + 2 * padding
    if span > padded:
        raise ValueError(
            f"conv_output_size: the dilated kernel spans {span} positions, more than the "
            f"padded input of {padded}: the output would be empty"
        )
    return (padded - span) // stride + 1  # floor: a window past the end is not counted


class SimpleCNN(nn.Module):
    """Two conv blocks and a linear classifier, the classic first CNN for MNIST:

        conv1 -> ReLU -> MaxPool(2) -> conv2 -> ReLU -> MaxPool(2)
              -> AdaptiveAvgPool to 7 x 7 -> flatten -> fc

    Args:
        in_channels: the channels C of the input images (1 for MNIST, 3 for RGB).
        num_classes: the number of logits per image.

    Attributes (the tests read and overwrite them by these names):
        conv1: nn.Conv2d(in_channels, 16, kernel_size=3, padding=1) with a bias:
            weight (16, in_channels, 3, 3), bias (16,). Keeps H and W ("same" padding).
        conv2: nn.Conv2d(16, 32, kernel_size=3, padding=1) with a bias:
            weight (32, 16, 3, 3), bias (32,).
        fc: nn.Linear(32 * 7 * 7, num_classes) with a bias:
            weight (num_classes, 1568), bias (num_classes,).
        The state_dict holds exactly conv1.weight, conv1.bias, conv2.weight, conv2.bias,
        fc.weight, fc.bias: any other submodule (ReLU, pooling) holds no parameters.

    forward(x):
        x: (B, in_channels, H, W), H and W >= 4, with the module's dtype and device
            (float32, float64, ...).
        Returns logits (B, num_classes), with x's dtype and device.

    Conventions:
        Each MaxPool has kernel 2 and stride 2 and rounds down (an odd size loses its last
        row or column): 28 -> 14 -> 7, 29 -> 14 -> 7, 31 -> 15 -> 7, 8 -> 4 -> 2.
        The adaptive average pool then makes the map 7 x 7 whatever H and W were (it
        averages when the map is larger and repeats values when it is smaller), so fc's
        input size never depends on the image size. The flatten keeps PyTorch's
        (channel, row, column) order. Initialisation is PyTorch's default (the tests load
        their own weights). The input is left unchanged.

    Do not use: nothing is forbidden.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10) -> None:
        """Build conv1, conv2 and fc for the given sizes."""
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.avgpool = nn.AdaptiveAvgPool2d(7)  # any H, W >= 4 ends as 7 x 7
        self.fc = nn.Linear(32 * 7 * 7, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, H, W) -> (B, num_classes) logits."""
        x = self.pool(self.relu(self.conv1(x)))  # (B, 16, H/2, W/2)
        x = self.pool(self.relu(self.conv2(x)))  # (B, 32, H/4, W/4)
        x = self.avgpool(x)  # (B, 32, 7, 7)
        return self.fc(x.flatten(1))  # (B, num_classes)
