"""Cut a grid into frames and build a grid from frames: pixels and latents.

Cells are read through strided views (`Tensor.unfold`), so a split or a merge
copies each value exactly once and a round trip is bit-exact. Tensors follow
ComfyUI: IMAGE [B,H,W,C], LATENT samples [B,C,H,W], MASK [B,H,W].
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import torch

from .errors import DrawAVideoError
from .layout import GridLayout

PAD_MODES = ("repeat last frame", "black")


def _whole_scale(have_h: int, have_w: int, need_h: int, need_w: int) -> Fraction | None:
    """have/need if it is the same on both axes and a whole multiple or fraction, else None."""
    scale = Fraction(have_w, need_w)
    if scale != Fraction(have_h, need_h) or (scale.numerator != 1 and scale.denominator != 1):
        return None
    return scale


def _scaled(layout: GridLayout, scale: Fraction, what: str, size: str) -> GridLayout:
    try:
        return layout.scaled(scale)
    except DrawAVideoError:
        k = scale.denominator
        raise DrawAVideoError(
            f"{what} is {size}, 1/{k} of the layout's size, but cell {layout.cell_width}x{layout.cell_height} "
            f"and gutter {layout.gutter} are not all divisible by {k}, so cell borders would fall between "
            f"{what} pixels; use cell sizes and gutter in multiples of {k} (16 for FLUX)."
        ) from None


@lru_cache(maxsize=256)  # pure and called per split: keep Fraction arithmetic off the hot path
def fit_layout(layout: GridLayout, height: int, width: int, what: str = "image", unit: int = 1) -> GridLayout:
    """`layout` in the units of a `height` x `width` grid tensor.

    The tensor may be the layout's size, a whole multiple of it (a grid drawn
    larger) or a whole fraction (a latent: 1/8 for FLUX.1); cells scale with it.
    `unit` is how many pixels one tensor element covers, for the error message.
    """
    shown = f"{width}x{height}" + (f" (x{unit} = {width * unit}x{height * unit} px)" if unit != 1 else "")
    scale = _whole_scale(height, width, layout.height, layout.width)
    if scale is None:
        raise DrawAVideoError(
            f"{what} is {shown} but the {layout.rows}x{layout.cols} layout needs {layout.width}x{layout.height} "
            f"(or a whole multiple or fraction of it, such as {layout.width * 2}x{layout.height * 2} or "
            f"{layout.width // 2}x{layout.height // 2}); connect the layout the grid was made with, or resize the {what}."
        )
    return _scaled(layout, scale, what, shown)


@lru_cache(maxsize=256)
def fit_cells(layout: GridLayout, height: int, width: int, what: str = "images") -> GridLayout:
    """`layout` scaled so its cells are `height` x `width` (frames drawn larger, or latent frames)."""
    scale = _whole_scale(height, width, layout.cell_height, layout.cell_width)
    if scale is None:
        raise DrawAVideoError(
            f"{what} are {width}x{height} but the layout's cells are {layout.cell_width}x{layout.cell_height} "
            "(or a whole multiple or fraction of that); resize the frames, or connect the layout they were cut with."
        )
    return _scaled(layout, scale, what, f"{width}x{height}")


def cells_view(x: torch.Tensor, layout: GridLayout, h_dim: int, w_dim: int) -> torch.Tensor:
    """A view of `x` as [B, rows, cols, *cell], cell dims in `x`'s own order.

    One `as_strided` (not unfold + unfold + permute): a split of one latent grid
    is tens of microseconds, so every op per call shows.
    """
    stride = x.stride()
    cell_sizes = [layout.cell_height if d == h_dim else layout.cell_width if d == w_dim else x.shape[d]
                  for d in range(1, x.dim())]
    return x.as_strided(
        (x.shape[0], layout.rows, layout.cols, *cell_sizes),
        (stride[0], (layout.cell_height + layout.gutter) * stride[h_dim],
         (layout.cell_width + layout.gutter) * stride[w_dim], *stride[1:]),
        x.storage_offset(),
    )


def _copy_cells(cells: torch.Tensor, frames: torch.Tensor, layout: GridLayout, to_frames: bool) -> None:
    """Copy between a [B, rows, cols, *cell] cell view and frames [B, N, *cell] in the layout's order.

    Frame order is expressed as strides (a transpose for column-major, one copy
    per column for serpentine's reversed rows), never as a gather: each value
    is copied once by torch's strided copy, which keeps a split near memcpy speed.
    """
    b, rows, cols, cell = frames.shape[0], layout.rows, layout.cols, frames.shape[2:]
    if layout.order == "column-major":
        placed = frames.view(b, cols, rows, *cell).transpose(1, 2)
    else:
        placed = frames.view(b, rows, cols, *cell)
    if layout.order == "serpentine":  # odd rows run right to left
        pairs = [(cells[:, 0::2], placed[:, 0::2])]
        pairs += [(cells[:, 1::2, c], placed[:, 1::2, cols - 1 - c]) for c in range(cols)]
    else:
        pairs = [(cells, placed)]
    for cell_part, frame_part in pairs:
        (frame_part.copy_(cell_part) if to_frames else cell_part.copy_(frame_part))


def _fill_gutters(out: torch.Tensor, layout: GridLayout, h_dim: int, w_dim: int, fill: float) -> None:
    """Fill only the gutter strips; the cells are written next, so the grid is written once."""
    if layout.gutter:
        for dim, cell, count in ((h_dim, layout.cell_height, layout.rows), (w_dim, layout.cell_width, layout.cols)):
            for k in range(1, count):
                out.narrow(dim, k * (cell + layout.gutter) - layout.gutter, layout.gutter).fill_(fill)


def split_grid(x: torch.Tensor, layout: GridLayout, h_dim: int, w_dim: int) -> torch.Tensor:
    """[B, ..grid..] -> [B*N, ..cell..]: every grid's frames, grids in batch order.

    `layout` must already be in `x`'s units (see `fit_layout`).
    """
    cells = cells_view(x, layout, h_dim, w_dim)
    frames = x.new_empty(x.shape[0], layout.frames, *cells.shape[3:])
    _copy_cells(cells, frames, layout, to_frames=True)
    return frames.view(-1, *frames.shape[2:])


def merge_grid(
    frames: torch.Tensor, layout: GridLayout, h_dim: int, w_dim: int, pad: str = PAD_MODES[0], fill: float = 0.0
) -> torch.Tensor:
    """[M, ..cell..] -> [ceil(M/N), ..grid..]; gutters get `fill`, a short last grid is padded."""
    if pad not in PAD_MODES:
        raise DrawAVideoError(f"pad is {pad!r}; choose one of {', '.join(PAD_MODES)}.")
    n, m = layout.frames, frames.shape[0]
    grids, rest = divmod(m, n)
    shape = list(frames.shape[1:])
    shape[h_dim - 1], shape[w_dim - 1] = layout.height, layout.width
    out = frames.new_empty(grids + bool(rest), *shape)
    _fill_gutters(out, layout, h_dim, w_dim, fill)
    cells = cells_view(out, layout, h_dim, w_dim)
    frames = frames.contiguous()
    if grids:
        _copy_cells(cells[:grids], frames[: grids * n].view(grids, n, *frames.shape[1:]), layout, to_frames=False)
    if rest:  # only the short last grid is padded, so the input is never copied whole
        tail = frames[-1:].expand(n - rest, *frames.shape[1:]) if pad == PAD_MODES[0] else frames.new_zeros(n - rest, *frames.shape[1:])
        _copy_cells(cells[grids:], torch.cat([frames[grids * n :], tail])[None], layout, to_frames=False)
    return out


# -- pixels -----------------------------------------------------------------

def check_image(image: torch.Tensor, what: str) -> None:
    if not isinstance(image, torch.Tensor) or image.dim() != 4 or not 1 <= image.shape[-1] <= 4:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise DrawAVideoError(f"{what} must be a ComfyUI IMAGE batch [B,H,W,C] with 1-4 channels, got {shape}.")
    if image.shape[0] == 0:
        raise DrawAVideoError(f"{what} is an empty batch (0 images); connect a node that outputs images.")


def split_image(image: torch.Tensor, layout: GridLayout) -> torch.Tensor:
    """IMAGE grids [B,H,W,C] -> frames [B*N,h,w,C]."""
    check_image(image, "image")
    fitted = fit_layout(layout, image.shape[1], image.shape[2], "image")
    return split_grid(image, fitted, 1, 2)


def merge_image(frames: torch.Tensor, layout: GridLayout, pad: str = PAD_MODES[0]) -> torch.Tensor:
    """IMAGE frames [M,h,w,C] -> grids [ceil(M/N),H,W,C]; gutters are black."""
    check_image(frames, "images")
    fitted = fit_cells(layout, frames.shape[1], frames.shape[2], "images")
    return merge_grid(frames, fitted, 1, 2, pad)


# -- latents ----------------------------------------------------------------

def _check_latent(latent, what: str = "latent") -> torch.Tensor:
    samples = latent.get("samples") if isinstance(latent, dict) else None
    if not isinstance(samples, torch.Tensor) or samples.dim() != 4:
        shape = tuple(samples.shape) if isinstance(samples, torch.Tensor) else None
        raise DrawAVideoError(
            f"{what} must be an image LATENT with samples [B,C,H,W] (FLUX.1, SD3, SDXL), got {shape}; "
            "video-model latents with a time axis are not grids."
        )
    if samples.shape[0] == 0:
        raise DrawAVideoError(f"{what} is an empty batch (0 latents).")
    return samples


def _as_mask4(mask: torch.Tensor) -> torch.Tensor:
    """ComfyUI noise masks come as [H,W], [B,H,W] or [B,1,H,W]; use [B,1,H,W]."""
    return mask.reshape(-1, 1, mask.shape[-2], mask.shape[-1])


def split_latent(latent: dict, layout: GridLayout) -> dict:
    """LATENT grids {"samples": [B,C,H,W]} -> frames [B*N,C,h,w].

    The VAE factor f is layout size / latent size (8 for FLUX.1); cells must be
    divisible by it. A noise_mask (pixel or latent sized) is split with the
    samples; a one-grid mask gives N masks, which ComfyUI cycles over the batch
    exactly as the frames are ordered. batch_index follows each grid's frames.
    """
    samples = _check_latent(latent)
    width = samples.shape[3]
    unit = layout.width // width if layout.width % width == 0 else 1  # pixels per latent element, for messages
    fitted = fit_layout(layout, samples.shape[2], samples.shape[3], "latent", unit=unit)
    out = {k: v for k, v in latent.items() if k not in ("samples", "noise_mask", "batch_index")}
    out["samples"] = split_grid(samples, fitted, 2, 3)
    if latent.get("noise_mask") is not None:
        mask = _as_mask4(latent["noise_mask"])
        out["noise_mask"] = split_grid(mask, fit_layout(layout, mask.shape[2], mask.shape[3], "noise_mask"), 2, 3)
    if latent.get("batch_index") is not None:
        n = layout.frames
        out["batch_index"] = [i * n + j for i in latent["batch_index"] for j in range(n)]
    return out


def merge_latent(latent: dict, layout: GridLayout, pad: str = PAD_MODES[0]) -> dict:
    """LATENT frames [M,C,h,w] -> grids [ceil(M/N),C,H,W] (gutters and black padding are zeros)."""
    samples = _check_latent(latent, "latent frames")
    fitted = fit_cells(layout, samples.shape[2], samples.shape[3], "latent frames")
    out = {k: v for k, v in latent.items() if k not in ("samples", "noise_mask", "batch_index")}
    out["samples"] = merge_grid(samples, fitted, 2, 3, pad)
    if latent.get("noise_mask") is not None:
        mask = _as_mask4(latent["noise_mask"])
        out["noise_mask"] = merge_grid(mask, fit_cells(layout, mask.shape[2], mask.shape[3], "noise_mask frames"), 2, 3, pad)
    return out
