"""Naming the frontends of the browser matrix (conftest.py and test_frontend.py both use it)."""

from __future__ import annotations

from pathlib import Path


def frontend_label(front_end_root: str | None) -> str:
    """'bundled', or the version of the comfyui-frontend-package a --front-end-root folder belongs to
    (its dist-info next to the package), else the folder's name."""
    if not front_end_root:
        return "bundled"
    root = Path(front_end_root).expanduser().resolve()
    for parent in (root.parent, root.parent.parent):
        for info in sorted(parent.glob("comfyui_frontend_package-*.dist-info")):
            return info.name.removeprefix("comfyui_frontend_package-").removesuffix(".dist-info")
    return root.name
