"""Nodes that check what FLUX drew: find the real cells, score grids, steady the colours."""

from __future__ import annotations

from . import host
from .engine.color_match import CHUNK, REFERENCE_MODES, match_colors
from .engine.quality import DEFAULT_WEIGHTS, grid_quality, report_json
from .engine.registration import DEFAULT_SEARCH_PX, draw_overlay, register_grid
from .grid_nodes import LAYOUT_INPUT, frames_ui

QUALITY_CATEGORY = "Draw-a-Video/quality"
VIDEO_CATEGORY = "Draw-a-Video/video"

SEARCH_INPUT = (
    "INT",
    {
        "default": DEFAULT_SEARCH_PX,
        "min": 0,
        "max": 256,
        "tooltip": "How far (in layout pixels, scaled if the grid is drawn larger) a cell border may have drifted "
        "from where the layout puts it. Capped below half a cell; 0 keeps the layout's borders and only scores them.",
    },
)


class RegisterGridNode:
    DESCRIPTION = (
        "Finds where the model really drew each cell border (within search_px of the layout's), cuts the frames "
        "there and resizes each to the layout's cell size, so frames don't carry slivers of their neighbours. "
        "Also scores how well each grid follows the layout (adherence: ~1 = clear borders where the layout puts "
        "them, ~0 = no grid at all) and draws an overlay: layout borders green, found borders red. Connect a "
        "decoded grid (VAEDecode) and its layout; send frames on to a video node and overlay to a Preview Image."
    )
    CATEGORY = QUALITY_CATEGORY
    FUNCTION = "register"
    RETURN_TYPES = ("IMAGE", "FLOAT", "STRING", "IMAGE")
    RETURN_NAMES = ("frames", "adherence", "report", "overlay")
    OUTPUT_TOOLTIPS = (
        "The frames cut at the found borders, grid after grid, each the layout's cell size.",
        "Mean adherence over the batch, 0..1 (per-grid values are in the report).",
        "JSON: per grid adherence and the found (start, end) pixels of each cell row and column, plus the layout's.",
        "Each grid with the layout's borders in green and the found borders in red.",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The grid image(s), e.g. from VAEDecode."}),
                "layout": LAYOUT_INPUT,
                "search_px": SEARCH_INPUT,
            }
        }

    def register(self, image, layout, search_px):
        found = register_grid(image, layout, search_px, on_grid=host.Progress(image.shape[0]).step)
        overlay = draw_overlay(image, found)
        frames = found.frames
        return {
            "ui": frames_ui(frames.shape[0], f"{frames.shape[2]}x{frames.shape[1]}"),
            "result": (frames, float(found.adherence.mean()), found.to_json(), overlay),
        }


class GridQualityNode:
    DESCRIPTION = (
        "Scores every grid of a batch as a clip and picks the best: adherence (does it follow the layout), "
        "smoothness (how little consecutive frames change, 0..1) and flicker (frame-brightness wobble, lower is "
        "better), combined into a 0..1 score with the weights below. Sample several seeds as one batch (batch_size "
        "on the empty latent), VAEDecode, connect here; send best_grid on to Split Image Grid."
    )
    CATEGORY = QUALITY_CATEGORY
    FUNCTION = "score"
    RETURN_TYPES = ("STRING", "INT", "IMAGE")
    RETURN_NAMES = ("report", "best_index", "best_grid")
    OUTPUT_TOOLTIPS = (
        "JSON: per grid score, adherence, smoothness, flicker, steadiness, largest_jump; the weights; best_index.",
        "Batch index (0-based) of the highest-scoring grid.",
        "The highest-scoring grid, as drawn (a batch of one).",
    )

    @classmethod
    def INPUT_TYPES(cls):
        weight = lambda name, what: (  # noqa: E731
            "FLOAT",
            {"default": DEFAULT_WEIGHTS[name], "min": 0.0, "max": 1.0, "step": 0.05, "tooltip": f"Weight of {what} in the score (weights are normalised by their sum)."},
        )
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "A batch of grid images, e.g. several seeds decoded with VAEDecode."}),
                "layout": LAYOUT_INPUT,
            },
            "optional": {
                "search_px": SEARCH_INPUT,
                "weight_adherence": weight("adherence", "layout adherence"),
                "weight_smoothness": weight("smoothness", "motion smoothness"),
                "weight_steadiness": weight("steadiness", "steadiness (1 - flicker / 0.05)"),
            },
        }

    def score(self, images, layout, search_px=DEFAULT_SEARCH_PX, weight_adherence=None, weight_smoothness=None, weight_steadiness=None):
        given = {"adherence": weight_adherence, "smoothness": weight_smoothness, "steadiness": weight_steadiness}
        weights = {k: v for k, v in given.items() if v is not None}
        report = grid_quality(images, layout, search_px, weights, on_grid=host.Progress(images.shape[0]).step)
        best = report["best_index"]
        return (report_json(report), best, images[best : best + 1])


class MatchColorsNode:
    DESCRIPTION = (
        "Steadies a clip's colours: moves every frame's colour mean and contrast (per channel in CIE Lab) to a "
        "reference's, removing brightness flicker and colour drift between grids. The reference is the optional "
        "reference image, else the first frame or the clip's typical frame. Connect the frames (e.g. from Split "
        "Image Grid, several grids in a row) and send the result to a video node."
    )
    CATEGORY = VIDEO_CATEGORY
    FUNCTION = "match"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("images",)
    OUTPUT_TOOLTIPS = ("The frames with matched colours, same size and count.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The frames to steady, in clip order."}),
                "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.05, "tooltip": "0 leaves the frames unchanged, 1 matches the reference fully; in between blends."}),
                "reference_mode": (list(REFERENCE_MODES), {"default": REFERENCE_MODES[0], "tooltip": "Without a reference image: match to the first frame, or to the clip's typical frame (mean of all frames' statistics)."}),
            },
            "optional": {
                "reference": ("IMAGE", {"tooltip": "An image whose colours every frame should take (all its pixels pooled); overrides reference_mode."}),
            },
        }

    def match(self, images, strength, reference_mode, reference=None):
        chunks = -(-images.shape[0] // CHUNK)
        return (match_colors(images, strength, reference, reference_mode, CHUNK, on_chunk=host.Progress(chunks).step),)


NODE_CLASS_MAPPINGS = {
    "DrawAVideo_RegisterGrid": RegisterGridNode,
    "DrawAVideo_GridQuality": GridQualityNode,
    "DrawAVideo_MatchColors": MatchColorsNode,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "DrawAVideo_RegisterGrid": "Find Grid Cells (Draw-a-Video)",
    "DrawAVideo_GridQuality": "Grid Quality / Best of Batch (Draw-a-Video)",
    "DrawAVideo_MatchColors": "Match Colors (Draw-a-Video)",
}
