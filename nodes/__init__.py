"""All of the pack's Python: the engine (pure torch/numpy, in engine/) and thin node modules.

Every module here named `*_nodes.py` declares NODE_CLASS_MAPPINGS and
NODE_DISPLAY_NAME_MAPPINGS; they are gathered below, so adding a node module
needs no edit here. Imports stay relative: ComfyUI has its own top-level `nodes`.
"""

import importlib
import pkgutil

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]


def _gather() -> None:
    mappings, names = {}, {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_nodes")):
        nodes = importlib.import_module(f".{module}", __name__)
        mappings.update(nodes.NODE_CLASS_MAPPINGS)
        names.update(nodes.NODE_DISPLAY_NAME_MAPPINGS)
    globals().update(NODE_CLASS_MAPPINGS=mappings, NODE_DISPLAY_NAME_MAPPINGS=names)


def __getattr__(name: str):
    """The mappings are gathered on first use (ComfyUI's import of the pack asks for them at once), so a
    command such as `python -m nodes.demo` can print its first line before torch is imported."""
    if name in __all__:
        _gather()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
