"""The front-end (js/) in a real browser against a real ComfyUI server, as a matrix: each frontend x each
rendering mode (the classic canvas, and Nodes 2.0: setting Comfy.VueNodes.Enabled).

Frontends: the one bundled with ComfyUI (1.35.9 with 0.8.0), plus every `static` folder listed in
DRAWAVIDEO_FRONTEND_ROOTS (os.pathsep-separated; each served by a server of its own with --front-end-root):

    pip install --target /work/fe158 comfyui-frontend-package==1.58.1
    DRAWAVIDEO_FRONTEND_ROOTS=/work/fe158/comfyui_frontend_package/static  COMFYUI_DIR=... pytest tests/integration/test_frontend.py

Without it the newer frontend's cells are reported as skipped, with that command.
Each cell runs frontend_check.mjs (playwright-core driving Chromium):
the Grid Layout drawing in the text-to-video workflow follows clicks on its widgets, warns about sizes
that are not multiples of 16, survives save/reload and resizing; Save Video's preview plays for mp4,
webm, gif and webp; Split Image Grid shows its frame count; no console error comes from the extension.
And EVERY UI workflow in workflows/ loads in the graph editor (app.loadGraphData) with no missing node
type and no error from our extension, and app.graphToPrompt turns it into its API twin in
workflows/api/ (same node ids and types, links and widget values, compared the way
tests/dav_testkit/workflows.py compares the twins); Grid Layout's docs page opens in the docs panel, and
the editor switched to Chinese shows the node translated. Screenshots go to
tests/integration/artifacts/<frontend>-<mode>/ (git-ignored), e.g. bundled-classic/workflow_<name>.png.

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
from dav_testkit import load_by_path
from dav_testkit.workflows import compare_graphs, graph_from_api

HERE = Path(__file__).resolve().parent


FRONTENDS = load_by_path(HERE / "frontends.py", "draw_a_video_it_frontends")  # the name conftest.py loads it under
frontend_label = FRONTENDS.frontend_label
NEWER = "newer"  # a matrix column standing for DRAWAVIDEO_FRONTEND_ROOTS when it is not set
FRONTEND_ROOTS = [None] + ([p for p in os.environ.get("DRAWAVIDEO_FRONTEND_ROOTS", "").split(os.pathsep) if p] or [NEWER])
MODES = ["classic", "nodes2"]
CELLS = [(root, mode) for root in FRONTEND_ROOTS for mode in MODES]


def cell_name(cell) -> str:
    root, mode = cell
    return f"{NEWER if root == NEWER else frontend_label(root)}-{mode}"

REPO_ROOT = HERE.parents[1]
SCRIPT = HERE / "frontend_check.mjs"
ARTIFACTS = HERE / "artifacts"
WORKFLOW = REPO_ROOT / "workflows" / "draw_a_video_t2v.json"
GRID_IMAGE = "draw_a_video_frontend_grid.png"
I2V_PICTURE = "draw_a_video_i2v_input.png"
UI_WORKFLOWS = sorted((REPO_ROOT / "workflows").glob("*.json"))

pytestmark = pytest.mark.integration


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


@pytest.fixture(scope="module")
def browser_tools():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node (Node.js 18+) is not on PATH")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.skip("playwright-core is not installed: run `npm ci` in tests/integration")
    chromium = FRONTENDS.chromium()
    if chromium is None:
        pytest.skip("no Chromium found: `apt-get install chromium`, or set DRAWAVIDEO_CHROMIUM to its path")
    return node, chromium


@pytest.fixture(scope="module", params=CELLS, ids=cell_name)
def browser_report(request, comfy_server_for, browser_tools):
    """Runs frontend_check.mjs once per matrix cell (frontend x mode): (its JSON report, the finished process)."""
    root, mode = request.param
    if root == NEWER:
        pytest.skip("no newer frontend: `pip install --target /work/fe158 comfyui-frontend-package==1.58.1` and set "
                    "DRAWAVIDEO_FRONTEND_ROOTS=/work/fe158/comfyui_frontend_package/static")
    node, chromium = browser_tools
    server = comfy_server_for(root)
    _write_grid_image(server.input_dir / GRID_IMAGE)
    # The picture the image-to-video workflows' Load Image names (the editor fetches its preview on load).
    _write_grid_image(server.input_dir / I2V_PICTURE)
    artifacts = ARTIFACTS / cell_name(request.param)
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    command = [node, str(SCRIPT), "--base", server.base_url, "--artifacts", str(artifacts), "--mode", mode,
               "--chromium", chromium, "--grid-image", GRID_IMAGE, "--workflows-dir", str(REPO_ROOT / "workflows"),
               "--locale-check", "zh"]
    if WORKFLOW.is_file():
        command += ["--workflow", str(WORKFLOW)]
    result = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=900)
    try:
        report = json.loads((artifacts / "frontend_report.json").read_text())
    except (OSError, ValueError):
        pytest.fail(f"frontend_check.mjs wrote no report (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    failed = [c["name"] for c in report["checks"] if not c["ok"]]
    print(f"\n{cell_name(request.param)}: frontend {report['frontend']}, {len(report['checks']) - len(failed)}/{len(report['checks'])} checks passed, "
          f"{len(report['screenshots'])} screenshots in {artifacts}; console errors: {len(report['errors']['ours'])} ours, "
          f"{len(report['errors']['backend'])} backend mismatches, {len(report['errors']['environment'])} of the test environment, "
          f"{len(report['errors']['others'])} others")
    return report, result


def test_frontend_in_browser(browser_report):
    report, result = browser_report
    failed = [f"- {c['name']}: {c['detail']}" for c in report["checks"] if not c["ok"]]
    assert not failed, "browser checks failed (screenshots in tests/integration/artifacts/):\n" + "\n".join(failed)
    assert not report["errors"]["ours"], "console errors from the extension:\n" + "\n".join(report["errors"]["ours"])
    assert len(report["checks"]) >= 25, [c["name"] for c in report["checks"]]
    assert all(Path(p).is_file() for p in report["screenshots"]) and len(report["screenshots"]) >= 10
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def server_specs(comfy_server):
    return comfy_server.object_info()


def declared_inputs_only(prompt: dict, specs: dict) -> tuple[dict, list[str]]:
    """The prompt without inputs its node's server spec doesn't declare (ComfyUI ignores those: e.g. the
    'preview' and 'previewMode' widgets the frontend adds to PreviewAny), and the list of what was dropped."""
    kept, dropped = {}, []
    for nid, node in prompt.items():
        spec = specs.get(node["class_type"], {}).get("input", {})
        names = set(spec.get("required", {})) | set(spec.get("optional", {}))
        inputs = {k: v for k, v in node["inputs"].items() if k in names}
        dropped += [f"{node['class_type']} #{nid}.{k}" for k in node["inputs"] if k not in names]
        kept[nid] = {**node, "inputs": inputs}
    return kept, dropped


@pytest.mark.parametrize("path", UI_WORKFLOWS, ids=lambda p: p.stem)
def test_ui_workflow_in_the_graph_editor(browser_report, server_specs, path):
    report, _ = browser_report
    entry = next((w for w in report["workflows"] if w["file"] == path.name), None)
    assert entry is not None, f"frontend_check.mjs did not load {path.name}"
    assert "error" not in entry, entry.get("error")
    assert entry["reported"] == [] and entry["unregistered"] == [], \
        f"node types missing in the graph editor: reported {entry['reported']}, unregistered {entry['unregistered']}"
    assert entry["nodeCount"] == entry["graphNodeCount"], entry
    assert entry["withErrors"] == [], entry["withErrors"]
    assert entry["ourErrors"] == [], "console errors from the extension while loading:\n" + "\n".join(entry["ourErrors"])
    twin = json.loads((REPO_ROOT / "workflows" / "api" / path.name).read_text())
    from_editor, frontend_only = declared_inputs_only(entry["prompt"], server_specs)
    if frontend_only:
        print(f"\n{path.stem}: inputs only the frontend sends (not in the node specs, ignored): {', '.join(frontend_only)}")
    problems = compare_graphs(graph_from_api(from_editor), graph_from_api(twin))
    assert problems == [], f"app.graphToPrompt({path.name}) differs from workflows/api/{path.name}:\n" + "\n".join(problems)
    assert Path(entry["screenshot"]).is_file()
    # Sizes as the editor draws them (previews, frontend-added widgets): nodes must not cover each other.
    assert entry["overlaps"] == [], f"{path.name}: overlapping nodes in the graph editor: {'; '.join(entry['overlaps'])}"
    print(f"\n{path.stem}: {entry['nodeCount']} nodes, shown at {entry['scale']:.2f}x in {entry['screenshot']}")


def test_ui_workflows_are_listed_and_served_as_templates(comfy_server):
    """Workflow > Browse Templates lists a pack's workflows/*.json (not the API twins one folder down)
    under the pack's folder name, and the editor fetches each from /api/workflow_templates/<pack>/."""
    listed = comfy_server.get_json("/workflow_templates")
    packs = [name for name, names in listed.items() if set(names) & {p.stem for p in UI_WORKFLOWS}]
    assert len(packs) == 1, f"/workflow_templates: {listed}"
    assert sorted(listed[packs[0]]) == sorted(p.stem for p in UI_WORKFLOWS), listed[packs[0]]
    for path in UI_WORKFLOWS:
        served = comfy_server.get_json(f"/api/workflow_templates/{packs[0]}/{path.name}")
        assert served == json.loads(path.read_text()), f"/api/workflow_templates/{packs[0]}/{path.name} is not workflows/{path.name}"
        thumbnail = comfy_server.request(f"/api/workflow_templates/{packs[0]}/{path.stem}.jpg")
        assert thumbnail == path.with_suffix(".jpg").read_bytes(), f"the template browser gets no thumbnail for {path.stem}"
