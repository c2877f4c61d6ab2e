"""Starting noise that ties a grid's cells together, for the native SamplerCustomAdvanced."""

from __future__ import annotations

from .engine.noise import GridNoise
from .grid_nodes import LAYOUT_INPUT

CATEGORY = "Draw-a-Video/sampling"


class GridNoiseNode:
    DESCRIPTION = (
        "Noise for SamplerCustomAdvanced (use it instead of RandomNoise) in which every cell of the grid shares "
        "part of its starting noise: one cell-sized field, repeated into each cell, is mixed with ordinary noise "
        "as sqrt(shared)*field + sqrt(1-shared)*noise. Cells then start alike (they correlate by exactly 'shared') "
        "while the noise keeps unit variance, which steadies the look from frame to frame. Gutters keep ordinary "
        "noise. shared = 0 is exactly RandomNoise with the same seed. Connect the layout the latent was made with."
    )
    CATEGORY = CATEGORY
    FUNCTION = "get_noise"
    RETURN_TYPES = ("NOISE",)
    RETURN_NAMES = ("noise",)
    OUTPUT_TOOLTIPS = ("Connect to SamplerCustomAdvanced's noise.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "noise_seed": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "control_after_generate": True, "tooltip": "The random seed; the same seed with shared 0 gives RandomNoise's noise exactly."}),
                "layout": LAYOUT_INPUT,
                "shared": ("FLOAT", {"default": 0.3, "min": 0.0, "max": 1.0, "step": 0.05, "tooltip": "How much of each cell's noise is the one field all cells share: 0 = ordinary noise, 1 = every cell starts identical. 0.2-0.4 steadies frames without freezing motion."}),
            }
        }

    def get_noise(self, noise_seed, layout, shared):
        return (GridNoise(noise_seed, layout, shared),)


NODE_CLASS_MAPPINGS = {"DrawAVideo_GridNoise": GridNoiseNode}
NODE_DISPLAY_NAME_MAPPINGS = {"DrawAVideo_GridNoise": "Grid Noise (Draw-a-Video)"}
