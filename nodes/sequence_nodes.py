"""Nodes that go past one grid: keyframe grids to inpaint, in-between assembly, joining clips."""

from __future__ import annotations

from .engine.clips import join_clips
from .engine.keyframes import MODES, assemble_inbetweens, keyframe_grids
from .grid_nodes import LAYOUT_INPUT

CATEGORY = "Draw-a-Video/sequence"


class KeyframeGridNode:
    DESCRIPTION = (
        "Places known frames into cells of the layout and outputs the grid image(s) plus a mask of the cells left "
        "to draw (1 = draw, 0 = keep, gutters 0: ComfyUI's noise-mask convention). Connect image and mask to "
        "InpaintModelConditioning (pixels, mask; noise_mask on) or VAEEncode + SetLatentNoiseMask, then sample: only "
        "the masked cells are drawn. Cells are numbered 0..N-1 in the layout's frame order. "
        "Modes: 'continue' -- the last 'overlap' frames of a clip open a new grid (cells 0..overlap-1) and the rest "
        "is drawn; join the two clips with Join Clips (same overlap). "
        "'in-between' -- the frames are keyframes, placed in every other cell (0, 2, 4, ...) and the cells between "
        "are drawn, doubling the frame rate: a 4x4 grid holds 8 keyframes; consecutive grids share a keyframe and the "
        "last grid is slid back to end on the last keyframe, so K keyframes need ceil((K-1)/7) grids (16 keyframes: 3 "
        "grids holding k0-k7, k7-k14, k8-k15). The grids come out as one batch with one mask each; sample the batch, "
        "Split Image Grid, then Assemble In-between Frames gives 2K-1 frames (16 -> 31). "
        "'custom' -- the frames go, in order, into the cells listed in 'cells' (-1 = the last cell, so '0,-1' puts two "
        "pictures at the start and the end of any layout: image to video). "
        "Frames of another size are centre-cropped and resized to the cell size. Cells to draw start as a blend of "
        "the nearest known frames, so a denoise below 1 starts from a sensible guess."
    )
    CATEGORY = CATEGORY
    FUNCTION = "build"
    RETURN_TYPES = ("IMAGE", "MASK", "INT", "INT")
    RETURN_NAMES = ("image", "mask", "cells_to_draw", "keyframes")
    OUTPUT_TOOLTIPS = (
        "The grid image(s) with the known frames in place (one per grid; in-between mode may give several).",
        "One mask per grid, grid-sized: 1 on the cells to draw, 0 on known cells and gutters.",
        "How many cells are masked to draw, over all grids.",
        "How many input frames were placed (in in-between mode: the keyframe count for Assemble In-between Frames).",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "frames": ("IMAGE", {"tooltip": "The known frames: a clip to continue, the keyframes, or the frames for the custom cells."}),
                "layout": LAYOUT_INPUT,
                "mode": (list(MODES), {"default": MODES[0], "tooltip": "continue: the clip's last frames open the grid. in-between: keyframes in every other cell. custom: frames into the listed cells."}),
                "overlap": ("INT", {"default": 4, "min": 1, "max": 4095, "tooltip": "continue mode: how many of the clip's last frames open the new grid (use the same number in Join Clips)."}),
                "cells": ("STRING", {"default": "0,5,10,15", "tooltip": "custom mode: cells receiving the frames in order, 0-based in the layout's frame order, e.g. 0,5,10,15 or 0-3,12; -1 is the last cell (0,-1: first and last)."}),
            }
        }

    def build(self, frames, layout, mode, overlap, cells):
        image, mask, plan = keyframe_grids(frames, layout, mode, overlap, cells)
        placed = len({h for grid in plan.cells for h in grid if h is not None})
        return (image, mask, plan.draw_count, placed)


class AssembleInbetweensNode:
    DESCRIPTION = (
        "Puts the frames of sampled in-between grids (Keyframe Grid in 'in-between' mode -> sampler -> VAEDecode -> "
        "Split Image Grid) back in time order: k0 g0 k1 g1 ... k(K-1), 2K-1 frames (16 keyframes -> 31). Each "
        "in-between comes from the grid that showed both of its keyframes; cells drawn after a grid's last keyframe "
        "and in-betweens drawn twice are dropped. Connect the original keyframes to keep them exactly as they were "
        "(otherwise their copies from the sampled grids are used)."
    )
    CATEGORY = CATEGORY
    FUNCTION = "assemble"
    RETURN_TYPES = ("IMAGE", "INT")
    RETURN_NAMES = ("frames", "frame_count")
    OUTPUT_TOOLTIPS = ("The clip at twice the keyframes' frame rate.", "Frames in the clip (2 x keyframe_count - 1).")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "frames": ("IMAGE", {"tooltip": "All frames of the sampled in-between grids, from Split Image Grid."}),
                "layout": LAYOUT_INPUT,
                "keyframe_count": ("INT", {"default": 16, "min": 2, "max": 4096, "tooltip": "How many keyframes went into Keyframe Grid (its 'keyframes' output)."}),
            },
            "optional": {
                "keyframes": ("IMAGE", {"tooltip": "Optional: the original keyframes, to use instead of their copies from the sampled grids."}),
            },
        }

    def assemble(self, frames, layout, keyframe_count, keyframes=None):
        clip = assemble_inbetweens(frames, layout, keyframe_count, keyframes)
        return (clip, clip.shape[0])


class JoinClipsNode:
    DESCRIPTION = (
        "Joins clip_b after clip_a, dropping clip_b's first 'overlap' frames (the frames a 'continue' Keyframe Grid "
        "repeated from the end of clip_a), with an optional cross-fade of 'crossfade' frames at the seam (0 = cut). "
        "Frames out: len(a) + len(b) - overlap - crossfade; two chained 4x4 grids with overlap 4 give 16 + 16 - 4 = 28."
    )
    CATEGORY = CATEGORY
    FUNCTION = "join"
    RETURN_TYPES = ("IMAGE", "INT")
    RETURN_NAMES = ("frames", "frame_count")
    OUTPUT_TOOLTIPS = ("The joined clip.", "Frames in the joined clip.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "clip_a": ("IMAGE", {"tooltip": "The first clip's frames."}),
                "clip_b": ("IMAGE", {"tooltip": "The next clip's frames, same size; it may open with the last 'overlap' frames of clip_a."}),
                "overlap": ("INT", {"default": 4, "min": 0, "max": 4095, "tooltip": "How many of clip_b's first frames repeat clip_a's last (Keyframe Grid's overlap); they are dropped. 0 = none."}),
                "crossfade": ("INT", {"default": 0, "min": 0, "max": 4095, "tooltip": "Frames over which clip_a's end fades linearly into the rest of clip_b; each costs one frame. 0 = a plain cut."}),
            }
        }

    def join(self, clip_a, clip_b, overlap, crossfade):
        clip = join_clips(clip_a, clip_b, overlap, crossfade)
        return (clip, clip.shape[0])


NODE_CLASS_MAPPINGS = {
    "DrawAVideo_KeyframeGrid": KeyframeGridNode,
    "DrawAVideo_AssembleInbetweens": AssembleInbetweensNode,
    "DrawAVideo_JoinClips": JoinClipsNode,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "DrawAVideo_KeyframeGrid": "Keyframe Grid (Draw-a-Video)",
    "DrawAVideo_AssembleInbetweens": "Assemble In-between Frames (Draw-a-Video)",
    "DrawAVideo_JoinClips": "Join Clips (Draw-a-Video)",
}
