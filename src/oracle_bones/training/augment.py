"""Augmentation made for drawings, batched on the training device.

Each glyph arrives as its normalised ink and the distance to its skeleton, so a batch can be
re-drawn with a round pen of any width (what a Sketchpad delivers) or thickened, then
bent by one random affine map plus a free-form (elastic) deformation in a single grid_sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..glyphs.pen import stroke


@dataclass(frozen=True)
class Augment:
    p_pen: float = 0.7  # share of glyphs re-drawn with a uniform round pen (as people draw)
    pen_width: tuple[float, float] = (1.5, 5.0)  # pixels at the input size
    p_thicken: float = 0.25  # of the rest: thicken the original strokes by a pixel
    rotate: float = 12.0  # degrees
    scale: tuple[float, float] = (0.85, 1.08)
    shear: float = 0.15
    translate: float = 0.06  # of the half-width
    elastic: float = 0.06  # displacement of the control points, in half-widths
    elastic_grid: int = 4

    def __call__(
        self, ink: torch.Tensor, distance: torch.Tensor, g: torch.Generator
    ) -> torch.Tensor:
        """(B, 1, S, S) ink and skeleton distance -> augmented ink, same shape."""
        return self.deform(self.restroke(ink, distance, g), g)

    def restroke(
        self, ink: torch.Tensor, distance: torch.Tensor, g: torch.Generator
    ) -> torch.Tensor:
        b = ink.shape[0]
        u = _rand(g, b, ink)
        lo, hi = self.pen_width
        widths = (lo + (hi - lo) * _rand(g, b, ink)).view(b, 1, 1, 1)
        pen = stroke(distance, widths)
        out = torch.where((u < self.p_pen).view(b, 1, 1, 1), pen, ink)
        thicken = (u >= self.p_pen) & (u < self.p_pen + (1 - self.p_pen) * self.p_thicken)
        return torch.where(thicken.view(b, 1, 1, 1), F.max_pool2d(ink, 3, 1, 1), out)

    def deform(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        b, _, h, w = x.shape
        angle = torch.deg2rad((2 * _rand(g, b, x) - 1) * self.rotate)
        lo, hi = self.scale
        scale = lo + (hi - lo) * _rand(g, b, x)
        shear = (2 * _rand(g, b, x) - 1) * self.shear
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack(
            [
                torch.stack([cos, -sin + shear, (2 * _rand(g, b, x) - 1) * self.translate], -1),
                torch.stack([sin, cos, (2 * _rand(g, b, x) - 1) * self.translate], -1),
            ],
            1,
        )
        grid = F.affine_grid(theta, [b, 1, h, w], align_corners=False)
        n = self.elastic_grid
        control = (2 * torch.rand(b, 2, n, n, generator=g, device="cpu") - 1) * self.elastic
        flow = F.interpolate(control.to(x.device), size=(h, w), mode="bicubic", align_corners=True)
        grid = grid + flow.permute(0, 2, 3, 1)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _rand(g: torch.Generator, n: int, like: torch.Tensor) -> torch.Tensor:
    """Uniform numbers drawn on the CPU generator (repeatable on any device), moved to `like`."""
    return torch.rand(n, generator=g, device="cpu").to(like.device)
