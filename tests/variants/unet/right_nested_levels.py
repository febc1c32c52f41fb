"""Right: explicit named layers, functional ReLU and pooling, padding by writing into a zero map,
and the UNet as a recursion of nested levels instead of loops over ModuleLists."""

import torch
import torch.nn.functional as F
from torch import nn


class DoubleConv(nn.Module):
    """Two 3 x 3 convolutions, each followed by batch norm and ReLU:

        Conv2d(in_ch, mid_ch, 3, padding=1, bias=False) -> BatchNorm2d(mid_ch) -> ReLU
        -> Conv2d(mid_ch, out_ch, 3, padding=1, bias=False) -> BatchNorm2d(out_ch) -> ReLU

    Args:
        in_ch: channels of the input.
        out_ch: channels of the output.
        mid_ch: channels between the two convolutions; None (the default) means out_ch.

    Parameters: 9·mid_ch·in_ch + 9·out_ch·mid_ch convolution weights (no conv biases: the
    batch norm that follows would cancel them) and 2·mid_ch + 2·out_ch batch-norm affine
    parameters. Use nn.Conv2d and nn.BatchNorm2d modules with PyTorch's defaults (eps 1e-5,
    momentum 0.1, affine, running statistics): the tests find them by type and shape and
    load their own weights; the submodules' names are yours to choose.

    forward(x):
        x: (N, in_ch, H, W), any H, W >= 1, the module's dtype and device.
        Returns (N, out_ch, H, W) (padding 1 keeps the size), with x's dtype and device.
        In training mode the batch norms use the batch's statistics; in eval mode their
        running statistics.

    Do not use: nothing is forbidden.
    """

    def __init__(self, in_ch: int, out_ch: int, mid_ch: int | None = None) -> None:
        """Build the two conv -> batch norm -> ReLU stages."""
        super().__init__()
        mid_ch = mid_ch or out_ch
        self.conv1 = nn.Conv2d(in_ch, mid_ch, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_ch)
        self.conv2 = nn.Conv2d(mid_ch, out_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_ch, H, W) -> (N, out_ch, H, W)."""
        x = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(x)))


class Down(nn.Module):
    """One encoder step: MaxPool2d(2) (rounding down: 37 -> 18), then DoubleConv(in_ch, out_ch).

    Args:
        in_ch: channels of the input.
        out_ch: channels of the output.

    forward(x):
        x: (N, in_ch, H, W), H, W >= 2.
        Returns (N, out_ch, H // 2, W // 2), with x's dtype and device.

    Do not use: nothing is forbidden.
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        """Build the pool and the DoubleConv."""
        super().__init__()
        self.block = DoubleConv(in_ch, out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_ch, H, W) -> (N, out_ch, H // 2, W // 2)."""
        return self.block(F.max_pool2d(x, kernel_size=2, stride=2))


class Up(nn.Module):
    """One decoder step: upsample the deeper map x2, pad it to the skip's size, concatenate
    [skip, up] along the channels, then DoubleConv(in_ch, out_ch, mid_ch=in_ch // 2).

    Args:
        in_ch: channels after the concatenation (an even number).
        out_ch: channels of the output.
        bilinear: False (the default): nn.ConvTranspose2d(in_ch, in_ch // 2, kernel_size=2,
            stride=2) with a bias, which also halves the channels. True: nn.Upsample(
            scale_factor=2, mode="bilinear", align_corners=True), which has no parameters
            and keeps the channels. The DoubleConv's mid_ch is in_ch // 2 in both modes.

    Parameters: the ConvTranspose2d's in_ch·(in_ch // 2)·4 weights and in_ch // 2 biases
    (transposed mode only), then those of DoubleConv(in_ch, out_ch, in_ch // 2).

    forward(x_deep, skip):
        x_deep: (N, in_ch, h, w) in transposed mode, (N, in_ch // 2, h, w) in bilinear
            mode: the map coming up from the deeper level.
        skip: (N, in_ch // 2, H, W) with H >= 2h and W >= 2w: the encoder's map at this
            level.
        Returns (N, out_ch, H, W), with the inputs' dtype and device.

    Conventions:
        The upsampled map (N, in_ch // 2, 2h, 2w) is padded with zeros (F.pad) to H x W,
        splitting the difference as milesial/Pytorch-UNet does: diff // 2 rows on top and
        diff - diff // 2 at the bottom (the extra pixel goes to the bottom), the same for
        the columns (the extra one on the right). The concatenation puts the skip first:
        torch.cat([skip, up], dim=1), so the first in_ch // 2 input channels of the first
        3 x 3 convolution see the skip.

    Do not use: nothing is forbidden.
    """

    def __init__(self, in_ch: int, out_ch: int, bilinear: bool = False) -> None:
        """Build the upsampler and the DoubleConv."""
        super().__init__()
        self.bilinear = bilinear
        if not bilinear:
            self.transpose = nn.ConvTranspose2d(in_ch, in_ch // 2, 2, stride=2)
        self.block = DoubleConv(in_ch, out_ch, in_ch // 2)

    def forward(self, x_deep: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """(x_deep, skip) -> (N, out_ch, H, W), H x W the skip's size."""
        if self.bilinear:
            up = F.interpolate(x_deep, scale_factor=2, mode="bilinear", align_corners=True)
        else:
            up = self.transpose(x_deep)
        h, w = up.shape[-2:]
        top, left = (skip.shape[-2] - h) // 2, (skip.shape[-1] - w) // 2
        padded = up.new_zeros(*up.shape[:2], *skip.shape[-2:])
        padded[..., top : top + h, left : left + w] = up
        return self.block(torch.cat((skip, padded), 1))


class UNet(nn.Module):
    """The U-Net of Ronneberger et al. (2015) with same-padding convolutions, in the layout
    of milesial/Pytorch-UNet. With b = base_channels, D = depth and f = 2 if bilinear else 1:

        inc   = DoubleConv(in_channels, b)
        downs = [Down(b·2^(i-1), b·2^i) for i = 1..D], the last one Down(b·2^(D-1), b·2^D // f)
        ups   = [Up(b·2^(D-j+1), b·2^(D-j) // f, bilinear) for j = 1..D], the last one
                Up(2b, b, bilinear)
        outc  = nn.Conv2d(b, num_classes, kernel_size=1) with a bias

    In bilinear mode the upsampler keeps the channels, so the deepest Down and every Up but
    the last output half their width: then [skip, up] has exactly the Up's in_ch channels.
    UNet(3, 2) (b = 64, D = 4, transposed) has 31,037,698 parameters, as milesial's does.

    Args:
        in_channels: channels of the input images.
        num_classes: channels of the output (one logit map per class).
        base_channels: b, the width of the first level.
        depth: D >= 1, the number of Down (and of Up) steps.
        bilinear: the upsampling mode of every Up.

    Attributes: inc (DoubleConv), downs (nn.ModuleList of D Down), ups (nn.ModuleList of
    D Up), outc (nn.Conv2d). The tests use only the class names: they hook the Up modules
    (every Up call must go through this module's Up class) and count parameters, never
    these attribute names.

    forward(x):
        x: (N, in_channels, H, W) with H, W >= 2^D, odd or even.
        Returns logits (N, num_classes, H, W), with x's dtype and device.
        The encoder keeps the output of inc and of every Down but the last; the decoder's
        j-th Up takes the map from below and the encoder map of the same level as skip
        (deepest skip first, inc's output last).

    Do not use: nothing is forbidden.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        base_channels: int = 64,
        depth: int = 4,
        bilinear: bool = False,
    ) -> None:
        """Build inc, downs, ups and outc with the channel plan above."""
        super().__init__()
        self.first = DoubleConv(in_channels, base_channels)
        self.body = _Level(base_channels, depth, bilinear, outermost=True)
        self.head = nn.Conv2d(base_channels, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_channels, H, W) -> (N, num_classes, H, W) logits."""
        return self.head(self.body(self.first(x)))


class _Level(nn.Module):
    """Down to the next level, the levels below, and the Up back to width c."""

    def __init__(self, c: int, levels: int, bilinear: bool, outermost: bool = False) -> None:
        super().__init__()
        f = 2 if bilinear else 1
        if levels == 1:
            self.down, self.inner = Down(c, 2 * c // f), None
        else:
            self.down, self.inner = Down(c, 2 * c), _Level(2 * c, levels - 1, bilinear)
        self.up = Up(2 * c, c if outermost else c // f, bilinear)

    def forward(self, skip: torch.Tensor) -> torch.Tensor:
        deep = self.down(skip)
        if self.inner is not None:
            deep = self.inner(deep)
        return self.up(deep, skip)
