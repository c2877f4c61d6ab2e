"""Every shipped API workflow (workflows/api/*.json) runs on a real ComfyUI with the tiny FLUX files.

For each workflow file the test
1. swaps model names for the tiny files and shrinks the work, by generic rules keyed on node class
   and input name (no per-file edits; see `tiny_prompt`):
   - UNETLoader, DualCLIPLoader, VAELoader, LoraLoaderModelOnly (and the pack's diffusers loader
     and LoRA) get the tiny models (a UNETLoader naming a FLUX.1 Fill file gets the tiny Fill DiT); every VAELoader gets the fast taef1-layout VAE except in the
     text-to-video run, which decodes with the full-size FLUX ae layout (see FULL_VAE_WORKFLOWS);
   - every "steps" input is capped at STEPS;
   - Grid Layout cells shrink to SMALL_CELL (rows, columns, gutter and order stay, so the
     workflow's logic -- keyframe cells, overlaps, frame counts -- is unchanged), and every Grid
     Prompt gets one constant text, so ComfyUI (--cache-lru) encodes it with T5 once per session;
   - the text-to-video workflow keeps its 4x4 grid of 320x192 cells and its worded prompt: the
     foundation issue's done-when is "writes an mp4 of 16 frames at 320x192";
2. writes or uploads the inputs the workflow reads (INPUT_MAKERS);
3. queues it with POST /prompt, waits on /history, times every node from the websocket events;
4. fetches every output file through /view and decodes it: it must match EXPECTATIONS exactly.

A workflow without an EXPECTATIONS entry fails, so a new workflow can't slip through untested.
The training workflow (UNETLoader -> Make FLUX Trainable -> TrainLoraNode) really trains (1 step) and
SaveLoRA writes output/loras/...; the last test then loads that LoRA in the text-to-video workflow
(shrunk like the others): no "lora key not loaded" in the server log, and the video differs from the
same prompt at strength 0.
Per-workflow timings (total, per node, the Draw-a-Video nodes' share) are printed and written to
tests/integration/artifacts/timings.json.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from dav_testkit.workflows import MODEL_FILE_INPUT

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
API_DIR = REPO_ROOT / "workflows" / "api"
WORKFLOWS = sorted(API_DIR.glob("*.json"))
ARTIFACTS = HERE / "artifacts"
TIMINGS_FILE = ARTIFACTS / "timings.json"

T2V = "draw_a_video_t2v"
TRAIN = "train_driving_lora"
OUTPUT_LORAS = "loras"  # SaveLoRA's sub-folder of output/, which the server also searches for LoRAs (conftest)
STEPS = 1
TRAIN_STRIDE = 3  # the dataset builder's stride in the shrunk training workflow: the clips are short
FOOTAGE = REPO_ROOT / "tests" / "data" / "footage" / "bbb_edit.mp4"  # real footage with fades and cuts
SMALL_CELL = {"cell_width": 64, "cell_height": 32}
CONSTANT_SUBJECT = "a test scene"
CONSTANT_TEMPLATE = "Generate a video arranged in a grid, where the blocks represent continuous scenes."
# The full-size FLUX ae decode of a 1280x768 grid takes minutes on a CPU; the t2v run pays it once to
# prove the real VAE layout end to end, the others use the taef1 layout (same latent, ~6x faster).
FULL_VAE_WORKFLOWS = set() if os.environ.get("DRAWAVIDEO_TEST_FAST_VAE") else {T2V}


@dataclass(frozen=True)
class Expect:
    """Output files of every `node` (class_type) of the workflow, together: `files` files, each
    decoding to `frames` frames of width x height."""

    node: str
    frames: int
    width: int
    height: int
    files: int = 1


@dataclass(frozen=True)
class WrittenFiles:
    """Files a workflow writes without listing them in its outputs (SaveLoRA, a dataset folder):
    exactly `count` new files match `pattern` in ComfyUI's `folder` ("output" or "input"). Each
    image must be width x height; each .safetensors must be a LoRA of finite tensors."""

    folder: str
    pattern: str
    count: int
    width: int = 0
    height: int = 0


# One entry per workflow file in workflows/api (sizes are after the swaps above: 4x4 grids of
# 64x32 cells = 256x128 px, except the text-to-video workflow's 320x192 cells = 1280x768 px).
EXPECTATIONS: dict[str, list] = {
    # 16 frames of 320x192; the drawn grid is previewed at 1280x768.
    T2V: [Expect("DrawAVideo_SaveVideo", 16, 320, 192), Expect("PreviewImage", 1, 1280, 768)],
    # Two chained 4x4 grids, overlap 4: 16 + 16 - 4 = 28 frames.
    "long_video": [Expect("DrawAVideo_SaveVideo", 28, 64, 32)],
    # 16 keyframes, in-betweens drawn in 3 grids: 2 * 16 - 1 = 31 frames.
    "inbetween": [Expect("DrawAVideo_SaveVideo", 31, 64, 32)],
    # 4 grids drawn, the best one previewed and cut into 16 frames.
    "best_of_4": [Expect("DrawAVideo_SaveVideo", 16, 64, 32), Expect("PreviewImage", 1, 256, 128)],
    # 16 frame latents upscaled 2x and refined: 16 frames of 128x64.
    "hires": [Expect("DrawAVideo_SaveVideo", 16, 128, 64)],
    # Every 10th frame of the uploaded clip (16 of them) redrawn as one grid: 16 frames.
    "v2v": [Expect("DrawAVideo_SaveVideo", 16, 64, 32)],
    # The diffusers pipeline draws one grid, previewed and cut into 16 frames.
    "draw_a_video_diffusers": [Expect("DrawAVideo_SaveVideo", 16, 64, 32), Expect("PreviewImage", 1, 256, 128)],
    # A picture in cell 0 of a 4x4 grid, the other 15 cells drawn (FLUX.1-dev; FLUX.1 Fill): 16 frames.
    "i2v": [Expect("DrawAVideo_SaveVideo", 16, 64, 32), Expect("PreviewImage", 1, 256, 128)],
    "i2v_fill": [Expect("DrawAVideo_SaveVideo", 16, 64, 32), Expect("PreviewImage", 1, 256, 128)],
    # At stride 3 (TRAIN_STRIDE) a 4x4 grid spans 46 frames: the test clip gives 3 grids, the real footage
    # (tests/data/footage/bbb_edit.mp4) 1 (frames 48-93; 0-45 hold a fade-in, 96-141 a cut at 132), all
    # in input/draw_a_video_grids; one shard of their latents in output/draw_a_video_latents (one caption,
    # encoded once); 1 training step, checked finite; SaveLoRA writes output/loras/draw_a_video_driving_1_steps_*.
    TRAIN: [WrittenFiles("input", "draw_a_video_grids/*.png", 4, 256, 128),
            WrittenFiles("input", "draw_a_video_grids/*.txt", 4),
            WrittenFiles("output", "draw_a_video_latents/shard_*.pkl", 1),
            WrittenFiles("output", "loras/draw_a_video_driving_1_steps_*_.safetensors", 1)],
}


# (class_type, input) -> tiny model role (comfy_server.models)
MODEL_ROLES = {
    ("UNETLoader", "unet_name"): "dit",
    ("DualCLIPLoader", "clip_name1"): "clip_l",
    ("DualCLIPLoader", "clip_name2"): "t5xxl",
    ("VAELoader", "vae_name"): "vae_fast",
    ("LoraLoaderModelOnly", "lora_name"): "lora",
    ("LoraLoader", "lora_name"): "lora",
    ("DrawAVideo_DiffusersFluxLoader", "model_folder"): "diffusers",
    ("DrawAVideo_DiffusersLora", "lora_name"): "diffusers_lora",
}
# (class_type, input) -> value for the CPU test machine
FIXED_VALUES = {
    ("DrawAVideo_DiffusersFluxLoader", "transformer_file"): "(from folder)",
    ("DrawAVideo_DiffusersFluxLoader", "dtype"): "fp32",
}
# Inputs that name a model file (dav_testkit's pattern) or a diffusers model folder: each must be covered
# by MODEL_ROLES (else the test says so).
MODEL_INPUT = re.compile(MODEL_FILE_INPUT.pattern + "|^model_folder$")


def is_link(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def tiny_prompt(name: str, prompt: dict, models: dict, shrink: bool | None = None) -> dict:
    """The workflow with tiny models and small work, by the generic rules in the module docstring.
    `shrink` (default: every workflow but the text-to-video one) applies the small cells, the constant
    prompt text and the fast VAE."""
    shrink = name != T2V if shrink is None else shrink
    prompt = copy.deepcopy(prompt)
    for nid, node in prompt.items():
        cls, inputs = node["class_type"], node["inputs"]
        for key, value in list(inputs.items()):
            if is_link(value):
                continue
            role = MODEL_ROLES.get((cls, key))
            if role == "vae_fast" and not shrink and name in FULL_VAE_WORKFLOWS:
                role = "vae"
            if role == "dit" and "fill" in str(value).lower():  # FLUX.1 Fill (flux1-fill-dev): the tiny Fill DiT
                role = "dit_fill"
            if role:
                inputs[key] = models[role]
            elif (cls, key) in FIXED_VALUES:
                inputs[key] = FIXED_VALUES[(cls, key)]
            elif MODEL_INPUT.match(key):
                pytest.fail(f"{name}: node {nid} ({cls}).{key} = {value!r} names a model file with no tiny stand-in; "
                            "add a rule to MODEL_ROLES in test_workflows_api.py")
            elif key == "steps" and isinstance(value, int):
                inputs[key] = min(value, STEPS)
        if shrink and cls == "DrawAVideo_GridLayout":
            inputs.update({k: v for k, v in SMALL_CELL.items() if not is_link(inputs.get(k))})
        if shrink and cls == "DrawAVideo_GridPrompt":
            inputs.update(subject=CONSTANT_SUBJECT, template=CONSTANT_TEMPLATE)
        if shrink and cls == "DrawAVideo_VideosToGridDataset":
            inputs["stride"] = TRAIN_STRIDE
    return prompt


def shrunk_t2v(models: dict) -> dict:
    """The text-to-video workflow shrunk like the others (64x32 cells, the constant prompt, the taef1 VAE)."""
    return tiny_prompt(T2V, json.loads((API_DIR / f"{T2V}.json").read_text()), models, shrink=True)


# -- inputs a workflow reads --------------------------------------------------------------------

def write_test_video(path: Path, frames: int = 170, width: int = 160, height: int = 96, fps: int = 30) -> None:
    """A short clip with smooth motion (a gradient sliding sideways): no scene cuts, every frame differs."""
    import imageio_ffmpeg
    import numpy as np

    x = np.arange(width, dtype=np.float32)[None, :, None]
    y = np.arange(height, dtype=np.float32)[:, None, None]
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         output_params=["-crf", "18"], macro_block_size=16)
    writer.send(None)
    for i in range(frames):
        r = (x + 2 * i) % width / width
        g = y / height + 0 * x
        b = 0.5 + 0.4 * np.sin((x + y) / 17 + i / 9)
        frame = np.concatenate([np.broadcast_to(c, (height, width, 1)) for c in (r, g, b)], axis=2)
        writer.send(np.ascontiguousarray((frame * 255).clip(0, 255).astype(np.uint8)))
    writer.close()


def grid_png(width: int, height: int) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    yy, xx = np.mgrid[0:height, 0:width]
    pixels = np.stack([xx * 255 // max(width - 1, 1), yy * 255 // max(height - 1, 1), (xx + yy) % 256], axis=2)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def provide_video(server, value, tmp_path) -> str:
    """A 170-frame clip uploaded under the workflow's own file name (every 10th frame: 17 frames)."""
    path = tmp_path / Path(value).name
    write_test_video(path)
    return server.upload(path.read_bytes(), path.name)


def provide_video_folder(server, value, tmp_path) -> str:
    """The workflow's folder name, inside the input folder, holding the test clip and a real one (one caption)."""
    import shutil

    folder = server.input_dir / value
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "clip_0.mp4").is_file():
        write_test_video(folder / "clip_0.mp4")
        shutil.copy(FOOTAGE, folder / FOOTAGE.name)
    return value


def provide_image(server, value, tmp_path) -> str:
    return server.upload(grid_png(256, 128), Path(value).name)


# (class_type, input) -> maker(server, workflow value, tmp_path) -> the value to use
INPUT_MAKERS = {
    ("DrawAVideo_LoadVideoFrames", "video"): provide_video,
    ("LoadVideo", "file"): provide_video,
    ("DrawAVideo_VideosToGridDataset", "video_folder"): provide_video_folder,
    ("LoadImage", "image"): provide_image,
}


def provide_inputs(server, prompt: dict, tmp_path) -> dict:
    for node in prompt.values():
        for key, value in node["inputs"].items():
            maker = INPUT_MAKERS.get((node["class_type"], key))
            if maker and not is_link(value):
                node["inputs"][key] = maker(server, value, tmp_path)
    return prompt


# -- outputs ------------------------------------------------------------------------------------

def output_files(entry: dict, prompt: dict, node_class: str) -> list[dict]:
    items = []
    for nid, ui in entry["outputs"].items():
        if prompt[nid]["class_type"] == node_class:
            items += [i for i in ui.get("images", []) + ui.get("gifs", []) + ui.get("videos", []) if "filename" in i]
    return items


def files_in(server, folder: str) -> list[str]:
    root = server.input_dir if folder == "input" else server.output_dir
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]


def check_written_files(server, expect: WrittenFiles, added: list[str]) -> None:
    """`added`: the files the workflow added to expect.folder (sorted relative paths)."""
    import fnmatch

    root = server.input_dir if expect.folder == "input" else server.output_dir
    new = [f for f in added if fnmatch.fnmatch(f, expect.pattern)]
    assert len(new) == expect.count, f"{expect.folder}/{expect.pattern}: {len(new)} new files, expected {expect.count}: {new}"
    for relative in new:
        path = root / relative
        if path.suffix == ".safetensors":
            import torch
            from safetensors.torch import load_file

            tensors = load_file(str(path))
            lora = [k for k in tensors if re.search(r"lora_(up|down|A|B)\.weight$", k)]
            assert lora, f"{relative} holds no LoRA weights: {list(tensors)[:10]}"
            assert all(torch.isfinite(t.float()).all() for t in tensors.values()), f"{relative} holds NaN or inf"
            # TrainLoraNode starts every lora_down at zero (so the LoRA starts as a no-op): a non-zero one
            # proves an optimizer step ran.
            down = [k for k in lora if re.search(r"lora_(down|A)\.weight$", k)]
            assert any(tensors[k].abs().max() > 0 for k in down), f"{relative}: every lora_down is zero (never trained)"
            print(f"{relative}: {path.stat().st_size} bytes, {len(tensors)} tensors ({len(lora)} LoRA matrices)")
        elif expect.width:
            media = server.probe(path)
            assert (media.frames, media.width, media.height) == (1, expect.width, expect.height), (relative, media)
        else:
            assert path.stat().st_size > 0, relative


_timings: dict[str, dict] = {}
_trained_loras: list[Path] = []   # LoRA files the training workflow wrote this session (for the LoRA test)


@pytest.fixture(scope="module", autouse=True)
def timings_report():
    yield
    if not _timings:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    TIMINGS_FILE.write_text(json.dumps(_timings, indent=1) + "\n")
    print("\n\nWorkflow timings (tests/integration/artifacts/timings.json):")
    width = max(map(len, _timings))
    for name, t in _timings.items():
        print(f"  {name:{width}s} {t['total_seconds']:8.1f} s   Draw-a-Video nodes {t['pack_seconds']:7.1f} s "
              f"({100 * t['pack_share']:.1f} %)   wall {t['wall_seconds']:.1f} s")


def test_server_keeps_node_results_across_prompts(comfy_server):
    """The fixture runs ComfyUI with --cache-lru: a node result survives a prompt in between that doesn't
    use it (ComfyUI's classic cache would drop it). That is what lets every shrunk workflow reuse one T5
    encode of the constant prompt text (see CONSTANT_TEMPLATE)."""
    color = uuid.uuid4().int % 0xFFFFFF

    def prompt(color, prefix):
        return {"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 32, "batch_size": 2, "color": color}},
                "2": {"class_type": "DrawAVideo_SaveVideo",
                      "inputs": {"images": ["1", 0], "fps": 8.0, "format": "mp4 (h264)", "quality": 85, "loop_count": 0,
                                 "pingpong": False, "filename_prefix": prefix, "save_output": True}}}

    comfy_server.run_timed(prompt(color, "DrawAVideo/lru/a"), timeout=300)
    _, between = comfy_server.run_timed(prompt(color ^ 0xFFFFFF, "DrawAVideo/lru/b"), timeout=300)
    assert not any(n["cached"] for n in between.nodes)
    _, again = comfy_server.run_timed(prompt(color, "DrawAVideo/lru/c"), timeout=300)
    cached = {n["id"]: n["cached"] for n in again.nodes}
    assert cached == {"1": True, "2": False}, f"EmptyImage was computed again: is ComfyUI running with --cache-lru? {again.nodes}"


def test_every_workflow_has_an_expectation():
    names = {p.stem for p in WORKFLOWS}
    assert T2V in names
    missing = sorted(names - set(EXPECTATIONS))
    assert not missing, f"workflows with no entry in EXPECTATIONS (add what their outputs must decode to): {missing}"
    stale = sorted(set(EXPECTATIONS) - names)
    assert not stale, f"EXPECTATIONS for workflows that are gone: {stale}"


def run_workflow(server, path: Path, tmp_path) -> None:
    """Shrink, feed, run and time one workflow file, and check its outputs against EXPECTATIONS
    (a LoRA the training workflow writes is kept in _trained_loras)."""
    name = path.stem
    if name not in EXPECTATIONS:
        pytest.fail(f"no EXPECTATIONS entry for workflows/api/{path.name}")
    prompt = provide_inputs(server, tiny_prompt(name, json.loads(path.read_text()), server.models), tmp_path)
    before = {folder: set(files_in(server, folder)) for folder in ("input", "output")}

    started = time.monotonic()
    entry, timings = server.run_timed(prompt, timeout=3600, check=False)
    wall = time.monotonic() - started
    print("\n" + timings.summary(f"{name} (wall {wall:.1f} s)"))
    _timings[name] = {"wall_seconds": round(wall, 3), **timings.as_dict()}
    if entry["status"]["status_str"] != "success":
        pytest.fail(f"{name} failed: {json.dumps(entry['status'], indent=1)[:6000]}\n{server.log_tail()}")

    added = {folder: sorted(set(files_in(server, folder)) - before[folder]) for folder in before}
    for expect in EXPECTATIONS[name]:
        if isinstance(expect, WrittenFiles):
            check_written_files(server, expect, added[expect.folder])
        else:
            check_outputs(server, entry, prompt, expect, tmp_path / "outputs")
    if name == TRAIN:
        _trained_loras.extend(server.output_dir / f for f in added["output"] if f.endswith(".safetensors"))


def check_outputs(server, entry: dict, prompt: dict, expect: Expect, into: Path) -> list:
    """The files `expect.node` lists in the history entry, fetched through /view and decoded:
    their number, frame counts and sizes must match `expect`. Returns them (media_check.Media)."""
    items = output_files(entry, prompt, expect.node)
    assert len(items) == expect.files, f"{expect.node}: {len(items)} files, expected {expect.files}: {items}"
    decoded = []
    for item in items:
        if item.get("type", "output") == "output":
            assert (server.output_dir / item.get("subfolder", "") / item["filename"]).is_file(), item
        media = server.fetch_media(item, into)
        got = (media.frames, media.width, media.height)
        assert got == (expect.frames, expect.width, expect.height), \
            f"{expect.node} wrote {item['filename']}: {got} frames/width/height, expected {(expect.frames, expect.width, expect.height)}"
        decoded.append(media)
    return decoded


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_workflow_runs_and_writes_what_it_promises(comfy_server, path, tmp_path):
    run_workflow(comfy_server, path, tmp_path)


# -- the trained LoRA in the text-to-video workflow -------------------------------------------------

@pytest.fixture
def trained_lora(comfy_server, tmp_path) -> Path:
    """The LoRA the training workflow wrote in this session (output/loras/...): the one the workflow test
    trained, or, when this test runs on its own (-k), one trained here by the same workflow."""
    if not _trained_loras:
        run_workflow(comfy_server, API_DIR / f"{TRAIN}.json", tmp_path)
    assert len(_trained_loras) == 1, _trained_loras
    return _trained_loras[0]


def video_pixels(path: Path):
    """Every frame of a video file as one uint8 array (frames, height, width, 3)."""
    import imageio_ffmpeg
    import numpy as np

    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        width, height = next(reader)["size"]
        frames = [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]
    finally:
        reader.close()
    return np.stack(frames)


def image_pixels(path: Path):
    """An image file's pixels as a uint8 array (height, width, 3)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_trained_lora_loads_cleanly_and_changes_text_to_video(comfy_server, trained_lora, tmp_path):
    """Issue 4's done-when: the text-to-video workflow loads the LoRA that the training workflow saved,
    with no "lora key not loaded" line in the server log, and the LoRA really applies: the same prompt
    draws a different video with the LoRA at strength 1 than at strength 0 (ComfyUI then skips the LoRA).
    The workflow is shrunk like the others (64x32 cells, 1 step, the constant prompt, the taef1 VAE)."""
    loras_dir = comfy_server.output_dir / OUTPUT_LORAS
    lora_name = trained_lora.relative_to(loras_dir).as_posix()
    choices = comfy_server.object_info("LoraLoaderModelOnly")["LoraLoaderModelOnly"]["input"]["required"]["lora_name"][0]
    assert lora_name in choices, f"LoraLoaderModelOnly does not offer {lora_name} (output/loras is an extra loras folder): {choices}"

    assert_log_check_catches_unloaded_keys(comfy_server, loras_dir)

    base = shrunk_t2v(comfy_server.models)
    loader = [nid for nid, node in base.items() if node["class_type"] == "LoraLoaderModelOnly"]
    assert len(loader) == 1, f"{T2V} should load one LoRA: {loader}"
    videos, grids = {}, {}
    # strength 1 and 0, then a control with no LoRA node at all (the sampler takes the UNETLoader's model):
    # it must match strength 0 bit for bit, so the strength-1 difference is the LoRA's, not run-to-run noise.
    for strength in (1.0, 0.0, None):
        prompt = without_node(base, loader[0]) if strength is None else copy.deepcopy(base)
        tag = "no_lora" if strength is None else f"{strength:g}"
        if strength is not None:
            prompt[loader[0]]["inputs"].update(lora_name=lora_name, strength_model=strength)
        for node in prompt.values():
            if node["class_type"] == "DrawAVideo_SaveVideo":
                node["inputs"]["filename_prefix"] = f"DrawAVideo/t2v_trained_lora_{tag}"
        log_start = len(comfy_server.log_text())
        started = time.monotonic()
        entry, timings = comfy_server.run_timed(prompt, timeout=3600)
        wall = time.monotonic() - started
        label = f"{T2V} shrunk, " + ("no LoRA node" if strength is None else f"trained LoRA at strength {strength:g}")
        print("\n" + timings.summary(f"{label} (wall {wall:.1f} s)"))
        _timings[label] = {"wall_seconds": round(wall, 3), **timings.as_dict()}

        if strength is not None:
            ran = {n["id"]: not n["cached"] for n in timings.nodes}
            assert ran.get(loader[0]), f"LoraLoaderModelOnly did not run: {timings.nodes}"
            log = wait_for_log_line(comfy_server, log_start, "Prompt executed in")
            bad = comfy_server.lora_problems(log)
            assert not bad, f"loading {lora_name} at strength {strength:g}:\n" + "\n".join(bad[:20])
            if strength:
                print(f"server log for that prompt: {len(log.splitlines())} lines, none matching {comfy_server.BAD_LORA_LINE.pattern!r}")

        into = tmp_path / tag
        [video] = check_outputs(comfy_server, entry, prompt, Expect("DrawAVideo_SaveVideo", 16, 64, 32), into)
        [grid] = check_outputs(comfy_server, entry, prompt, Expect("PreviewImage", 1, 256, 128), into)
        videos[strength], grids[strength] = video_pixels(video.path), image_pixels(grid.path)

    import numpy as np

    assert np.array_equal(grids[None], grids[0.0]) and np.array_equal(videos[None], videos[0.0]), \
        "strength 0 and no LoRA node drew different pictures: the run is not reproducible, so a LoRA difference proves nothing"
    video_diff = np.abs(videos[1.0].astype(np.int16) - videos[0.0].astype(np.int16))
    grid_diff = np.abs(grids[1.0].astype(np.int16) - grids[0.0].astype(np.int16))
    print(f"trained LoRA vs strength 0 (= no LoRA, bit for bit): video frames differ by mean {video_diff.mean():.3f} / "
          f"max {video_diff.max()} grey levels ({100 * (video_diff > 0).mean():.1f} % of values); the decoded grid (png) "
          f"by mean {grid_diff.mean():.3f} / max {grid_diff.max()} ({100 * (grid_diff > 0).mean():.1f} % of values)")
    assert grid_diff.max() > 0, "the grid drawn with the trained LoRA equals the one drawn without it: the LoRA does not apply"
    assert video_diff.max() > 0, "the video drawn with the trained LoRA equals the one drawn without it: the LoRA does not apply"


def assert_log_check_catches_unloaded_keys(server, loras_dir: Path) -> None:
    """Control for the log check: a LoRA with a key no FLUX layer has, loaded on its own (a LoRA loader
    patches nothing until sampling, so no sampler is needed), must put a line ComfyServer.lora_problems finds
    into this server's log segment. Otherwise a clean segment would prove nothing."""
    import torch
    from safetensors.torch import save_file

    name = "draw_a_video_test_unmapped_key.safetensors"
    key = "diffusion_model.no_such_layer"
    save_file({f"{key}.lora_up.weight": torch.ones(8, 2), f"{key}.lora_down.weight": torch.ones(2, 8)}, str(loras_dir / name))
    prompt = {"1": {"class_type": "UNETLoader", "inputs": {"unet_name": server.models["dit"], "weight_dtype": "default"}},
              "2": {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["1", 0], "lora_name": name, "strength_model": 1.0}},
              "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}}}
    log_start = len(server.log_text())
    server.run(prompt, timeout=600)
    log = wait_for_log_line(server, log_start, "Prompt executed in")
    bad = server.lora_problems(log)
    assert any(key in line for line in bad), f"the log check missed an unmapped LoRA key; log segment:\n{log[-4000:]}"


def without_node(prompt: dict, nid: str) -> dict:
    """A copy of `prompt` without node `nid`; links to its output 0 go to what its first linked input was."""
    prompt = copy.deepcopy(prompt)
    removed = prompt.pop(nid)
    source = next(value for value in removed["inputs"].values() if is_link(value))
    for node in prompt.values():
        for key, value in node["inputs"].items():
            if is_link(value) and value[0] == nid:
                node["inputs"][key] = list(source)
    return prompt


def wait_for_log_line(server, since: int, text: str, timeout: float = 30.0) -> str:
    """The server log from offset `since`, once it holds `text` (ComfyUI may log a prompt's last
    lines just after /history lists it)."""
    deadline = time.monotonic() + timeout
    while True:
        log = server.log_text(since=since)
        if text in log or time.monotonic() > deadline:
            assert text in log, f"no {text!r} in the server log after offset {since}:\n{log[-4000:]}"
            return log
        time.sleep(0.2)


# -- the README's headless example, as written ---------------------------------------------------

def test_readme_headless_example_runs_as_written(comfy_server, tmp_path):
    """The README's Python example (POST /prompt, poll /history, fetch through /view), run unchanged but
    for the server address, from a folder laid out like ComfyUI's (custom_nodes/ComfyUI-Draw-a-Video/
    workflows/api/draw_a_video_t2v.json, here the shrunk tiny-model copy): it must leave the video and
    the grid preview in its working folder."""
    import subprocess
    import sys

    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Headless use over the HTTP API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    default_server = 'SERVER = "http://127.0.0.1:8188"'
    assert default_server in code, "the README example no longer sets SERVER the way this test expects"
    code = code.replace(default_server, f'SERVER = "{comfy_server.base_url}"')

    api_file = tmp_path / "custom_nodes" / "ComfyUI-Draw-a-Video" / "workflows" / "api" / f"{T2V}.json"
    api_file.parent.mkdir(parents=True)
    api_file.write_text(json.dumps(shrunk_t2v(comfy_server.models)))
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"the README example failed:\n{run.stderr[-3000:]}\n{comfy_server.log_tail()}"

    videos = sorted(tmp_path.glob("*.mp4"))
    previews = sorted(tmp_path.glob("*.png"))
    assert len(videos) == 1 and len(previews) == 1, sorted(p.name for p in tmp_path.iterdir())
    video, preview = comfy_server.probe(videos[0]), comfy_server.probe(previews[0])
    assert (video.frames, video.size) == (16, (64, 32)), video
    assert preview.size == (256, 128), preview
    print(f"README example fetched {videos[0].name} (16 frames of 64x32) and {previews[0].name}")


# -- training twice in one server, right after text-to-video ----------------------------------------

def test_training_runs_twice_in_one_server_right_after_t2v(comfy_server, tmp_path):
    """Issue 12: one integration run once saved a NaN LoRA, and a re-run in the same server was NaN too.
    Text-to-video with the LoRA at strength 1 first, then the training workflow twice (another seed, so
    Train LoRA runs again on the cached dataset): both losses and both LoRAs must be finite (Check Trained
    LoRA stops a run on a NaN loss, naming the step; check_written_files reads every tensor back)."""
    t2v = provide_inputs(comfy_server, shrunk_t2v(comfy_server.models), tmp_path)
    entry, _ = comfy_server.run_timed(t2v, timeout=3600, check=False)
    assert entry["status"]["status_str"] == "success", json.dumps(entry["status"])[:4000]
    base = provide_inputs(comfy_server, tiny_prompt(TRAIN, json.loads((API_DIR / f"{TRAIN}.json").read_text()),
                                                    comfy_server.models), tmp_path)
    for seed in (1001, 1002):
        prompt = copy.deepcopy(base)
        for node in prompt.values():
            if node["class_type"] == "TrainLoraNode":
                node["inputs"]["seed"] = seed
            if node["class_type"] == "SaveLoRA":  # ComfyUI 0.8's SaveLoRA reads its file counter back from the
                node["inputs"]["prefix"] = f"loras/twice_{seed}"  # steps, so a third save with the same steps overwrites
        before = set(files_in(comfy_server, "output"))
        entry, timings = comfy_server.run_timed(prompt, timeout=3600, check=False)
        print("\n" + timings.summary(f"{TRAIN} seed {seed}"))
        assert entry["status"]["status_str"] == "success", \
            f"training run with seed {seed}: {json.dumps(entry['status'], indent=1)[:6000]}\n{comfy_server.log_tail()}"
        added = sorted(set(files_in(comfy_server, "output")) - before)
        check_written_files(comfy_server, WrittenFiles("output", f"loras/twice_{seed}_1_steps_*_.safetensors", 1), added)
