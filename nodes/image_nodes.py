"""Nodes that bring a still picture into a grid: fit it to the layout's cell (image to video)."""

from __future__ import annotations

from .engine.image_fit import FITS, PAD_COLORS, fit_picture
from .grid_nodes import LAYOUT_INPUT

CATEGORY = "Draw-a-Video/sequence"


class FitImageToCellNode:
    DESCRIPTION = (
        "Fits a picture (or a batch of pictures) to the layout's cell size with its aspect ratio kept, ready to go "
        "into a cell of Keyframe Grid for image to video. 'cover' scales the picture until it fills the cell and "
        "crops the centre (nothing stretched, no bands); 'pad' scales it to fit inside the cell and fills the rest "
        "with pad_color (nothing cut off). A picture is never enlarged: one smaller than the cell is refused, as is "
        "a picture with an alpha channel (say what shows through it first)."
    )
    CATEGORY = CATEGORY
    FUNCTION = "fit"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("image",)
    OUTPUT_TOOLTIPS = ("The picture(s) at exactly the cell's width x height, for Keyframe Grid's frames.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The picture to animate, e.g. from Load Image: RGB, at least the cell's size."}),
                "layout": LAYOUT_INPUT,
                "fit": (list(FITS), {"default": FITS[0], "tooltip": "cover: fill the cell and crop the centre. pad: keep the whole picture and fill the bands with pad_color."}),
                "pad_color": (list(PAD_COLORS), {"default": "black", "tooltip": "pad only: the colour of the bands beside or above and below the picture."}),
            }
        }

    def fit(self, image, layout, fit, pad_color):
        return (fit_picture(image, layout, fit, pad_color),)


NODE_CLASS_MAPPINGS = {"DrawAVideo_FitImageToCell": FitImageToCellNode}
NODE_DISPLAY_NAME_MAPPINGS = {"DrawAVideo_FitImageToCell": "Fit Image to Cell (Draw-a-Video)"}
