"""Score drawn grids as clips, and pick the best of a batch.

FLUX's grids fail in three ways the eye sees at once: the cells ignore the
layout, the motion jumps, the brightness flickers. Each grid gets a number for
each, all computed on the frames cut where registration found the cells:

- adherence (0..1, higher is better): from `registration.register_grid`.
- smoothness (0..1, higher is better): 1 - the mean change between consecutive
  frames, each frame first normalised for brightness and contrast:
      change(a, b) = mean|a^ - b^| / 2,   x^ = (x - mean(x)) / mean|x - mean(x)|
  on grey frames shrunk to at most SMOOTH_SIDE px. By the triangle inequality
  it is 0 for identical frames and at most 1 (about 0.5 for unrelated ones);
  brightness changes are left to `flicker`.
- flicker (0 or more, lower is better): the standard deviation of the
  per-frame mean luma after removing a straight-line trend (a slow fade is
  not flicker). In 0..1 brightness units: 0.02 is visible, 0.05 is strong.
- score (0..1): the weighted mean of adherence, smoothness and
  steadiness = max(0, 1 - flicker / FLICKER_SCALE); default weights 0.5, 0.3,
  0.2 -- a grid that isn't a grid can't be a good clip, so adherence counts most.

>>> report = grid_quality(images, GridLayout())     # images: IMAGE [B,768,1280,C]
>>> report["best_index"], report["grids"][0]["score"]
"""

from __future__ import annotations

import json
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .errors import DrawAVideoError
from .grid import check_image
from .layout import GridLayout
from .registration import DEFAULT_SEARCH_PX, register_grid

DEFAULT_WEIGHTS = {"adherence": 0.5, "smoothness": 0.3, "steadiness": 0.2}
FLICKER_SCALE = 0.05  # flicker (luma std) at which steadiness reaches 0
SMOOTH_SIDE = 64      # frames are compared shrunk to this many px on their longer side
EPS = 1e-4

# Rec. 709 luma weights (sRGB primaries).
LUMA = (0.2126, 0.7152, 0.0722)


def luma(frames: torch.Tensor) -> torch.Tensor:
    """IMAGE [N,H,W,C] -> grey [N,H,W] (Rec. 709 weights on RGB; grey and alpha handled)."""
    if frames.shape[-1] >= 3:
        return frames[..., :3].float() @ torch.tensor(LUMA, device=frames.device)
    return frames[..., 0].float()


def _shrunk_grey(frames: torch.Tensor, side: int = SMOOTH_SIDE) -> torch.Tensor:
    grey = luma(frames)[:, None]
    h, w = grey.shape[2:]
    factor = side / max(h, w)
    if factor < 1:
        grey = F.interpolate(grey, size=(max(1, round(h * factor)), max(1, round(w * factor))), mode="area")
    return grey[:, 0]


def frame_changes(frames: torch.Tensor) -> torch.Tensor:
    """The normalised change between each pair of consecutive frames [N-1], each in 0..1."""
    grey = _shrunk_grey(frames)
    centred = grey - grey.mean(dim=(1, 2), keepdim=True)
    normal = centred / (centred.abs().mean(dim=(1, 2), keepdim=True) + EPS)
    return ((normal[1:] - normal[:-1]).abs().mean(dim=(1, 2)) / 2).clamp(0, 1)


def smoothness(frames: torch.Tensor) -> float:
    """1 - mean consecutive-frame change (1 for a still clip, ~0 for unrelated frames)."""
    if frames.shape[0] < 2:
        return 1.0
    return float(1 - frame_changes(frames).mean())


def flicker(frames: torch.Tensor) -> float:
    """Std of the per-frame mean luma around its least-squares straight line (0 = steady)."""
    n = frames.shape[0]
    if n < 3:
        return 0.0
    level = luma(frames).mean(dim=(1, 2)).double()
    t = torch.arange(n, dtype=torch.float64)
    t = t - t.mean()
    slope = (t * (level - level.mean())).sum() / (t * t).sum()
    residual = level - level.mean() - slope * t
    return float(residual.pow(2).mean().sqrt())


def _weights(weights: dict | None) -> dict:
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    unknown = sorted(set(weights) - set(DEFAULT_WEIGHTS))
    if unknown:
        raise DrawAVideoError(f"unknown weight(s) {', '.join(unknown)}; use {', '.join(DEFAULT_WEIGHTS)}.")
    if any(not isinstance(v, (int, float)) or v < 0 for v in weights.values()) or sum(weights.values()) <= 0:
        raise DrawAVideoError(f"weights are {weights}; each must be 0 or more and at least one above 0.")
    return weights


def clip_metrics(frames: torch.Tensor) -> dict:
    """smoothness, flicker and the largest single jump of one clip's frames [N,H,W,C]."""
    changes = frame_changes(frames) if frames.shape[0] > 1 else torch.zeros(1)  # once, for smoothness and jump
    return {"smoothness": float(1 - changes.mean()), "flicker": flicker(frames), "largest_jump": float(changes.max())}


def grid_quality(
    images: torch.Tensor,
    layout: GridLayout,
    search_px: int = DEFAULT_SEARCH_PX,
    weights: dict | None = None,
    on_grid: Callable[[int], None] | None = None,
) -> dict:
    """Score every grid of `images` [B,H,W,C]; returns the report (plain data, see module doc)."""
    check_image(images, "images")
    weights = _weights(weights)
    total = sum(weights.values())
    grids = []
    for index in range(images.shape[0]):
        found = register_grid(images[index : index + 1], layout, search_px)
        metrics = {"adherence": float(found.adherence[0]), **clip_metrics(found.frames)}
        steadiness = max(0.0, 1 - metrics["flicker"] / FLICKER_SCALE)
        parts = {"adherence": metrics["adherence"], "smoothness": metrics["smoothness"], "steadiness": steadiness}
        score = sum(weights[k] * parts[k] for k in weights) / total
        grids.append({"index": index, "score": score, **metrics, "steadiness": steadiness})
        if on_grid is not None:
            on_grid(index)
    best = max(range(len(grids)), key=lambda i: (grids[i]["score"], -i))
    rounded = [{k: round(v, 4) if isinstance(v, float) else v for k, v in g.items()} for g in grids]
    return {
        "best_index": best,
        "grids": rounded,
        "weights": weights,
        "layout": layout.to_dict(),
        "search_px": search_px,
    }


def report_json(report: dict) -> str:
    return json.dumps(report, indent=1)
