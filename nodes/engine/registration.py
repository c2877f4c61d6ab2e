"""Find where a drawn grid's cells really are, and cut them there.

FLUX follows the grid layout only roughly: a border may sit a few pixels off,
be drawn as a line, or not be drawn at all. For each internal border the
layout expects, `register_grid` searches a window of +-`search_px` pixels for
the line where the image changes most *along the whole line*: how the two
pixel rows (or columns) either side of a cut differ, averaged over the full
width (height) of the grid after dropping the strongest quarter of its 16-px
pieces (see `_line_energy`). A border between two different pictures -- a
plain discontinuity, a drawn line, or the edges of a gutter band -- is a
sharp peak in that profile, while an edge inside a picture covers only part
of a line and is dropped or averaged out. Outer borders are the image edges.
Cells are cut at the found borders and resized to the layout's cell size (an
exact copy when a cell already has that size).

>>> layout = GridLayout()                       # 4x4 cells of 320x192
>>> found = register_grid(image, layout)        # image: IMAGE [B,768,1280,C]
>>> found.frames.shape                          # [B*16,192,320,C], in the layout's frame order
>>> found.adherence                             # [B] in 0..1: did the model draw the layout?
>>> found.rows[0]                               # [4,2]: (top, bottom) pixel of each cell row in grid 0
>>> overlay = draw_overlay(image, found)        # expected borders green, found borders red

Adherence (per grid, 0..1). For every internal border b (between cell rows
and between cell columns; a gutter counts as one border):

    ratio_b     = (E_b + eps) / (median of E over the border's neighbourhood + eps)
    stand_out_b = clamp((ratio_b - MOVE_RATIO) / (CLEAR_RATIO - MOVE_RATIO), 0, 1)
    placement_b = clamp(1 - |offset_b| / (PLACEMENT_PX * scale), 0, 1)
    adherence   = mean over b of stand_out_b * placement_b

E_b is the border's profile energy where it was found (the mean of both edges
for a gutter), eps = 1/255, MOVE_RATIO = 1.5 (a weaker peak may be content:
it counts as no border, and the border stays where the layout puts it, so a
grid-less image is cut as the plain split would cut it), CLEAR_RATIO = 3 (a
border three times as strong as its surroundings counts as fully drawn),
offset_b is how far the border's centre moved from where the layout puts it,
PLACEMENT_PX = 16 layout pixels (scale = image size / layout size). A grid drawn exactly on the
layout with clear borders scores ~1; a border drawn 8 px off counts half; a
continuous picture with no grid scores near 0, and a grid with the wrong
cell count scores only for the borders that happen to fall where expected.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .errors import DrawAVideoError
from .grid import check_image, fit_layout
from .layout import GridLayout

DEFAULT_SEARCH_PX = 16  # layout pixels either side of an expected border
CLEAR_RATIO = 3.0       # border energy / neighbourhood energy that counts as a fully drawn border
MOVE_RATIO = 1.5        # below this a peak may be content, not a border: keep the layout's position
PLACEMENT_PX = 16       # layout pixels off at which a border no longer counts as placed
NEIGHBOURHOOD_PX = 8    # least half-width (layout px) of the window the baseline energy is taken from
MAX_LINE_PX = 8         # widest drawn separator line (layout px) cut out of a gutter-less grid
LINE_RATIO = 0.3        # a line's second edge is at least this fraction of its first (its sides may differ)
FLAT_INSIDE = 0.75      # inside a line the energy dips below this fraction of its weaker edge
SEGMENT_PX = 16         # a line's energy is taken over pieces this long ...
DROP_SHARE = 0.25       # ... dropping its strongest quarter of pieces (content edges)
EPS = 1.0 / 255

EXPECTED_COLOR = (0.0, 1.0, 0.0)
FOUND_COLOR = (1.0, 0.0, 0.0)


@dataclass
class GridRegistration:
    """Where each grid's cells were found, and the frames cut there.

    `rows` [B,rows,2] and `cols` [B,cols,2] hold each cell row's (top, bottom)
    and each cell column's (left, right) pixel, end exclusive, in the image's
    pixels; `expected_rows` / `expected_cols` are the same for the layout.
    """

    frames: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    expected_rows: torch.Tensor
    expected_cols: torch.Tensor
    adherence: torch.Tensor
    layout: GridLayout  # in the image's pixels (see grid.fit_layout)
    search_px: int      # the search window actually used, image pixels

    def grid_report(self, index: int) -> dict:
        return {
            "index": index,
            "adherence": round(float(self.adherence[index]), 4),
            "rows": self.rows[index].tolist(),
            "cols": self.cols[index].tolist(),
        }

    def report(self) -> dict:
        """Plain data for JSON: per grid adherence and cell spans, plus what the layout expected."""
        return {
            "layout": self.layout.to_dict(),
            "search_px": self.search_px,
            "expected": {"rows": self.expected_rows.tolist(), "cols": self.expected_cols.tolist()},
            "grids": [self.grid_report(i) for i in range(self.adherence.shape[0])],
            "mean_adherence": round(float(self.adherence.mean()), 4),
        }

    def to_json(self) -> str:
        return json.dumps(self.report())


# -- the energy profile ---------------------------------------------------------

def _line_energy(diff: torch.Tensor) -> torch.Tensor:
    """[L, M, 3] signed differences along M-pixel lines -> [L] energy of each line.

    Each line is cut into SEGMENT_PX pieces, and each piece is measured twice:
    its mean absolute difference (catches a border between two textures of
    the same colour) and the absolute difference of its means (noise and fine
    texture average out, so a faint colour step still shows); a piece's energy
    is the mean of the two. The strongest DROP_SHARE of a line's pieces is
    dropped before averaging: a border between two pictures runs the whole
    line, an edge inside a picture (a pole, a roof) only part of it.
    """
    texture = diff.abs().mean(dim=2)
    if diff.shape[1] < 2 * SEGMENT_PX:
        pieces = texture
    else:
        pool = lambda x: F.avg_pool1d(x, SEGMENT_PX, SEGMENT_PX, ceil_mode=True)  # noqa: E731
        step = pool(diff.permute(0, 2, 1)).abs().mean(dim=1)
        pieces = (pool(texture[:, None])[:, 0] + step) / 2
    kept = max(1, round(pieces.shape[1] * (1 - DROP_SHARE)))
    return pieces.sort(dim=1).values[:, :kept].mean(dim=1)


def _profiles(grid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Edge energy of a cut before each pixel row / column of one grid [H,W,C].

    Returns ([H+1], [W+1]): entry p measures how the pixels either side of a
    cut before row (column) p differ along the whole line (see _line_energy);
    0 at the image edges, where there is nothing to cut.
    """
    x = grid[..., :3].float()
    rows = _line_energy(x[1:] - x[:-1])
    cols = _line_energy((x[:, 1:] - x[:, :-1]).transpose(0, 1))
    pad = lambda e: F.pad(e, (1, 1)).cpu()  # noqa: E731 -- profile index = pixel index of the cut
    return pad(rows), pad(cols)


def _expected_spans(count: int, cell: int, gutter: int) -> torch.Tensor:
    starts = torch.arange(count) * (cell + gutter)
    return torch.stack([starts, starts + cell], dim=1)


def _take(energy: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """energy[positions], positions clamped to the profile (out of range reads as 0 energy)."""
    inside = (positions >= 1) & (positions <= energy.shape[0] - 2)
    return torch.where(inside, energy[positions.clamp(0, energy.shape[0] - 1)], torch.zeros(()))


@dataclass
class _Axis:
    spans: torch.Tensor       # [count,2] found (start, end) of each cell
    stand_out: torch.Tensor   # [count-1]
    offsets: torch.Tensor     # [count-1] float, found border centre - expected centre


def _find_axis(energy: torch.Tensor, count: int, cell: int, gutter: int, window: int, scale: float) -> _Axis:
    """Find the `count - 1` internal borders of one axis from its energy profile [L+1]."""
    length = energy.shape[0] - 1
    expected = _expected_spans(count, cell, gutter)
    if count == 1:
        return _Axis(expected, torch.zeros(0), torch.zeros(0))
    tops = expected[1:, 0] - gutter  # first pixel after cell k-1 (the cut), one per border
    # Every border may move less than half a cell, so cells never overlap or vanish.
    half = (cell - 1) // 2
    window = min(window, half)
    reach = min(max(window, round(NEIGHBOURHOOD_PX * scale)), half)
    shifts = torch.arange(-reach, reach + 1)
    positions = tops[:, None] + shifts[None]  # [K, 2*reach+1]
    pair = _take(energy, positions)
    if gutter:
        pair = (pair + _take(energy, positions + gutter)) / 2
    baseline = pair.median(dim=1).values
    searched = pair.masked_fill(shifts.abs()[None] > window, -1.0)
    peak, at = searched.max(dim=1)
    ratio = (peak + EPS) / (baseline + EPS)
    moved = ratio >= MOVE_RATIO
    found = torch.where(moved, tops + shifts[at], tops)
    starts = found + gutter  # first pixel of cell k
    ends = found.clone()     # end of cell k-1
    if gutter:
        # The drawn gutter may be a little wider or narrower: refine each edge on its own.
        r = min(max(gutter // 4, 1), window)
        ends = torch.where(moved, _refine(energy, ends, r), ends)
        starts = torch.where(moved, _refine(energy, starts, r), starts)
        starts = torch.maximum(starts, ends + 1)
    else:
        starts, ends = _cut_lines(energy, found, moved, peak, baseline, round(MAX_LINE_PX * scale), half)
    stand_out = ((ratio - MOVE_RATIO) / (CLEAR_RATIO - MOVE_RATIO)).clamp(0, 1)
    offsets = (starts + ends).float() / 2 - (2 * tops + gutter).float() / 2
    spans = torch.stack([torch.cat([torch.zeros(1, dtype=torch.long), starts]), torch.cat([ends, torch.tensor([length])])], dim=1)
    return _Axis(spans, stand_out, offsets)


def _refine(energy: torch.Tensor, at: torch.Tensor, radius: int) -> torch.Tensor:
    shifts = torch.arange(-radius, radius + 1)
    return at + shifts[_take(energy, at[:, None] + shifts[None]).argmax(dim=1)]


def _cut_lines(energy, found, moved, peak, baseline, max_line, half):
    """Gutter-less layouts: a border drawn as a line has two edges; cut the line out.

    A second peak 2..max_line px from the first, at least LINE_RATIO of its
    energy and MOVE_RATIO above the baseline, with a flat band between them
    (somewhere inside, energy below FLAT_INSIDE x the weaker edge), is the
    line's other edge; a single blurred border is one hump and never has it.
    """
    starts, ends = found.clone(), found.clone()
    if max_line < 2 or half < 2:
        return starts, ends
    shifts = torch.cat([torch.arange(-max_line, -1), torch.arange(2, max_line + 1)])
    shifts = shifts[shifts.abs() <= half]
    other = found[:, None] + shifts[None]
    second, at = _take(energy, other).max(dim=1)
    q = found + shifts[at]
    lo, hi = torch.minimum(found, q), torch.maximum(found, q)
    # The least energy strictly between the two edges (positions lo+1 .. hi-1): a line's flat inside.
    inside = torch.arange(1, max_line)
    between = _take(energy, lo[:, None] + inside[None]).masked_fill(lo[:, None] + inside[None] >= hi[:, None], float("inf"))
    interior = between.min(dim=1).values
    line = (
        moved
        & (second >= LINE_RATIO * peak)
        & ((second + EPS) / (baseline + EPS) >= MOVE_RATIO)
        & (interior < FLAT_INSIDE * torch.minimum(second, peak))
    )
    ends = torch.where(line, lo, ends)
    starts = torch.where(line, hi, starts)
    return starts, ends


# -- cutting -------------------------------------------------------------------

def _resize(cell: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """[h,w,C] -> [height,width,C]; an exact copy when the size already fits."""
    if cell.shape[0] == height and cell.shape[1] == width:
        return cell
    x = cell.permute(2, 0, 1)[None].float()
    # Antialiasing costs 4x on CPU and only matters when shrinking a lot (borders move < half a cell).
    shrink = cell.shape[0] > 1.25 * height or cell.shape[1] > 1.25 * width
    x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=shrink)
    return x[0].permute(1, 2, 0).clamp(0, 1).to(cell.dtype)


def _cut(grid: torch.Tensor, layout: GridLayout, rows: torch.Tensor, cols: torch.Tensor, out: torch.Tensor) -> None:
    for frame in range(layout.frames):
        r, c = layout.cell_of_frame(frame)
        (top, bottom), (left, right) = rows[r].tolist(), cols[c].tolist()
        out[frame] = _resize(grid[top:bottom, left:right], layout.cell_height, layout.cell_width)


# -- the whole registration ------------------------------------------------------

def register_grid(
    image: torch.Tensor,
    layout: GridLayout,
    search_px: int = DEFAULT_SEARCH_PX,
    on_grid: Callable[[int], None] | None = None,
) -> GridRegistration:
    """Find every grid's cell borders within +-`search_px` of the layout's and cut the frames there.

    `search_px` is in layout pixels and scales with a grid drawn larger or
    smaller than the layout; it is capped below half a cell. `on_grid(i)` is
    called after each grid (progress and cancel checks).
    """
    check_image(image, "image")
    if not isinstance(search_px, int) or isinstance(search_px, bool) or search_px < 0:
        raise DrawAVideoError(f"search_px is {search_px!r} but must be a whole number of pixels, 0 or more.")
    fitted = fit_layout(layout, image.shape[1], image.shape[2], "image")
    scale = fitted.cell_width / layout.cell_width
    window = round(search_px * scale)
    grids = image.shape[0]
    frames = image.new_empty((grids * fitted.frames, fitted.cell_height, fitted.cell_width, image.shape[3]))
    all_rows, all_cols, adherence = [], [], []
    for g in range(grids):
        row_energy, col_energy = _profiles(image[g])
        rows = _find_axis(row_energy, fitted.rows, fitted.cell_height, fitted.gutter, window, scale)
        cols = _find_axis(col_energy, fitted.cols, fitted.cell_width, fitted.gutter, window, scale)
        stand_out = torch.cat([rows.stand_out, cols.stand_out])
        placement = (1 - torch.cat([rows.offsets, cols.offsets]).abs() / (PLACEMENT_PX * scale)).clamp(0, 1)
        adherence.append(float((stand_out * placement).mean()) if stand_out.numel() else 1.0)
        _cut(image[g], fitted, rows.spans, cols.spans, frames[g * fitted.frames : (g + 1) * fitted.frames])
        all_rows.append(rows.spans)
        all_cols.append(cols.spans)
        if on_grid is not None:
            on_grid(g)
    return GridRegistration(
        frames=frames,
        rows=torch.stack(all_rows),
        cols=torch.stack(all_cols),
        expected_rows=_expected_spans(fitted.rows, fitted.cell_height, fitted.gutter),
        expected_cols=_expected_spans(fitted.cols, fitted.cell_width, fitted.gutter),
        adherence=torch.tensor(adherence),
        layout=fitted,
        search_px=min(window, (min(fitted.cell_width, fitted.cell_height) - 1) // 2),
    )


# -- the overlay -------------------------------------------------------------------

def _cuts(spans: torch.Tensor) -> list[int]:
    """Every internal cut position of an axis: ends of cells 0..n-2 and starts of cells 1..n-1."""
    return sorted(set(spans[:-1, 1].tolist()) | set(spans[1:, 0].tolist()))


def _paint(canvas: torch.Tensor, cuts: list[int], axis: int, thickness: int, color: tuple) -> None:
    length = canvas.shape[axis]
    value = torch.tensor(color, dtype=canvas.dtype)
    for cut in cuts:
        lo, hi = max(cut - thickness // 2 - thickness % 2, 0), min(cut + thickness // 2, length)
        if axis == 0:
            canvas[lo:hi] = value
        else:
            canvas[:, lo:hi] = value


def draw_overlay(image: torch.Tensor, registration: GridRegistration) -> torch.Tensor:
    """RGB copies of the grids [B,H,W,3]: layout borders as wide green lines, found borders as thin red ones.

    Where a border was found exactly where expected, the red line runs down the middle of the green one.
    """
    rgb = image[..., :3] if image.shape[3] >= 3 else image[..., :1].expand(*image.shape[:3], 3)
    canvas = rgb.clone()
    thin = max(1, round(max(canvas.shape[1:3]) / 1280))
    for g in range(canvas.shape[0]):
        for spans, found, axis in (
            (registration.expected_rows, registration.rows[g], 0),
            (registration.expected_cols, registration.cols[g], 1),
        ):
            _paint(canvas[g], _cuts(spans), axis, 3 * thin, EXPECTED_COLOR)
            _paint(canvas[g], _cuts(found), axis, thin, FOUND_COLOR)
    return canvas
