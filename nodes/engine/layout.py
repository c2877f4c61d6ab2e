"""The grid layout: where each frame of a clip sits in one drawn image.

One `GridLayout` travels with the data through every node that builds or cuts
a grid, so no node re-derives geometry from a guess.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from fractions import Fraction

from .errors import DrawAVideoError

ORDERS = ("row-major", "column-major", "serpentine")

# FLUX's VAE downsamples by 8 and its transformer packs 2x2 latent patches.
FLUX_MULTIPLE = 16


def nearest_multiples(value: int, multiple: int = FLUX_MULTIPLE) -> tuple[int, int]:
    """The valid values either side of `value` (the lower one is at least `multiple`)."""
    lower = max(multiple, value // multiple * multiple)
    upper = lower + multiple if lower <= value else lower
    return lower, upper


@dataclass(frozen=True)
class GridLayout:
    """`rows` x `cols` cells of `cell_width` x `cell_height` px, `gutter` px apart.

    Rows count along the height. Frames fill the cells in `order`; the grid
    stands for source frames `frame_stride` apart (the method samples every 10th).

    >>> layout = GridLayout()                   # the method's 4x4 of 320x192
    >>> layout.width, layout.height, layout.frames, layout.flux_tokens
    (1280, 768, 16, 3840)
    """

    rows: int = 4
    cols: int = 4
    cell_width: int = 320
    cell_height: int = 192
    gutter: int = 0
    order: str = "row-major"
    frame_stride: int = 10

    def __post_init__(self):
        for name in ("rows", "cols", "cell_width", "cell_height", "frame_stride"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DrawAVideoError(f"{name} is {value!r} but must be a whole number of at least 1.")
        if not isinstance(self.gutter, int) or self.gutter < 0:
            raise DrawAVideoError(f"gutter is {self.gutter!r} but must be a whole number of pixels, 0 or more.")
        if self.order not in ORDERS:
            raise DrawAVideoError(f"order is {self.order!r}; choose one of {', '.join(ORDERS)}.")

    # -- derived sizes -----------------------------------------------------
    @property
    def width(self) -> int:
        return self.cols * self.cell_width + (self.cols - 1) * self.gutter

    @property
    def height(self) -> int:
        return self.rows * self.cell_height + (self.rows - 1) * self.gutter

    @property
    def frames(self) -> int:
        return self.rows * self.cols

    @property
    def flux_tokens(self) -> int:
        """Image tokens FLUX attends over: one per 16x16 px patch."""
        return (self.width // FLUX_MULTIPLE) * (self.height // FLUX_MULTIPLE)

    # -- checks ----------------------------------------------------------
    def flux_problems(self) -> list[str]:
        """Why FLUX cannot draw this layout exactly, one actionable line each (empty if fine)."""
        problems = []
        for name in ("cell_width", "cell_height", "gutter"):
            value = getattr(self, name)
            if value % FLUX_MULTIPLE:
                lower, upper = nearest_multiples(value)
                if name == "gutter" and value < FLUX_MULTIPLE:
                    lower = 0
                fix = f"{lower} or {upper}" if lower != upper else f"{lower}"
                problems.append(
                    f"{name} is {value} px but FLUX needs multiples of {FLUX_MULTIPLE} so cell borders "
                    f"fall on latent patches: use {fix}."
                )
        return problems

    def check_flux(self) -> GridLayout:
        problems = self.flux_problems()
        if problems:
            raise DrawAVideoError(" ".join(problems))
        return self

    # -- frame order -----------------------------------------------------
    def cell_of_frame(self, frame: int) -> tuple[int, int]:
        """(row, col) of the cell that holds frame number `frame` (0-based)."""
        if not 0 <= frame < self.frames:
            raise DrawAVideoError(f"frame {frame} is outside this {self.rows}x{self.cols} grid (0..{self.frames - 1}).")
        if self.order == "column-major":
            return frame % self.rows, frame // self.rows
        row, col = divmod(frame, self.cols)
        if self.order == "serpentine" and row % 2:
            col = self.cols - 1 - col
        return row, col

    def cell_origin(self, row: int, col: int) -> tuple[int, int]:
        """(y, x) pixel of a cell's top-left corner."""
        return row * (self.cell_height + self.gutter), col * (self.cell_width + self.gutter)

    # -- scaling and transport --------------------------------------------
    def scaled(self, factor: Fraction) -> GridLayout:
        """The same grid drawn `factor` times larger; raises if a size would not be whole."""
        sizes = {}
        for name in ("cell_width", "cell_height", "gutter"):
            value = getattr(self, name) * factor
            if value.denominator != 1:
                raise DrawAVideoError(f"{name} {getattr(self, name)} cannot be scaled by {factor} to whole pixels.")
            sizes[name] = int(value)
        return replace(self, **sizes)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> GridLayout:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def describe(self) -> str:
        return (
            f"{self.rows}x{self.cols} grid of {self.cell_width}x{self.cell_height} cells"
            f"{f', {self.gutter} px gutter' if self.gutter else ''}, {self.order}: "
            f"{self.width}x{self.height} px, {self.frames} frames, {self.flux_tokens} FLUX tokens"
        )
