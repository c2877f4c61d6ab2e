"""Template thumbnails: workflows/<name>.jpg from the graph-editor screenshots the browser check saves.

    python tests/integration/make_thumbnails.py     # after a run of tests/integration/test_frontend.py

ComfyUI's template browser shows /api/workflow_templates/<pack>/<name>.jpg beside each of a pack's
workflows (a missing file is a broken image). The screenshot is cut to the graph (no side bar, tabs
or status text) and scaled to THUMB_WIDTH; run it again when a workflow's layout changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
WORKFLOWS = HERE.parents[1] / "workflows"
ARTIFACTS = HERE / "artifacts" / "bundled-classic"  # the browser matrix cell of ComfyUI's own frontend, classic canvas
THUMB_WIDTH = 640
# The editor's chrome in the screenshots at their device scale: side bar on the left, tabs and
# workflow menu on top, and the canvas stats on the bottom left.
CROP_LEFT, CROP_TOP, CROP_BOTTOM = 0.035, 0.09, 0.05


def thumbnail(screenshot: Path, target: Path) -> None:
    with Image.open(screenshot) as image:
        width, height = image.size
        graph = image.convert("RGB").crop((round(width * CROP_LEFT), round(height * CROP_TOP), width, round(height * (1 - CROP_BOTTOM))))
        graph.thumbnail((THUMB_WIDTH, THUMB_WIDTH), Image.Resampling.LANCZOS)
        temp = target.with_suffix(".jpg.partial")
        graph.save(temp, "JPEG", quality=82, optimize=True)
        temp.replace(target)


def main() -> int:
    missing = []
    for workflow in sorted(WORKFLOWS.glob("*.json")):
        screenshot = ARTIFACTS / f"workflow_{workflow.stem}.png"
        if not screenshot.is_file():
            missing.append(screenshot.name)
            continue
        target = workflow.with_suffix(".jpg")
        thumbnail(screenshot, target)
        print(f"{target.relative_to(WORKFLOWS.parent)}: {target.stat().st_size // 1024} KiB")
    if missing:
        print("no screenshot (run tests/integration/test_frontend.py first): " + ", ".join(missing), file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
