"""Nodes that plan a grid, word its prompt, and cut or build grids of frames."""

from __future__ import annotations

from .engine.errors import DrawAVideoError
from .engine.grid import PAD_MODES, merge_image, split_image, split_latent
from .engine.layout import ORDERS, GridLayout
from .engine.prompt import DEFAULT_SUBJECT, DEFAULT_TEMPLATE, word_prompt
from .engine.registration import register_grid

CATEGORY = "Draw-a-Video/grid"
LAYOUT_TYPE = "GRID_LAYOUT"
LAYOUT_INPUT = (LAYOUT_TYPE, {"tooltip": "The grid layout (from Grid Layout): rows, columns, cell size, gutter and frame order."})


def frames_ui(count: int, size: str) -> dict:
    """What a split node tells the graph editor after a run: how many frames, and their size."""
    return {"frame_count": [int(count)], "frame_size": [size]}


class GridLayoutNode:
    DESCRIPTION = (
        "Plans the grid FLUX draws: rows x columns cells of a fixed size, in a frame order. Outputs the layout "
        "for the other Draw-a-Video nodes and the image width/height for an empty latent (EmptySD3LatentImage). "
        "The method's default: 4x4 cells of 320x192 = a 1280x768 image holding 16 frames."
    )
    CATEGORY = CATEGORY
    FUNCTION = "build"
    RETURN_TYPES = (LAYOUT_TYPE, "INT", "INT", "INT")
    RETURN_NAMES = ("layout", "width", "height", "frames")
    OUTPUT_TOOLTIPS = (
        "The layout: connect it to every node that builds or cuts this grid.",
        "Grid image width in pixels (cols x cell width + gutters).",
        "Grid image height in pixels (rows x cell height + gutters).",
        "Frames per grid (rows x cols).",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "rows": ("INT", {"default": 4, "min": 1, "max": 64, "tooltip": "Cells stacked along the image height."}),
                "cols": ("INT", {"default": 4, "min": 1, "max": 64, "tooltip": "Cells side by side along the image width."}),
                "cell_width": ("INT", {"default": 320, "min": 16, "max": 8192, "step": 16, "tooltip": "Width of one frame in pixels; a multiple of 16 for FLUX."}),
                "cell_height": ("INT", {"default": 192, "min": 16, "max": 8192, "step": 16, "tooltip": "Height of one frame in pixels; a multiple of 16 for FLUX."}),
                "gutter": ("INT", {"default": 0, "min": 0, "max": 512, "step": 16, "tooltip": "Gap between cells in pixels (0 = cells touch); a multiple of 16 for FLUX."}),
                "order": (list(ORDERS), {"default": ORDERS[0], "tooltip": "How frames fill the cells: row by row, column by column, or serpentine (every other row right to left)."}),
            },
            "optional": {
                "frame_stride": ("INT", {"default": 10, "min": 1, "max": 1000, "tooltip": "How many source-video frames apart the drawn frames stand (the method samples every 10th frame). Recorded with the layout."}),
            },
        }

    @classmethod
    def VALIDATE_INPUTS(cls, cell_width=320, cell_height=192, gutter=0):
        # Only the FLUX-size inputs are named here, so ComfyUI still range-checks the others itself;
        # defaults stand in for inputs fed by a link (their values are not known before running).
        try:
            GridLayout(cell_width=cell_width, cell_height=cell_height, gutter=gutter).check_flux()
        except DrawAVideoError as exc:
            return str(exc)
        return True

    def build(self, rows, cols, cell_width, cell_height, gutter, order, frame_stride=10):
        layout = GridLayout(rows, cols, cell_width, cell_height, gutter, order, frame_stride).check_flux()
        return (layout, layout.width, layout.height, layout.frames)


class GridPromptNode:
    DESCRIPTION = (
        "Words the prompt that asks FLUX for a whole clip as one grid, e.g. 'Generate a 16-frame video arranged "
        "in a 4x4 grid, where the blocks represent continuous scenes of driving down the Las Vegas Strip.' "
        "Connect it to CLIPTextEncode's text."
    )
    CATEGORY = CATEGORY
    FUNCTION = "word"
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("prompt",)
    OUTPUT_TOOLTIPS = ("The worded prompt.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "layout": LAYOUT_INPUT,
                "subject": ("STRING", {"default": DEFAULT_SUBJECT, "multiline": True, "tooltip": "What the blocks represent, worded to follow 'where the blocks represent': e.g. 'continuous scenes of driving down the Las Vegas Strip' or 'a blue car driving on Mars'."}),
                "template": ("STRING", {"default": DEFAULT_TEMPLATE, "multiline": True, "tooltip": "The prompt's wording; {frames}, {rows}, {cols} and {subject} are filled in from the layout and subject."}),
            }
        }

    def word(self, layout, subject, template):
        return (word_prompt(layout, subject, template),)


class SplitImageGridNode:
    DESCRIPTION = (
        "Cuts a batch of grid images into their frames, in the layout's frame order: B grids of N cells give "
        "B*N frames. Gutters are dropped. A grid drawn at a whole multiple or fraction of the layout's size is "
        "cut with its cells scaled. With align 'detect' it cuts where the model really drew the cell borders "
        "(up to 16 layout px off) and resizes each frame to the cell size."
    )
    CATEGORY = CATEGORY
    FUNCTION = "split"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("frames",)
    OUTPUT_TOOLTIPS = ("The frames, grid after grid, as one image batch.",)
    ALIGN_MODES = ("off", "detect")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The grid image(s), e.g. from VAEDecode."}),
                "layout": LAYOUT_INPUT,
            },
            "optional": {
                "align": (list(cls.ALIGN_MODES), {"default": "off", "tooltip": "off: cut exactly on the layout's borders. detect: find the borders the model really drew (within 16 px) and cut there; see Find Grid Cells for the search window, a score and an overlay."}),
            },
        }

    def split(self, image, layout, align="off"):
        if align == "detect":
            frames = register_grid(image, layout).frames
        elif align == "off":
            frames = split_image(image, layout)
        else:
            raise DrawAVideoError(f"align is {align!r}; choose one of {', '.join(self.ALIGN_MODES)}.")
        return {"ui": frames_ui(frames.shape[0], f"{frames.shape[2]}x{frames.shape[1]}"), "result": (frames,)}


class SplitLatentGridNode:
    DESCRIPTION = (
        "Cuts a batch of grid latents into per-frame latents without resampling (cells fall on latent borders "
        "when their sizes are multiples of 16 px). Use it to work on frames in latent space, e.g. a per-frame "
        "hi-res pass, then VAEDecode the batch."
    )
    CATEGORY = CATEGORY
    FUNCTION = "split"
    RETURN_TYPES = ("LATENT",)
    RETURN_NAMES = ("frames",)
    OUTPUT_TOOLTIPS = ("One latent per frame, grid after grid; a noise mask is split with them.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "latent": ("LATENT", {"tooltip": "The grid latent(s), e.g. from KSampler."}),
                "layout": LAYOUT_INPUT,
            }
        }

    def split(self, latent, layout):
        frames = split_latent(latent, layout)
        samples = frames["samples"]
        return {"ui": frames_ui(samples.shape[0], f"{samples.shape[3]}x{samples.shape[2]} latent"), "result": (frames,)}


class FramesToGridNode:
    DESCRIPTION = (
        "Tiles a batch of frames into grid images by the layout (the inverse of Split Image Grid). Frames that "
        "don't fill the last grid are padded with the last frame or with black. Use it to feed real footage to "
        "VAEEncode for video-to-video, or to look at a clip as one image."
    )
    CATEGORY = CATEGORY
    FUNCTION = "merge"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("grids",)
    OUTPUT_TOOLTIPS = ("One grid image per rows x cols frames.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The frames, in order; each the layout's cell size (or a whole multiple or fraction of it)."}),
                "layout": LAYOUT_INPUT,
                "pad": (list(PAD_MODES), {"default": PAD_MODES[0], "tooltip": "How to fill cells left empty in the last grid."}),
            }
        }

    def merge(self, images, layout, pad):
        return (merge_image(images, layout, pad),)


NODE_CLASS_MAPPINGS = {
    "DrawAVideo_GridLayout": GridLayoutNode,
    "DrawAVideo_GridPrompt": GridPromptNode,
    "DrawAVideo_SplitImageGrid": SplitImageGridNode,
    "DrawAVideo_SplitLatentGrid": SplitLatentGridNode,
    "DrawAVideo_FramesToGrid": FramesToGridNode,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "DrawAVideo_GridLayout": "Grid Layout (Draw-a-Video)",
    "DrawAVideo_GridPrompt": "Grid Prompt (Draw-a-Video)",
    "DrawAVideo_SplitImageGrid": "Split Image Grid into Frames (Draw-a-Video)",
    "DrawAVideo_SplitLatentGrid": "Split Latent Grid into Frames (Draw-a-Video)",
    "DrawAVideo_FramesToGrid": "Frames to Grid Image (Draw-a-Video)",
}
