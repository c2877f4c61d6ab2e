"""Correlated starting noise for a grid: one shared field repeated into every cell.

Frames of a clip share most of their content, but ordinary noise gives each
cell of a grid an independent start, so the sampler may draw cells that agree
poorly (the "dropped frames" feel). Mixing in one cell-sized noise field that
every cell shares correlates the cells' starts while keeping unit variance:

    cell noise = sqrt(shared) * S + sqrt(1 - shared) * I

S is one field the size of a cell (per grid), I is ordinary full-size noise.
Two cells then correlate by exactly `shared`; gutters keep plain noise I.
At shared = 0 the noise is bit-for-bit ComfyUI's own (comfy.sample.prepare_noise).

>>> noise = GridNoise(seed=42, layout=GridLayout(), shared=0.3)
>>> noise.generate_noise({"samples": torch.zeros(1, 16, 96, 160)}).shape
torch.Size([1, 16, 96, 160])
"""

from __future__ import annotations

import math

import torch

from .errors import DrawAVideoError
from .grid import cells_view, fit_layout
from .layout import GridLayout


def prepare_noise(samples: torch.Tensor, seed: int, batch_index=None) -> tuple[torch.Tensor, torch.Generator]:
    """ComfyUI's `comfy.sample.prepare_noise` for a plain latent tensor, plus the generator after it.

    Same calls in the same order, so the noise is bit-identical to what
    RandomNoise / KSampler draw for `seed`; the generator is returned so more
    noise can be drawn after it deterministically.
    """
    generator = torch.manual_seed(seed)
    if batch_index is None:
        noise = torch.randn(samples.size(), dtype=samples.dtype, layout=samples.layout, generator=generator, device="cpu")
        return noise, generator
    # One draw per index up to the largest, kept where an index asks for it:
    # a latent picked out of a batch gets the noise it had in the batch.
    wanted = sorted(set(int(i) for i in batch_index))
    drawn = {}
    for i in range(wanted[-1] + 1):
        one = torch.randn([1, *samples.shape[1:]], dtype=samples.dtype, layout=samples.layout, generator=generator, device="cpu")
        if i in wanted:
            drawn[i] = one
    return torch.cat([drawn[int(i)] for i in batch_index]), generator


def _check_samples(samples, layout: GridLayout) -> GridLayout:
    """`layout` in latent units for `samples`; a clear error when the latent is not this grid."""
    if not isinstance(samples, torch.Tensor) or samples.is_nested or samples.dim() != 4:
        # ComfyUI's NestedTensor (several latents in one, e.g. video + audio) is not a torch.Tensor.
        shape = tuple(samples.shape) if isinstance(samples, torch.Tensor) and not samples.is_nested else type(samples).__name__
        raise DrawAVideoError(
            f"Grid Noise needs an image latent [B,C,H,W] (FLUX.1: C=16), got {shape}; "
            "video-model latents with a time axis are not grids."
        )
    height, width = samples.shape[2], samples.shape[3]
    try:
        return fit_layout(layout, height, width, "latent")
    except DrawAVideoError:
        raise DrawAVideoError(
            f"Grid Noise: the latent is {width}x{height} (latent units; {width * 8}x{height * 8} px at FLUX's 8x) "
            f"but the {layout.rows}x{layout.cols} layout is {layout.width}x{layout.height} px "
            f"(latent {layout.width // 8}x{layout.height // 8}); make the empty latent from the layout's width and "
            "height outputs (EmptySD3LatentImage), or connect the layout this grid was made with."
        ) from None


def check_shared(shared: float) -> float:
    shared = float(shared)
    if not 0.0 <= shared <= 1.0 or math.isnan(shared):
        raise DrawAVideoError(f"shared is {shared} but must be between 0 (ordinary noise) and 1 (every cell identical).")
    return shared


def grid_noise(samples: torch.Tensor, layout: GridLayout, seed: int, shared: float, batch_index=None) -> torch.Tensor:
    """Noise for the grid latent(s) `samples`, every cell sharing a `shared` part of it.

    The base noise is exactly ComfyUI's for `seed`; then, from the same
    generator, one cell-sized field per grid (per batch index, when the latent
    has one, so a grid picked out of a batch keeps its noise).
    """
    shared = check_shared(shared)
    fitted = _check_samples(samples, layout)
    noise, generator = prepare_noise(samples, seed, batch_index)
    if shared == 0.0:
        return noise
    indices = list(range(samples.shape[0])) if batch_index is None else [int(i) for i in batch_index]
    cell_shape = [1, samples.shape[1], fitted.cell_height, fitted.cell_width]
    fields = [
        torch.randn(cell_shape, dtype=samples.dtype, layout=samples.layout, generator=generator, device="cpu")
        for _ in range(max(indices) + 1)
    ]
    field = torch.cat([fields[i] for i in indices])
    keep, mix = math.sqrt(1.0 - shared), math.sqrt(shared)
    cells = cells_view(noise, fitted, 2, 3)  # [B, rows, cols, C, h, w], a view: gutters untouched
    cells.mul_(keep).add_(field[:, None, None], alpha=mix)
    return noise


class GridNoise:
    """A NOISE for SamplerCustomAdvanced, shaped like ComfyUI's Noise_RandomNoise.

    SamplerCustomAdvanced reads `.seed` and calls `generate_noise(latent_dict)`
    with the LATENT dict (after fixing an empty latent's channel count).
    """

    def __init__(self, seed: int, layout: GridLayout, shared: float):
        self.seed = seed
        self.layout = layout
        self.shared = check_shared(shared)

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        samples = input_latent["samples"]
        return grid_noise(samples, self.layout, self.seed, self.shared, input_latent.get("batch_index"))
