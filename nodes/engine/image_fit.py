"""Fit a picture to a cell of the layout: cover (scale and centre-crop) or pad (scale and letterbox).

The image-to-video workflows put a user's picture into a cell of a keyframe
grid; the picture must first be exactly the cell's size, with its aspect kept.

    >>> picture = torch.rand(1, 600, 800, 3)          # 800x600 (4:3)
    >>> fit_picture(picture, GridLayout(), "cover").shape      # 320x192 cell (5:3): rows cut
    torch.Size([1, 192, 320, 3])
    >>> padded = fit_picture(picture, GridLayout(), "pad")     # 256x192 picture, bands left/right
    >>> padded.shape, float(padded[0, 100, 10, 0])
    (torch.Size([1, 192, 320, 3]), 0.0)

A picture is never enlarged (it would only look blurred in the clip) and must be
RGB: a transparent picture has no colour under its see-through parts, so the
caller says what goes there. Both are refused with a message naming the fix.
Pixels go through 8 bits like a loaded picture (ComfyUI's LoadImage gives
k/255 values, which come back unchanged), resampled once with Lanczos.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .errors import DrawAVideoError
from .grid import check_image
from .layout import GridLayout
from .video.resize import fit_frame

FITS = ("cover (crop the centre)", "pad (keep all, add bands)")
PAD_COLORS = {"black": (0, 0, 0), "grey": (128, 128, 128), "white": (255, 255, 255)}


def fit_mode(fit: str) -> str:
    """'cover' or 'pad' from a FITS choice (or the bare word)."""
    word = str(fit).split(" ", 1)[0]
    if word not in ("cover", "pad"):
        raise DrawAVideoError(f"fit is {fit!r}; choose one of {', '.join(FITS)}.")
    return word


def fitted_size(src_w: int, src_h: int, cell_w: int, cell_h: int, mode: str) -> tuple[int, int, float]:
    """(width, height, scale) of the picture once scaled for `mode`, before cropping or padding."""
    scale = (max if mode == "cover" else min)(cell_w / src_w, cell_h / src_h)
    if mode == "cover":
        return cell_w, cell_h, scale
    return (cell_w if cell_w / src_w == scale else max(1, round(src_w * scale)),
            cell_h if cell_h / src_h == scale else max(1, round(src_h * scale)), scale)


def check_picture(image: torch.Tensor, layout: GridLayout, mode: str, what: str = "image") -> None:
    check_image(image, what)
    channels = image.shape[-1]
    if channels == 4:
        raise DrawAVideoError(
            f"{what} has an alpha channel (4 channels, RGBA); a video frame has no transparency, so say what shows "
            "through it: load the picture with ComfyUI's Load Image (it keeps RGB and gives alpha as a MASK), or "
            "composite it onto a background first."
        )
    if channels != 3:
        raise DrawAVideoError(f"{what} has {channels} channel(s); connect an RGB picture (3 channels), e.g. from Load Image.")
    src_h, src_w = image.shape[1], image.shape[2]
    cell_w, cell_h = layout.cell_width, layout.cell_height
    _, _, scale = fitted_size(src_w, src_h, cell_w, cell_h, mode)
    if scale > 1:
        need = (f"at least {cell_w}x{cell_h} px" if mode == "cover"
                else f"at least {cell_w} px wide or {cell_h} px high")
        raise DrawAVideoError(
            f"{what} is {src_w}x{src_h} px, too small for the layout's {cell_w}x{cell_h} cell: fitting it ({mode}) "
            f"would enlarge it {scale:.2f}x and blur the frame. Use a picture {need}, upscale it first "
            "(e.g. an upscale model), or make the cells smaller in Grid Layout."
        )


def pad_frame(frame: np.ndarray, width: int, height: int, color=(0, 0, 0)) -> np.ndarray:
    """An HxWx3 uint8 frame scaled to fit inside width x height (aspect kept) and centred on `color`."""
    src_h, src_w = frame.shape[:2]
    new_w, new_h, _ = fitted_size(src_w, src_h, width, height, "pad")
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = np.asarray(color, np.uint8)
    scaled = frame if (new_w, new_h) == (src_w, src_h) else np.asarray(
        Image.fromarray(frame).resize((new_w, new_h), Image.Resampling.LANCZOS))
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = scaled
    return canvas


def fit_picture(image: torch.Tensor, layout: GridLayout, fit: str = FITS[0], pad_color: str = "black") -> torch.Tensor:
    """IMAGE [B,h,w,3] -> [B,cell_h,cell_w,3]: each picture fitted to the layout's cell."""
    mode = fit_mode(fit)
    if pad_color not in PAD_COLORS:
        raise DrawAVideoError(f"pad_color is {pad_color!r}; choose one of {', '.join(PAD_COLORS)}.")
    check_picture(image, layout, mode)
    width, height = layout.cell_width, layout.cell_height
    pixels = (image.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).cpu().numpy()
    if mode == "cover":
        fitted = [fit_frame(frame, width, height) for frame in pixels]
    else:
        fitted = [pad_frame(frame, width, height, PAD_COLORS[pad_color]) for frame in pixels]
    out = torch.from_numpy(np.stack(fitted)).to(torch.float32) / 255.0
    return out.to(device=image.device, dtype=image.dtype)
