"""The live player (js/live_player.js) in a real browser while a real ComfyUI samples a grid.

Runs live_player_check.mjs (playwright-core driving Chromium) against the session's `comfy_server`, in the
classic canvas and in Nodes 2.0 (Comfy.VueNodes.Enabled): the text-to-video workflow with the tiny FLUX
files, 128x64 cells (a 512x256 grid) and enough sampler steps to catch the run mid-sampling. ComfyUI sends
latent2rgb previews (start the server with COMFYUI_EXTRA_ARGS="--preview-method latent2rgb"; without it
the check sets the editor's "Live preview method" to latent2rgb, which the frontend sends with the prompt).
Two screenshots taken during sampling must show the player live, with the layout's 16 frames and two
different frames; pause and the frame rate work; when the run ends the player shows the saved clip; no
console error comes from the extension. Screenshots: tests/integration/artifacts/live_player_*.png.

LIVE_PLAYER_STEPS (default 40) sets the steps; LIVE_PLAYER_MODES (default "classic,vue") the modes;
LIVE_PLAYER_TAG names the screenshots (e.g. the frontend version when run with --front-end-root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dav_testkit import load_by_path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SCRIPT = HERE / "live_player_check.mjs"
ARTIFACTS = HERE / "artifacts"
WORKFLOW = REPO_ROOT / "workflows" / "draw_a_video_t2v.json"

pytestmark = pytest.mark.integration


def test_live_player_plays_the_grid_while_it_samples(comfy_server):
    node, chromium = shutil.which("node"), load_by_path(HERE / "frontends.py", "draw_a_video_it_frontends").chromium()
    if node is None or chromium is None or not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.skip("needs node, Chromium and `npm ci` in tests/integration (playwright-core)")
    ARTIFACTS.mkdir(exist_ok=True)
    server_previews = "--preview-method" in os.environ.get("COMFYUI_EXTRA_ARGS", "")
    command = [node, str(SCRIPT), "--base", comfy_server.base_url, "--artifacts", str(ARTIFACTS), "--chromium", chromium,
               "--workflow", str(WORKFLOW), "--models", json.dumps(comfy_server.models),
               "--steps", os.environ.get("LIVE_PLAYER_STEPS", "40"), "--modes", os.environ.get("LIVE_PLAYER_MODES", "classic,vue"),
               "--preview-method", "default" if server_previews else "latent2rgb"]
    if os.environ.get("LIVE_PLAYER_TAG"):
        command += ["--tag", os.environ["LIVE_PLAYER_TAG"]]
    result = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=3000)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"live_player_check.mjs printed no report (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    (ARTIFACTS / f"live_player_report{'_' + os.environ['LIVE_PLAYER_TAG'] if os.environ.get('LIVE_PLAYER_TAG') else ''}.json").write_text(
        json.dumps(report, indent=1) + "\n")
    for entry in report["checks"]:
        print(f"{'ok  ' if entry['ok'] else 'FAIL'} {entry['name']}" + ("" if entry["ok"] else f": {entry['detail']}"))
    print("states:", json.dumps(report["states"], indent=None)[:3000])
    print("screenshots:", *report["screenshots"], sep="\n  ")
    if report["errors"]["others"]:
        print("console errors not from the extension:", *report["errors"]["others"][:10], sep="\n  ")
    failed = [f"- {c['name']}: {c['detail']}" for c in report["checks"] if not c["ok"]]
    assert not failed, "live player checks failed (screenshots in tests/integration/artifacts/):\n" + "\n".join(failed)
    assert not report["errors"]["ours"], "console errors from the extension:\n" + "\n".join(report["errors"]["ours"])
    modes = os.environ.get("LIVE_PLAYER_MODES", "classic,vue").split(",")
    assert len(report["checks"]) >= 11 * len(modes), [c["name"] for c in report["checks"]]
    assert result.returncode == 0, result.stderr[-3000:]
