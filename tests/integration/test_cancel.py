"""Cancel (POST /interrupt) while Save Video is writing a long clip: no partial file is left, and the
next prompt runs normally.

EmptyImage makes 3000 frames of 320x192 (a 2.2 GB batch, ~10 s or more of h264 encoding on a CPU);
the test waits until Save Video has reported written frames over the websocket and its hidden temp
file is in the output folder, then interrupts.
"""

from __future__ import annotations

import time
import uuid

import pytest

pytestmark = pytest.mark.integration

FRAMES, WIDTH, HEIGHT = 3000, 320, 192
SUBFOLDER = "DrawAVideo/cancel"


def prompt_for(frames: int, color: int, prefix: str) -> dict:
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": WIDTH, "height": HEIGHT, "batch_size": frames, "color": color}},
        "2": {"class_type": "DrawAVideo_SaveVideo",
              "inputs": {"images": ["1", 0], "fps": 8.0, "format": "mp4 (h264)", "quality": 85, "loop_count": 0,
                         "pingpong": False, "filename_prefix": prefix, "save_output": True}},
    }


def everything_in(folder) -> list[str]:
    """Every file under `folder`, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_interrupt_while_saving_leaves_no_partial_file(comfy_server, tmp_path):
    folder = comfy_server.output_dir / SUBFOLDER
    assert everything_in(folder) == []
    prefix = f"{SUBFOLDER}/long_clip"
    events = comfy_server.events()
    since = events.mark()
    prompt_id = comfy_server.post_prompt(prompt_for(FRAMES, color=0x204060 + uuid.uuid4().int % 1000, prefix=prefix))
    assert isinstance(prompt_id, str), prompt_id
    try:
        # Writing has begun: Save Video (node 2) reported frames, and its hidden temp file exists.
        started = events.wait_for(lambda m: m.type == "progress" and m.data.get("prompt_id") == prompt_id
                                  and m.data.get("node") == "2" and m.data.get("value", 0) >= 20, timeout=600, since=since)
        partial = [name for name in everything_in(folder) if name.startswith(".drawavideo-") and ".partial." in name]
    finally:
        asked = time.monotonic()
        comfy_server.interrupt()
    entry = comfy_server.wait(prompt_id, timeout=300)
    stopped_after = time.monotonic() - asked

    assert started.data["max"] == FRAMES
    assert partial, f"no hidden temp file while writing: {everything_in(folder)}"
    assert entry["status"]["status_str"] == "error", entry["status"]
    interrupted = comfy_server.history_messages(entry, "execution_interrupted")
    assert interrupted and interrupted[0]["node_type"] == "DrawAVideo_SaveVideo", entry["status"]
    written = max(m.data["value"] for m in events.for_prompt(prompt_id, since) if m.type == "progress" and m.data.get("node") == "2")
    assert written < FRAMES, "the clip was finished before the interrupt arrived: nothing was cancelled"
    assert "2" not in entry["outputs"], entry["outputs"]
    leftovers = everything_in(folder)
    assert leftovers == [], f"cancel left files behind: {leftovers}"
    assert not [p for p in comfy_server.output_dir.rglob("*.partial.*")], "a temp file is left in the output folder"
    print(f"\ncancelled at frame {written}/{FRAMES} ({partial[0]} was being written); the prompt stopped "
          f"{stopped_after:.1f} s after POST /interrupt and left no file")

    try:
        # The next prompt works and takes the first file number: nothing of the cancelled one was kept.
        entry = comfy_server.run(prompt_for(8, color=0x102030, prefix=prefix), timeout=300)
        (item,) = entry["outputs"]["2"]["images"]
        assert item["filename"] == "long_clip_00001_.mp4" and item["subfolder"] == SUBFOLDER, item
        media = comfy_server.fetch_media(item, tmp_path)
        assert (media.frames, media.width, media.height) == (8, WIDTH, HEIGHT)
        assert everything_in(folder) == ["long_clip_00001_.mp4"]
    finally:
        # Drop the cached 2.2 GB EmptyImage batch (ComfyUI keeps node results); models stay loaded.
        comfy_server.free(unload_models=False)
