"""The front-end (js/) in a real browser against a real ComfyUI server.

Runs frontend_check.mjs (playwright-core driving Chromium) against the session's `comfy_server`:
the Grid Layout drawing in the text-to-video workflow follows clicks on its widgets, warns about sizes
that are not multiples of 16, survives save/reload and resizing; Save Video's preview plays for mp4,
webm, gif and webp; Split Image Grid shows its frame count; no console error comes from the extension.
Screenshots go to tests/integration/artifacts/ (git-ignored).

Needs, besides COMFYUI_DIR: Node.js, `npm ci` run in tests/integration (playwright-core), and Chromium
(Debian: `apt-get install chromium`; elsewhere set DRAWAVIDEO_CHROMIUM). Skipped, with the reason, without them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SCRIPT = HERE / "frontend_check.mjs"
ARTIFACTS = HERE / "artifacts"
WORKFLOW = REPO_ROOT / "workflows" / "draw_a_video_t2v.json"
GRID_IMAGE = "draw_a_video_frontend_grid.png"

pytestmark = pytest.mark.integration


def _chromium() -> str | None:
    candidates = [os.environ.get("DRAWAVIDEO_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium"]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def _write_grid_image(path: Path) -> None:
    """A 1280x768 grid of 4x4 cells, 320x192 each, numbered 1..16 on distinct colours: a clip that visibly counts."""
    import colorsys

    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=110)  # Pillow >= 10.1
    except TypeError:
        font = ImageFont.load_default()
    image = Image.new("RGB", (1280, 768))
    draw = ImageDraw.Draw(image)
    for frame in range(16):
        row, col = divmod(frame, 4)
        box = (col * 320, row * 192, col * 320 + 319, row * 192 + 191)
        draw.rectangle(box, fill=tuple(round(255 * v) for v in colorsys.hsv_to_rgb(frame / 16, 0.55, 0.95)))
        draw.text((box[0] + 160, box[1] + 96), str(frame + 1), fill="black", font=font, anchor="mm")
    image.save(path)


@pytest.fixture
def browser_tools():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node (Node.js 18+) is not on PATH")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.skip("playwright-core is not installed: run `npm ci` in tests/integration")
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium found: `apt-get install chromium`, or set DRAWAVIDEO_CHROMIUM to its path")
    return node, chromium


def test_frontend_in_browser(comfy_server, browser_tools):
    node, chromium = browser_tools
    _write_grid_image(comfy_server.input_dir / GRID_IMAGE)
    ARTIFACTS.mkdir(exist_ok=True)
    command = [node, str(SCRIPT), "--base", comfy_server.base_url, "--artifacts", str(ARTIFACTS),
               "--chromium", chromium, "--grid-image", GRID_IMAGE]
    if WORKFLOW.is_file():
        command += ["--workflow", str(WORKFLOW)]
    result = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"frontend_check.mjs printed no report (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")

    failed = [f"- {c['name']}: {c['detail']}" for c in report["checks"] if not c["ok"]]
    assert not failed, "browser checks failed (screenshots in tests/integration/artifacts/):\n" + "\n".join(failed)
    assert not report["errors"]["ours"], "console errors from the extension:\n" + "\n".join(report["errors"]["ours"])
    assert len(report["checks"]) >= 20, [c["name"] for c in report["checks"]]
    assert all(Path(p).is_file() for p in report["screenshots"]) and len(report["screenshots"]) >= 6
    assert result.returncode == 0, result.stderr[-3000:]
