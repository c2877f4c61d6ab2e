"""Image to video in a real ComfyUI: the i2v and i2v_fill workflows keep the user's picture as frame 1.

Each workflow (workflows/api/i2v*.json, shrunk like every workflow by test_workflows_api.tiny_prompt:
tiny FLUX.1-dev / tiny FLUX.1 Fill, 1 step, 64x32 cells) runs on an uploaded 300x200 picture (3:2, so
'cover' really crops it to the cell's 2:1). Then:
- the drawn grid (PreviewImage, a png) holds the picture fitted to the cell (the pack's own
  fit_picture, computed here) in cell 0 bit for bit: ImageCompositeMasked pasted its pixels back;
- frame 1 of the saved mp4 matches that fitted picture within the codec's error: its PSNR is within
  CODEC_MARGIN_DB of the same picture sent alone through the same format (Save Video's mp4, h264 yuv420p,
  quality 85) and decoded back, and at least MIN_PSNR_DB (both values are printed: about 30.7 dB, which
  is the codec's own error on this small, sharp-edged 64x32 picture, mostly yuv420p's halved chroma);
- every other frame differs from it (the model drew them).
The picture can sit in any cell: with a second picture and Keyframe Grid's cells "0,-1" the first and
the last frames are the two pictures. Bad input stops at the right node with the pack's message: a
picture smaller than the cell, a picture with an alpha channel, a cell outside the grid.
"""

from __future__ import annotations

import copy
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from dav_testkit import load_by_path
from PIL import Image

pytestmark = pytest.mark.integration

MIN_PSNR_DB = 28.0          # frame 1 vs the fitted picture, through h264 (yuv420p, quality 85)
CODEC_MARGIN_DB = 0.5       # ... and no further from it than the codec alone puts the picture
DIFFERENT_PSNR_DB = 25.0    # any drawn frame is further than this from the picture


def _api():
    """test_workflows_api's shrink rules and output checks (imported by path: pytest runs in importlib mode)."""
    return load_by_path(Path(__file__).resolve().parent / "test_workflows_api.py", "draw_a_video_it_test_workflows_api")


@pytest.fixture(scope="module")
def api():
    return _api()


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like RGB picture: a sky-to-ground gradient, a sun disc and soft hills."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    t = yy / height
    sky = np.stack([0.35 + 0.4 * t, 0.55 + 0.2 * t, 0.9 - 0.3 * t], -1)
    hill = (yy > height * (0.6 + 0.1 * np.sin(xx / width * 6 + rng.uniform(0, 6))))[..., None]
    ground = np.stack([0.25 + 0.1 * np.sin(xx / 23), 0.45 + 0.1 * t, 0.2 + 0 * t], -1)
    cx, cy = rng.uniform(0.3, 0.7) * width, 0.3 * height
    sun = (np.hypot(xx - cx, yy - cy) < height * 0.12)[..., None]
    pixels = np.where(hill, ground, np.where(sun, np.array([1.0, 0.9, 0.5]), sky))
    return (pixels * 255).round().clip(0, 255).astype(np.uint8)


def png_bytes(pixels: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def fitted(pixels: np.ndarray, cell_w: int, cell_h: int) -> np.ndarray:
    """What Fit Image to Cell (cover) makes of the picture: the pack's own function."""
    from draw_a_video.nodes.engine.image_fit import fit_picture
    from draw_a_video.nodes.engine.layout import GridLayout

    image = torch.from_numpy(pixels).float().div(255).unsqueeze(0)
    out = fit_picture(image, GridLayout(cell_width=cell_w, cell_height=cell_h), "cover")
    return (out[0] * 255).round().to(torch.uint8).numpy()


def within_one_level(a: np.ndarray, b: np.ndarray) -> bool:
    """The server (its torch build, its CPU kernels) and this process each resize the picture: the pasted-back
    cell is the server's fit, copied exactly, but the two resizes may round 1 grey level apart."""
    return a.shape == b.shape and int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max()) <= 1


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def codec_psnr(picture: np.ndarray, into) -> float:
    """PSNR of the picture alone after Save Video's mp4 format (quality 85) and decoding: the codec's own error."""
    from draw_a_video.nodes.engine.video.formats import get_format
    from draw_a_video.nodes.engine.video.writer import write_video

    path = into / "codec_reference.mp4"
    into.mkdir(parents=True, exist_ok=True)
    write_video(torch.from_numpy(picture[None]).float() / 255, str(path), get_format("mp4 (h264)"), fps=8.0, quality=85)
    return psnr(_api().video_pixels(path)[0], picture)


def nodes_of(prompt: dict, class_type: str) -> list[str]:
    return [nid for nid, node in prompt.items() if node["class_type"] == class_type]


def i2v_prompt(api, server, name: str, picture: str, prefix: str) -> dict:
    prompt = api.tiny_prompt(name, json.loads((api.API_DIR / f"{name}.json").read_text()), server.models)
    [load] = nodes_of(prompt, "LoadImage")
    prompt[load]["inputs"]["image"] = picture
    for nid in nodes_of(prompt, "DrawAVideo_SaveVideo"):
        prompt[nid]["inputs"]["filename_prefix"] = prefix
    return prompt


def run_and_fetch(api, server, prompt: dict, into):
    """Run; return (video frames uint8 [F,H,W,3], drawn grid uint8 [H,W,3])."""
    entry, timings = server.run_timed(prompt, timeout=3600)
    print("\n" + timings.summary(prompt[nodes_of(prompt, "DrawAVideo_SaveVideo")[0]]["inputs"]["filename_prefix"]))
    [video] = api.check_outputs(server, entry, prompt, api.Expect("DrawAVideo_SaveVideo", 16, 64, 32), into)
    [grid] = api.check_outputs(server, entry, prompt, api.Expect("PreviewImage", 1, 256, 128), into)
    return api.video_pixels(video.path), api.image_pixels(grid.path)


@pytest.fixture(scope="module")
def pictures(comfy_server):
    """Two uploaded 300x200 pictures and their cover fits to the 64x32 cell."""
    names, fits = [], []
    for seed in (0, 1):
        pixels = photo(300, 200, seed)
        names.append(comfy_server.upload(png_bytes(pixels), f"draw_a_video_i2v_test_{seed}.png"))
        fits.append(fitted(pixels, 64, 32))
    return names, fits


@pytest.mark.parametrize("name", ["i2v", "i2v_fill"])
def test_frame_one_is_the_picture(comfy_server, api, pictures, name, tmp_path):
    (picture, _), (expected, _) = pictures
    frames, grid = run_and_fetch(api, comfy_server, i2v_prompt(api, comfy_server, name, picture, f"DrawAVideo/test_{name}"), tmp_path)
    assert within_one_level(grid[:32, :64], expected), "the drawn grid's cell 0 is not the fitted picture"
    first = psnr(frames[0], expected)
    codec = codec_psnr(expected, tmp_path / "reference")
    others = [psnr(frame, expected) for frame in frames[1:]]
    print(f"{name}: frame 1 vs the picture fitted to the cell: PSNR {first:.2f} dB (the picture alone through the same "
          f"mp4 format: {codec:.2f} dB; h264 yuv420p, quality 85, 64x32); frames 2-16: {min(others):.1f}..{max(others):.1f} dB")
    api.ARTIFACTS.mkdir(exist_ok=True)   # the picture fitted, frame 1 and frame 2 side by side, to look at
    Image.fromarray(np.concatenate([expected, frames[0], frames[1]], axis=1)).save(api.ARTIFACTS / f"{name}_frames_1_2.png")
    assert first >= MIN_PSNR_DB, f"frame 1 is {first:.1f} dB from the picture (at least {MIN_PSNR_DB} expected)"
    assert first >= codec - CODEC_MARGIN_DB, f"frame 1 is {first:.2f} dB from the picture, the codec alone {codec:.2f} dB"
    assert max(others) < DIFFERENT_PSNR_DB, f"a drawn frame is as close as {max(others):.1f} dB to the picture: {others}"


def test_the_picture_can_be_first_and_last(comfy_server, api, pictures, tmp_path):
    """Two pictures through two Fit Image to Cell nodes joined by ImageBatch, Keyframe Grid cells "0,-1"."""
    (first_name, last_name), (first_fit, last_fit) = pictures
    prompt = i2v_prompt(api, comfy_server, "i2v", first_name, "DrawAVideo/test_i2v_both")
    [load], [fit], [keys] = (nodes_of(prompt, t) for t in ("LoadImage", "DrawAVideo_FitImageToCell", "DrawAVideo_KeyframeGrid"))
    prompt["90"] = {"class_type": "LoadImage", "inputs": {"image": last_name}}
    prompt["91"] = copy.deepcopy(prompt[fit])
    prompt["91"]["inputs"]["image"] = ["90", 0]
    prompt["92"] = {"class_type": "ImageBatch", "inputs": {"image1": [fit, 0], "image2": ["91", 0]}}
    prompt[keys]["inputs"].update(frames=["92", 0], cells="0,-1")
    frames, grid = run_and_fetch(api, comfy_server, prompt, tmp_path)
    assert within_one_level(grid[:32, :64], first_fit) and within_one_level(grid[96:, 192:], last_fit)
    scores = [psnr(frames[0], first_fit), psnr(frames[-1], last_fit)]
    codec = [codec_psnr(first_fit, tmp_path / "ref_first"), codec_psnr(last_fit, tmp_path / "ref_last")]
    print(f"i2v, pictures at cells 0 and -1: frame 1 {scores[0]:.2f} dB (codec alone {codec[0]:.2f}), "
          f"frame 16 {scores[1]:.2f} dB (codec alone {codec[1]:.2f})")
    assert min(scores) >= MIN_PSNR_DB
    assert all(s >= c - CODEC_MARGIN_DB for s, c in zip(scores, codec)), (scores, codec)
    assert all(psnr(frame, first_fit) < DIFFERENT_PSNR_DB for frame in frames[1:-1])


def run_failing(server, prompt: dict, node_type: str) -> str:
    entry, _ = server.run_timed(prompt, timeout=1800, check=False)
    assert entry["status"]["status_str"] == "error", entry["status"]
    [error] = server.history_messages(entry, "execution_error")
    assert error["node_type"] == node_type and error["exception_type"].endswith("DrawAVideoError"), error
    print(f"\n{node_type}: {error['exception_message'].strip()}")
    return error["exception_message"]


def test_bad_pictures_and_cells_get_named_errors(comfy_server, api, pictures):
    (picture, _), _ = pictures
    small = comfy_server.upload(png_bytes(photo(60, 20)), "draw_a_video_i2v_small.png")
    prompt = i2v_prompt(api, comfy_server, "i2v", small, "DrawAVideo/test_i2v_bad")
    assert "image is 60x20 px, too small for the layout's 64x32 cell" in run_failing(comfy_server, prompt, "DrawAVideo_FitImageToCell")

    # RGBA: core JoinImageWithAlpha puts Load Image's mask back as a 4th channel.
    prompt = i2v_prompt(api, comfy_server, "i2v", picture, "DrawAVideo/test_i2v_bad")
    [load], [fit] = nodes_of(prompt, "LoadImage"), nodes_of(prompt, "DrawAVideo_FitImageToCell")
    prompt["90"] = {"class_type": "JoinImageWithAlpha", "inputs": {"image": [load, 0], "alpha": [load, 1]}}
    prompt[fit]["inputs"]["image"] = ["90", 0]
    assert "image has an alpha channel (4 channels, RGBA)" in run_failing(comfy_server, prompt, "DrawAVideo_FitImageToCell")

    prompt = i2v_prompt(api, comfy_server, "i2v", picture, "DrawAVideo/test_i2v_bad")
    [keys] = nodes_of(prompt, "DrawAVideo_KeyframeGrid")
    prompt[keys]["inputs"]["cells"] = "16"
    assert "cell 16 is outside the 4x4 layout" in run_failing(comfy_server, prompt, "DrawAVideo_KeyframeGrid")
