"""Wrong: the concatenation puts the upsampled map first, cat([up, skip]), so the first conv's
weights meet the channels in the wrong order."""

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
        mid_ch = out_ch if mid_ch is None else mid_ch
        # no conv bias: the batch norm right after subtracts the mean and adds its own beta
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_ch, mid_ch, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_ch, out_ch, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_ch, H, W) -> (N, out_ch, H, W)."""
        return self.double_conv(x)  # (N, out_ch, H, W)


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
        self.pool = nn.MaxPool2d(2)
        self.conv = DoubleConv(in_ch, out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_ch, H, W) -> (N, out_ch, H // 2, W // 2)."""
        return self.conv(self.pool(x))  # (N, out_ch, H // 2, W // 2)


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
        if bilinear:  # no parameters, keeps the channels: x_deep already has in_ch // 2
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        else:  # learnt upsampling that also halves the channels
            self.up = nn.ConvTranspose2d(in_ch, in_ch // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_ch, out_ch, mid_ch=in_ch // 2)

    def forward(self, x_deep: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """(x_deep, skip) -> (N, out_ch, H, W), H x W the skip's size."""
        up = self.up(x_deep)  # (N, in_ch // 2, 2h, 2w)
        dy = skip.shape[-2] - up.shape[-2]  # > 0 when a pool rounded an odd size down
        dx = skip.shape[-1] - up.shape[-1]
        # F.pad lists (left, right, top, bottom); the odd pixel goes right and bottom
        up = F.pad(up, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])  # (N, in_ch // 2, H, W)
        x = torch.cat([up, skip], dim=1)  # (N, in_ch, H, W)
        return self.conv(x)  # (N, out_ch, H, W)


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
        factor = 2 if bilinear else 1
        widths = [base_channels * 2**i for i in range(depth + 1)]  # b, 2b, ..., 2^D b
        self.inc = DoubleConv(in_channels, widths[0])
        self.downs = nn.ModuleList(
            # the deepest map is halved in bilinear mode: the upsampler will not halve it
            Down(widths[i], widths[i + 1] // (factor if i == depth - 1 else 1))
            for i in range(depth)
        )
        self.ups = nn.ModuleList(
            # Up(in_ch = 2 * skip width): the last one comes back to b channels in both modes
            Up(widths[i + 1], widths[i] // (factor if i > 0 else 1), bilinear)
            for i in reversed(range(depth))
        )
        self.outc = nn.Conv2d(widths[0], num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_channels, H, W) -> (N, num_classes, H, W) logits."""
        skips = [self.inc(x)]  # (N, b, H, W)
        for down in self.downs:
            skips.append(down(skips[-1]))  # (N, 2^i b, H / 2^i, W / 2^i)
        x = skips.pop()  # the bottleneck is no skip
        for up in self.ups:
            x = up(x, skips.pop())  # deepest skip first, inc's output last
        return self.outc(x)  # (N, num_classes, H, W)
