"""Spot hard cuts between sampled frames: a grid that spans one is not continuous video.

Each frame is reduced to a tiny grey thumbnail; the change between two frames
is the mean absolute difference of their thumbnails, 0 (same) to 1 (black to
white). Shrinking first averages away fine motion (a passing car, road texture)
while a cut, which changes the whole picture, keeps its size.

    >>> before, after = thumbnail(frame_a), thumbnail(frame_b)
    >>> frame_change(before, after) > 0.2        # probably a cut
"""

from __future__ import annotations

import numpy as np
from PIL import Image

THUMBNAIL_SIZE = (32, 20)  # width, height: about a 320x192 cell's aspect
# Frames 10 apart in driving footage change by ~0.02-0.12; cuts between shots by ~0.2-0.5.
DEFAULT_CUT_THRESHOLD = 0.2


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 RGB -> a small float32 grey image in 0..1 (box-filtered, so every pixel counts)."""
    grey = Image.fromarray(frame).convert("L").resize(THUMBNAIL_SIZE, Image.Resampling.BOX)
    return np.asarray(grey, dtype=np.float32) / 255.0


def frame_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails, 0..1."""
    return float(np.abs(a - b).mean())


def first_cut(thumbnails: list[np.ndarray], threshold: float) -> int | None:
    """Index i of the first pair (i, i+1) that changes by more than `threshold`; None if none does (or threshold <= 0)."""
    if threshold <= 0:
        return None
    for i in range(len(thumbnails) - 1):
        if frame_change(thumbnails[i], thumbnails[i + 1]) > threshold:
            return i
    return None
