"""Keyframe grids: known frames placed in chosen cells, a mask of the cells left to draw.

The sampler then inpaints only the masked cells (GridDiff's recipe; In-Context
LoRA conditions panels the same way), so a grid can continue a clip or fill in
the frames between keyframes. Cells are numbered 0..N-1 in the layout's frame
order (the order Split Image Grid returns them), not by screen position.

Masks follow ComfyUI's noise_mask convention (comfy/samplers.py: the sampler
keeps `latent * (1 - mask)`): 1 = draw this cell, 0 = keep it; gutters are 0.

In-between grids (every other cell known) for K keyframes on an N-cell layout:

- a grid holds P = ceil(N/2) keyframes at cells 0, 2, 4, ..., 2(P-1) and draws
  the cells between them (1, 3, ...), each between its two real neighbours;
  with N even the last cell (N-1) comes after the grid's last keyframe: it is
  drawn too (the grid reads as one continuous clip) but never kept;
- consecutive grids share a keyframe (grid j starts at keyframe j(P-1)), so
  every in-between frame is drawn in a grid that shows both of its keyframes;
  the last grid is slid back to end on the last keyframe (its first
  in-betweens repeat the grid before; the first drawing is kept);
- G = ceil((K-1)/(P-1)) grids; assembled, they give 2K-1 frames:
  k0 g0 k1 g1 ... g(K-2) k(K-1).

On the method's 4x4 (P = 8): 16 keyframes -> 3 grids holding k0..k7, k7..k14,
k8..k15 -> 31 frames (15 keyframes fill 2 grids exactly: 29 frames).

>>> plan = inbetween_plan(GridLayout(), 16)
>>> plan.grids, len(inbetween_order(GridLayout(), 16))
(3, 31)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import torch

from .errors import DrawAVideoError
from .grid import check_image, merge_image
from .layout import GridLayout
from .video.resize import fit_frame

MODES = ("continue", "in-between", "custom")


@dataclass(frozen=True)
class KeyframePlan:
    """What each cell of each grid holds: the index of a known frame, or None (draw it)."""

    layout: GridLayout
    cells: tuple[tuple[int | None, ...], ...]  # [grid][cell in frame order]

    @property
    def grids(self) -> int:
        return len(self.cells)

    @property
    def draw_count(self) -> int:
        return sum(held is None for grid in self.cells for held in grid)


# -- plans --------------------------------------------------------------------

def continue_plan(layout: GridLayout, frame_count: int, overlap: int) -> KeyframePlan:
    """The last `overlap` of `frame_count` frames open the grid (cells 0..overlap-1); the rest is drawn."""
    n = layout.frames
    if not 1 <= overlap < n:
        raise DrawAVideoError(
            f"overlap is {overlap} but the {layout.rows}x{layout.cols} grid has {n} cells: use 1..{n - 1} "
            "known frames so at least one cell is left to draw."
        )
    if overlap > frame_count:
        raise DrawAVideoError(
            f"overlap is {overlap} but frames holds only {frame_count}; lower overlap or connect the whole clip."
        )
    first = frame_count - overlap
    return KeyframePlan(layout, (tuple(first + i if i < overlap else None for i in range(n)),))


def parse_cells(text: str, layout: GridLayout) -> list[int]:
    """'0,5,10,15', '0-3, 8' or '0,-1' (-1 = the last cell) -> cell numbers, checked against `layout`."""
    n = layout.frames
    cells = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        from_end = re.fullmatch(r"-\s*(\d+)", part)
        if from_end:  # -1 is the last cell, -2 the one before: the same text fits any layout
            back = int(from_end.group(1))
            if not 1 <= back <= n:
                raise DrawAVideoError(
                    f"cells: cell {part} is outside the {layout.rows}x{layout.cols} layout; counting from the end "
                    f"goes from -1 (the last cell) to -{n} (the first)."
                )
            low = high = n - back
        else:
            match = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", part)
            if match is None:
                raise DrawAVideoError(
                    f"cells: {part!r} is not a cell number; write 0-based cell numbers in the layout's frame order, "
                    "separated by commas (ranges like 0-3 allowed, -1 for the last cell), e.g. 0,5,10,15 or 0,-1."
                )
            low = int(match.group(1))
            high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            raise DrawAVideoError(f"cells: range {part!r} runs backwards; write it low-high, e.g. {high}-{low}.")
        for cell in range(low, high + 1):
            if cell >= n:
                raise DrawAVideoError(
                    f"cells: cell {cell} is outside the {layout.rows}x{layout.cols} layout, whose cells are 0..{n - 1}."
                )
            if cell in cells:
                raise DrawAVideoError(f"cells: cell {cell} is listed twice; each cell can hold one frame.")
            cells.append(cell)
    if not cells:
        raise DrawAVideoError("cells is empty; list the cells that receive the frames, e.g. 0,5,10,15.")
    return cells


def custom_plan(layout: GridLayout, frame_count: int, cells_text: str) -> KeyframePlan:
    """Frame i goes into the i-th listed cell; unlisted cells are drawn."""
    cells = parse_cells(cells_text, layout)
    if frame_count != len(cells):
        more = "more frames than listed cells" if frame_count > len(cells) else "fewer frames than listed cells"
        raise DrawAVideoError(
            f"frames holds {frame_count} images but cells lists {len(cells)} ({more}); "
            "list one cell per frame, or pick the frames with ImageFromBatch."
        )
    if len(cells) == layout.frames:
        raise DrawAVideoError(f"cells lists all {layout.frames} cells, so nothing is left to draw; leave some out.")
    held: list[int | None] = [None] * layout.frames
    for frame, cell in enumerate(cells):
        held[cell] = frame
    return KeyframePlan(layout, (tuple(held),))


def keyframes_per_grid(layout: GridLayout) -> int:
    """Keyframes an in-between grid holds: every other cell from cell 0."""
    per = (layout.frames + 1) // 2
    if per < 2:
        raise DrawAVideoError(
            f"the {layout.rows}x{layout.cols} layout has {layout.frames} cell(s); in-between grids need at least 3 "
            "(keyframe, in-between, keyframe)."
        )
    return per


def _window_starts(layout: GridLayout, keyframe_count: int) -> list[int]:
    """First keyframe of each in-between grid (see the module notes)."""
    per = keyframes_per_grid(layout)
    if keyframe_count < 2:
        raise DrawAVideoError(
            f"in-between mode needs at least 2 keyframes (frames holds {keyframe_count}); "
            "connect the keyframes, e.g. the frames of a drawn grid."
        )
    grids = math.ceil((keyframe_count - 1) / (per - 1))
    return [min(j * (per - 1), max(0, keyframe_count - per)) for j in range(grids)]


def inbetween_plan(layout: GridLayout, keyframe_count: int) -> KeyframePlan:
    """Keyframes into every other cell of as many grids as needed; all other cells are drawn."""
    per = keyframes_per_grid(layout)
    grids = []
    for start in _window_starts(layout, keyframe_count):
        held: list[int | None] = [None] * layout.frames
        for j, key in enumerate(range(start, min(start + per, keyframe_count))):
            held[2 * j] = key
        grids.append(tuple(held))
    return KeyframePlan(layout, tuple(grids))


def inbetween_order(layout: GridLayout, keyframe_count: int) -> list[tuple[int, int]]:
    """(grid, cell) of each assembled frame k0 g0 k1 ... k(K-1): 2K-1 entries.

    A keyframe comes from the first grid that holds it; the in-between after
    keyframe i from the first grid that holds keyframes i and i+1.
    """
    starts = _window_starts(layout, keyframe_count)
    per = keyframes_per_grid(layout)

    def first_grid(key: int, last: int) -> int:
        return next(g for g, s in enumerate(starts) if s <= key and last < s + per)

    order = [(0, 0)]
    for key in range(keyframe_count - 1):
        g = first_grid(key, key + 1)
        order.append((g, 2 * (key - starts[g]) + 1))
        g = first_grid(key + 1, key + 1)
        order.append((g, 2 * (key + 1 - starts[g])))
    return order


# -- pixels -------------------------------------------------------------------

def fit_to_cell(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Frames [M,h,w,C] at `height` x `width`: unchanged (bit-exact) if they are already, else
    scaled to cover the cell and centre-cropped, nothing stretched (the pack's `fit_frame`:
    Lanczos through 8-bit, as for loaded video frames)."""
    if tuple(frames.shape[1:3]) == (height, width):
        return frames
    pixels = (frames.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).cpu().numpy()
    fitted = torch.from_numpy(np.stack([fit_frame(frame, width, height) for frame in pixels]))
    return (fitted.to(torch.float32) / 255.0).to(device=frames.device, dtype=frames.dtype)


def _initial_cells(frames: torch.Tensor, held: tuple[int | None, ...]) -> list[torch.Tensor]:
    """One grid's cells: known frames as they are; cells to draw start as a linear blend of the
    nearest known cells before and after them (a copy when only one side has one), so a
    denoise below 1 starts from a sensible guess. At denoise 1 the sampler replaces them."""
    known = [i for i, h in enumerate(held) if h is not None]
    cells = []
    for i, h in enumerate(held):
        if h is not None:
            cells.append(frames[h])
            continue
        before = max((k for k in known if k < i), default=None)
        after = min((k for k in known if k > i), default=None)
        if before is None or after is None:
            cells.append(frames[held[before if after is None else after]])
        else:
            w = (i - before) / (after - before)
            cells.append(frames[held[before]] * (1.0 - w) + frames[held[after]] * w)
    return cells


def build_grids(frames: torch.Tensor, plan: KeyframePlan) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid IMAGEs [G,H,W,C] with the plan's known frames in place, and MASKs [G,H,W]: 1 = draw.

    Frames not the layout's cell size are fitted to it (`fit_to_cell`); gutters are black and masked 0.
    """
    layout = plan.layout
    # Fit only the frames the plan uses: a long clip feeding "continue" needs just its tail.
    used = sorted({h for grid in plan.cells for h in grid if h is not None})
    slot = {h: i for i, h in enumerate(used)}
    fitted = fit_to_cell(frames[used], layout.cell_height, layout.cell_width)
    cells = [
        cell
        for held in plan.cells
        for cell in _initial_cells(fitted, tuple(None if h is None else slot[h] for h in held))
    ]
    image = merge_image(torch.stack(cells), layout)
    draw = torch.tensor([held is None for grid in plan.cells for held in grid], dtype=torch.float32)
    mask_cells = draw.view(-1, 1, 1, 1).expand(-1, layout.cell_height, layout.cell_width, 1)
    mask = merge_image(mask_cells, layout)[..., 0]
    return image, mask


def keyframe_grids(
    frames: torch.Tensor, layout: GridLayout, mode: str, overlap: int = 4, cells: str = "0,5,10,15"
) -> tuple[torch.Tensor, torch.Tensor, KeyframePlan]:
    """The node's work: plan for `mode`, then build the grids and masks.

    >>> clip = torch.rand(16, 192, 320, 3)
    >>> image, mask, plan = keyframe_grids(clip, GridLayout(), "continue", overlap=4)
    >>> image.shape, mask.shape, plan.draw_count
    (torch.Size([1, 768, 1280, 3]), torch.Size([1, 768, 1280]), 12)
    """
    check_image(frames, "frames")
    count = frames.shape[0]
    if mode == "continue":
        plan = continue_plan(layout, count, overlap)
    elif mode == "in-between":
        plan = inbetween_plan(layout, count)
    elif mode == "custom":
        plan = custom_plan(layout, count, cells)
    else:
        raise DrawAVideoError(f"mode is {mode!r}; choose one of {', '.join(MODES)}.")
    image, mask = build_grids(frames, plan)
    return image, mask, plan


def assemble_inbetweens(
    frames: torch.Tensor, layout: GridLayout, keyframe_count: int, keyframes: torch.Tensor | None = None
) -> torch.Tensor:
    """Split frames of sampled in-between grids -> the clip k0 g0 k1 ... k(K-1) (2K-1 frames).

    Cells drawn after a grid's last keyframe, and in-betweens a later grid drew
    again, are dropped. With `keyframes` (the originals), keyframe slots take
    them instead of their copies that went through the VAE.
    """
    check_image(frames, "frames")
    order = inbetween_order(layout, keyframe_count)
    grids = max(g for g, _ in order) + 1
    n = layout.frames
    if frames.shape[0] != grids * n:
        raise DrawAVideoError(
            f"frames holds {frames.shape[0]} images but {keyframe_count} keyframes on the {layout.rows}x{layout.cols} "
            f"layout make {grids} in-between grid(s) = {grids * n} frames; connect Split Image Grid's frames of the "
            "sampled in-between grids, and set keyframe_count to the number of keyframes given to Keyframe Grid."
        )
    out = frames[torch.tensor([g * n + cell for g, cell in order])]
    if keyframes is not None:
        check_image(keyframes, "keyframes")
        if keyframes.shape[0] != keyframe_count:
            raise DrawAVideoError(
                f"keyframes holds {keyframes.shape[0]} images but keyframe_count is {keyframe_count}; "
                "connect the same keyframes given to Keyframe Grid, or disconnect keyframes."
            )
        if keyframes.shape[-1] != frames.shape[-1]:
            raise DrawAVideoError(
                f"keyframes have {keyframes.shape[-1]} channels but frames have {frames.shape[-1]}; "
                "connect images of the same kind (RGB)."
            )
        out[0::2] = fit_to_cell(keyframes, frames.shape[1], frames.shape[2]).to(out.dtype)
    return out
