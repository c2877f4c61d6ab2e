"""All of the pack's Python: the engine (pure torch/numpy, in engine/) and thin node modules.

Every module here named `*_nodes.py` declares NODE_CLASS_MAPPINGS and
NODE_DISPLAY_NAME_MAPPINGS; they are gathered below, so adding a node module
needs no edit here. Imports stay relative: ComfyUI has its own top-level `nodes`.
"""

import importlib
import pkgutil

NODE_CLASS_MAPPINGS = {}
NODE_DISPLAY_NAME_MAPPINGS = {}

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_nodes")):
    _nodes = importlib.import_module(f".{_module}", __name__)
    NODE_CLASS_MAPPINGS.update(_nodes.NODE_CLASS_MAPPINGS)
    NODE_DISPLAY_NAME_MAPPINGS.update(_nodes.NODE_DISPLAY_NAME_MAPPINGS)
