"""Bad input through ComfyUI's HTTP API: the user gets OUR actionable message, and the server carries on.

Each case posts a prompt that a user could build in the graph editor and checks where ComfyUI
reports the problem -- `node_errors` in the 400 answer of POST /prompt (our VALIDATE_INPUTS) or an
`execution_error` in the prompt's history (a DrawAVideoError raised while running) -- and that the
message is the pack's own, naming the input and the fix. After each one a fresh, valid prompt must
run normally.
"""

from __future__ import annotations

import io
import itertools
import subprocess
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.integration

_fresh = itertools.count(1)


def save_video(images, prefix: str, fmt: str = "mp4 (h264)") -> dict:
    return {"class_type": "DrawAVideo_SaveVideo",
            "inputs": {"images": images, "fps": 8.0, "format": fmt, "quality": 85, "loop_count": 0,
                       "pingpong": False, "filename_prefix": prefix, "save_output": True}}


def empty_image(width: int, height: int, batch: int, color: int = 0) -> dict:
    return {"class_type": "EmptyImage", "inputs": {"width": width, "height": height, "batch_size": batch, "color": color}}


def grid_layout(**overrides) -> dict:
    inputs = {"rows": 4, "cols": 4, "cell_width": 320, "cell_height": 192, "gutter": 0, "order": "row-major", "frame_stride": 10}
    return {"class_type": "DrawAVideo_GridLayout", "inputs": {**inputs, **overrides}}


def png(width: int, height: int, color=(40, 90, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def split_prompt(image_name: str, layout: dict) -> dict:
    """LoadImage -> Split Image Grid (layout) -> PreviewImage."""
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": image_name}},
        "2": layout,
        "3": {"class_type": "DrawAVideo_SplitImageGrid", "inputs": {"image": ["1", 0], "layout": ["2", 0], "align": "off"}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},
    }


def run_failing(comfy_server, prompt: dict, node_type: str) -> dict:
    """Run a prompt that must fail while running; return its execution_error message."""
    entry, _ = comfy_server.run_timed(prompt, timeout=600, check=False)
    assert entry["status"]["status_str"] == "error", entry["status"]
    errors = comfy_server.history_messages(entry, "execution_error")
    assert len(errors) == 1, entry["status"]
    error = errors[0]
    assert error["node_type"] == node_type, error
    # ComfyUI names the class by the pack's module path: <custom_nodes/...>.nodes.engine.errors.DrawAVideoError
    assert error["exception_type"].endswith("DrawAVideoError"), (error["exception_type"], error["exception_message"])
    print(f"\n{node_type}: {error['exception_message'].strip()}")
    return error


def assert_server_runs_the_next_prompt(comfy_server, tmp_path) -> None:
    """A valid prompt (new each time, so ComfyUI can't answer it from its cache) runs and saves a clip."""
    color = next(_fresh)
    prompt = {"1": empty_image(64, 32, 3, color), "2": save_video(["1", 0], f"DrawAVideo/after_bad_input/clip_{color}")}
    entry, timings = comfy_server.run_timed(prompt, timeout=300)
    assert {n["id"] for n in timings.nodes if not n["cached"]} == {"1", "2"}
    (item,) = entry["outputs"]["2"]["images"]
    media = comfy_server.fetch_media(item, tmp_path)
    assert (media.frames, media.width, media.height) == (3, 64, 32)


def test_grid_image_of_the_wrong_size(comfy_server, tmp_path):
    name = comfy_server.upload(png(1000, 768), "dav_bad_grid_1000x768.png")
    error = run_failing(comfy_server, split_prompt(name, grid_layout()), "DrawAVideo_SplitImageGrid")
    message = error["exception_message"]
    assert "1000x768" in message and "4x4 layout needs 1280x768" in message, message
    assert "connect the layout the grid was made with, or resize" in message, message
    assert_server_runs_the_next_prompt(comfy_server, tmp_path)

    # The same graph with a grid of the right size works and cuts 16 frames of 320x192.
    good = comfy_server.upload(png(1280, 768), "dav_good_grid_1280x768.png")
    entry = comfy_server.run(split_prompt(good, grid_layout()), timeout=300)
    frames = entry["outputs"]["4"]["images"]
    assert len(frames) == 16
    media = comfy_server.fetch_media(frames[0], tmp_path)
    assert media.size == (320, 192)


def test_cell_size_that_is_not_a_multiple_of_16(comfy_server, tmp_path):
    name = comfy_server.upload(png(1280, 768), "dav_good_grid_1280x768.png")
    answer = comfy_server.post_prompt(split_prompt(name, grid_layout(cell_width=300)))
    assert isinstance(answer, dict), f"ComfyUI queued a prompt with cell_width 300: {answer}"
    assert answer["error"]["type"] == "prompt_outputs_failed_validation", answer
    node = answer["node_errors"]["2"]
    assert node["class_type"] == "DrawAVideo_GridLayout", node
    details = " ".join(e.get("details", "") + " " + e.get("message", "") for e in node["errors"])
    print(f"\nnode_errors for GridLayout: {details.strip()}")
    assert "cell_width is 300 px but FLUX needs multiples of 16" in details and "use 288 or 304" in details, node
    assert list(answer["node_errors"]) == ["2"], answer["node_errors"]  # only the layout is blamed
    assert_server_runs_the_next_prompt(comfy_server, tmp_path)


@pytest.mark.parametrize("prefix", ["../escaped/clip", "DrawAVideo/../../escaped/clip", "/tmp/dav_escaped/clip"])
def test_filename_prefix_that_leaves_the_output_folder(comfy_server, tmp_path, prefix):
    outside = [comfy_server.output_dir.parent / "escaped", comfy_server.output_dir.parent.parent / "escaped"]
    color = next(_fresh)
    prompt = {"1": empty_image(64, 32, 2, color), "2": save_video(["1", 0], prefix)}
    error = run_failing(comfy_server, prompt, "DrawAVideo_SaveVideo")
    message = error["exception_message"]
    # The message names the folder part of the prefix, the part that escapes.
    assert f"filename_prefix {prefix.rpartition('/')[0]!r}" in message, message
    assert ("points outside the folder" in message and "keep it inside" in message) or "is an absolute path" in message, message
    for folder in outside + [Path("/tmp/dav_escaped")]:
        assert not folder.exists(), f"{folder} was created"
    assert_server_runs_the_next_prompt(comfy_server, tmp_path)


def zero_frame_video() -> bytes:
    """A video stream with no frames: a YUV4MPEG2 header alone (ffmpeg and PyAV read it as 0 frames).

    ComfyUI's LoadVideo -> GetVideoComponents turns it into an IMAGE batch of 0 frames
    (a tensor of shape (0, 3, 0, 0)): the way a user gets an empty batch from core nodes."""
    return b"YUV4MPEG2 W64 H32 F8:1 Ip A1:1 C420jpeg\n"


def test_empty_frame_batch(comfy_server, tmp_path):
    # LoadVideo lists files by extension and PyAV reads them by content, so an .mp4 name is fine.
    name = comfy_server.upload(zero_frame_video(), "dav_zero_frames.mp4")
    prompt = {
        "1": {"class_type": "LoadVideo", "inputs": {"file": name}},
        "2": {"class_type": "GetVideoComponents", "inputs": {"video": ["1", 0]}},
        "3": save_video(["2", 0], "DrawAVideo/empty/clip"),
    }
    error = run_failing(comfy_server, prompt, "DrawAVideo_SaveVideo")
    message = error["exception_message"]
    assert "images is an empty batch (0 frames)" in message and "at least one frame" in message, message
    empty_folder = comfy_server.output_dir / "DrawAVideo" / "empty"
    assert not empty_folder.exists() or not any(empty_folder.iterdir()), list(empty_folder.iterdir())
    assert_server_runs_the_next_prompt(comfy_server, tmp_path)


def test_zero_frame_video_really_has_no_frames(tmp_path):
    """The fixture file above is what it claims: a readable video stream with 0 frames (checked with ffmpeg)."""
    import imageio_ffmpeg

    path = tmp_path / "zero.y4m"
    path.write_bytes(zero_frame_video())
    result = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-f", "null", "-"],
                            capture_output=True, text=True)
    assert "Video: rawvideo" in result.stderr and "64x32" in result.stderr, result.stderr
    assert "frame=    0" in result.stderr or "frame=0" in result.stderr.replace(" ", ""), result.stderr
