"""The browser checks' surroundings: naming the frontends of the matrix (conftest.py and test_frontend.py)
and finding Chromium (test_frontend.py and test_live_player.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def chromium() -> str | None:
    candidates = [os.environ.get("DRAWAVIDEO_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium"]
    return next((c for c in candidates if c and Path(c).is_file()), None)


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
