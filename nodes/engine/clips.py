"""Join two clips drawn one after the other into one clip.

A grid drawn in Keyframe Grid's "continue" mode opens with the last K frames
of the clip before it; joining drops those repeats and can cross-fade the seam:

    frames out = len(a) + len(b) - overlap - crossfade

>>> a, b = torch.rand(16, 8, 8, 3), torch.rand(16, 8, 8, 3)
>>> join_clips(a, b, overlap=4).shape[0]      # two chained 4x4 grids
28
>>> join_clips(a, b, overlap=4, crossfade=2).shape[0]
26
"""

from __future__ import annotations

import torch

from .errors import DrawAVideoError
from .grid import check_image


def crossfade_weights(count: int) -> torch.Tensor:
    """Weight of the incoming clip in each of `count` blended frames: 1/(n+1), 2/(n+1), ... n/(n+1).

    Neither end is 0 or 1: the fade runs in equal steps from a's last unblended
    frame (weight 0) to b's first unblended frame (weight 1).
    """
    return torch.arange(1, count + 1, dtype=torch.float32) / (count + 1)


def join_clips(clip_a: torch.Tensor, clip_b: torch.Tensor, overlap: int = 0, crossfade: int = 0) -> torch.Tensor:
    """clip_a then clip_b without b's first `overlap` frames, the seam cross-faded over `crossfade` frames.

    The last `crossfade` frames of a and the first `crossfade` frames of b's
    remainder become `crossfade` blended frames (0 = a plain cut).
    """
    check_image(clip_a, "clip_a")
    check_image(clip_b, "clip_b")
    if clip_a.shape[1:] != clip_b.shape[1:]:
        (_, ha, wa, ca), (_, hb, wb, cb) = clip_a.shape, clip_b.shape
        raise DrawAVideoError(
            f"clip_a frames are {wa}x{ha} with {ca} channels but clip_b frames are {wb}x{hb} with {cb}; "
            "join clips of the same frame size (cut both with the same layout, or resize one with ImageScale)."
        )
    if overlap < 0 or crossfade < 0:
        raise DrawAVideoError(f"overlap ({overlap}) and crossfade ({crossfade}) must be 0 or more.")
    len_a, len_b = clip_a.shape[0], clip_b.shape[0]
    if overlap > min(len_a, len_b):
        raise DrawAVideoError(
            f"overlap is {overlap} but clip_a has {len_a} frames and clip_b {len_b}; overlap is how many frames "
            "clip_b repeats from the end of clip_a (Keyframe Grid's overlap), so it cannot exceed either."
        )
    rest = clip_b[overlap:]
    if crossfade > min(len_a, rest.shape[0]):
        raise DrawAVideoError(
            f"crossfade is {crossfade} but clip_a has {len_a} frames and clip_b has {rest.shape[0]} after dropping "
            f"the {overlap} overlapping; use at most {min(len_a, rest.shape[0])}."
        )
    if crossfade == 0:
        return torch.cat([clip_a, rest])
    w = crossfade_weights(crossfade).to(clip_a.dtype).view(-1, 1, 1, 1)
    blend = clip_a[len_a - crossfade :] * (1 - w) + rest[:crossfade] * w
    return torch.cat([clip_a[: len_a - crossfade], blend, rest[crossfade:]])
