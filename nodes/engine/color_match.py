"""Keep a clip's colours steady: match every frame's colour statistics to a reference.

Grids drawn one after another drift in colour, and frames inside a grid
flicker. Each frame is moved, channel by channel in CIE Lab (lightness and two
colour axes that barely correlate, so one channel's shift doesn't tint
another), to the reference's mean and standard deviation:

    lab' = (lab - mean_frame) * clamp(std_ref / std_frame, 1/MAX_GAIN, MAX_GAIN) + mean_ref

then back to sRGB, clamped to 0..1, and blended with the input by `strength`
(0 returns the input itself, 1 the full match). The reference is a given
image (its pixels pooled), the clip's first frame, or the clip mean: the mean
of the frames' means and of their standard deviations, i.e. the typical frame.
Frames go through in chunks, so a long clip needs one output copy plus a chunk.
Grey (1-channel) frames are matched on their one channel; alpha passes through.

>>> steady = match_colors(frames, strength=1.0, mode="first frame")      # frames: IMAGE [N,H,W,C]
>>> steady = match_colors(frames, strength=0.5, reference=still)          # still: IMAGE [M,h,w,C]
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .errors import DrawAVideoError
from .grid import check_image
from .quality import luma

REFERENCE_MODES = ("first frame", "clip mean")
MAX_GAIN = 5.0     # the most a channel's contrast is stretched or squeezed
CHUNK = 8          # frames converted at a time
STD_EPS = 1e-3     # Lab units; keeps flat channels (grey images' a, b) from dividing by zero

# sRGB (D65) <-> CIE XYZ, and the D65 white point.
_RGB_TO_XYZ = torch.tensor(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]],
    dtype=torch.float64,
)
_XYZ_TO_RGB = torch.linalg.inv(_RGB_TO_XYZ)
_WHITE = _RGB_TO_XYZ.sum(dim=1)
_DELTA = 6 / 29


def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in 0..1 [..., 3] -> CIE Lab (D65) [..., 3]: L 0..100, a and b about -128..127.

    >>> srgb_to_lab(torch.tensor([1.0, 1.0, 1.0]))    # ~ (100, 0, 0)
    """
    rgb = rgb.float()
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb.clamp(min=0) + 0.055) / 1.055) ** 2.4)
    xyz = linear @ (_RGB_TO_XYZ / _WHITE[:, None]).T.to(rgb.device, torch.float32)
    f = torch.where(xyz > _DELTA**3, xyz.clamp(min=1e-12) ** (1 / 3), xyz / (3 * _DELTA**2) + 4 / 29)
    return torch.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], dim=-1)


def lab_to_srgb(lab: torch.Tensor) -> torch.Tensor:
    """CIE Lab (D65) [..., 3] -> sRGB [..., 3], not clamped (out-of-gamut colours leave 0..1)."""
    fy = (lab[..., 0] + 16) / 116
    f = torch.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], dim=-1)
    xyz = torch.where(f > _DELTA, f**3, 3 * _DELTA**2 * (f - 4 / 29))
    linear = xyz @ (_XYZ_TO_RGB * _WHITE[None, :]).T.to(xyz.device, torch.float32)
    return torch.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear.clamp(min=1e-12) ** (1 / 2.4) - 0.055)


def _working(x: torch.Tensor, channels: int) -> torch.Tensor:
    """The channels that are matched, in the space they are matched in: Lab for colour, as-is for grey."""
    if channels >= 3:
        rgb = x[..., :3] if x.shape[-1] >= 3 else x[..., :1].expand(*x.shape[:-1], 3)
        return srgb_to_lab(rgb)
    return luma(x)[..., None]  # a colour reference for grey frames: its luma


def _from_working(y: torch.Tensor, channels: int) -> torch.Tensor:
    return lab_to_srgb(y) if channels >= 3 else y


def _stats(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frame, per-channel mean and std of working values [N,H,W,K] -> ([N,K], [N,K])."""
    flat = y.reshape(y.shape[0], -1, y.shape[-1])
    return flat.mean(dim=1), flat.std(dim=1, unbiased=False)


def _chunks(count: int, chunk: int):
    for start in range(0, count, chunk):
        yield start, min(start + chunk, count)


def reference_stats(
    frames: torch.Tensor, reference: torch.Tensor | None = None, mode: str = REFERENCE_MODES[0], chunk: int = CHUNK
) -> tuple[torch.Tensor, torch.Tensor]:
    """The target mean and std [K] in the working space of `frames`."""
    channels = frames.shape[-1]
    if reference is not None:
        check_image(reference, "reference")
        y = _working(reference, channels)
        flat = y.reshape(-1, y.shape[-1])
        return flat.mean(dim=0), flat.std(dim=0, unbiased=False)
    if mode == "first frame":
        mean, std = _stats(_working(frames[:1], channels))
        return mean[0], std[0]
    if mode == "clip mean":
        sums = None
        for start, end in _chunks(frames.shape[0], chunk):
            mean, std = _stats(_working(frames[start:end], channels))
            part = torch.stack([mean.sum(0), std.sum(0)])
            sums = part if sums is None else sums + part
        return sums[0] / frames.shape[0], sums[1] / frames.shape[0]
    raise DrawAVideoError(f"mode is {mode!r}; choose one of {', '.join(REFERENCE_MODES)}.")


def match_colors(
    frames: torch.Tensor,
    strength: float = 1.0,
    reference: torch.Tensor | None = None,
    mode: str = REFERENCE_MODES[0],
    chunk: int = CHUNK,
    on_chunk: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Frames [N,H,W,C] with each frame's colour mean/std moved toward the reference's by `strength`.

    `on_chunk(frames_done)` is called after each chunk (progress and cancel checks).
    """
    check_image(frames, "images")
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 <= strength <= 1:
        raise DrawAVideoError(f"strength is {strength!r} but must be between 0 (unchanged) and 1 (full match).")
    if mode not in REFERENCE_MODES:
        raise DrawAVideoError(f"mode is {mode!r}; choose one of {', '.join(REFERENCE_MODES)}.")
    if strength == 0:
        return frames
    channels = frames.shape[-1]
    matched = 3 if channels >= 3 else 1
    target_mean, target_std = (s.to(frames.device) for s in reference_stats(frames, reference, mode, chunk))
    out = torch.empty_like(frames)
    for start, end in _chunks(frames.shape[0], chunk):
        x = frames[start:end]
        y = _working(x, channels)
        mean, std = _stats(y)
        gain = ((target_std + STD_EPS) / (std + STD_EPS)).clamp(1 / MAX_GAIN, MAX_GAIN)
        y = (y - mean[:, None, None]) * gain[:, None, None] + target_mean
        moved = _from_working(y, channels).clamp(0, 1)
        base = x[..., :matched].float()
        out[start:end, ..., :matched] = (base + strength * (moved - base)).to(frames.dtype)
        if channels > matched:
            out[start:end, ..., matched:] = x[..., matched:]
        if on_chunk is not None:
            on_chunk(end)
    return out
