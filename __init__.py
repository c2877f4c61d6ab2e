"""Draw-a-Video: FLUX draws a whole clip as one grid image; these nodes plan, cut and play it."""

if __package__:  # imported as a package: how ComfyUI loads a custom node folder
    from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS
else:  # a lone module (pytest collecting the repo root as a package in importlib mode): nothing to register
    NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS = {}, {}

WEB_DIRECTORY = "./js"

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
