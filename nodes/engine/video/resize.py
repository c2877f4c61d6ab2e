"""Fit a frame to a cell: scale to cover it (aspect kept), then crop the centre.

    cell = fit_frame(frame, 320, 192)     # HxWx3 uint8 in, 192x320x3 uint8 out

Pillow resamples only the centred crop box (one pass, Lanczos with antialiasing when
shrinking), so nothing is stretched and no band of black is added.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..errors import DrawAVideoError


def cover_box(src_width: int, src_height: int, width: int, height: int) -> tuple[float, float, float, float]:
    """The centred (left, top, right, bottom) region of the source with the target's aspect ratio.

    >>> cover_box(640, 480, 320, 192)     # 4:3 source, 5:3 cell: rows cut top and bottom
    (0.0, 48.0, 640.0, 432.0)
    """
    scale = max(width / src_width, height / src_height)
    crop_w, crop_h = width / scale, height / scale
    left, top = (src_width - crop_w) / 2, (src_height - crop_h) / 2
    return (left, top, left + crop_w, top + crop_h)


def fit_frame(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize and centre-crop an HxWxC uint8 frame (C = 1, 3 or 4) to exactly height x width.

    A frame already that size comes back unchanged (same array).
    """
    if frame.ndim != 3 or frame.shape[2] not in (1, 3, 4) or frame.dtype != np.uint8:
        raise DrawAVideoError(f"fit_frame needs an HxWx(1|3|4) uint8 frame, got shape {frame.shape} dtype {frame.dtype}.")
    if width < 1 or height < 1:
        raise DrawAVideoError(f"target size {width}x{height} must be at least 1x1 px.")
    src_h, src_w = frame.shape[:2]
    if (src_w, src_h) == (width, height):
        return frame
    image = Image.fromarray(frame[..., 0] if frame.shape[2] == 1 else frame)
    fitted = image.resize((width, height), Image.Resampling.LANCZOS, box=cover_box(src_w, src_h, width, height))
    out = np.asarray(fitted)
    return out[..., None] if out.ndim == 2 else out
