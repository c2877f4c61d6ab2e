"""Save Video: every format written and decoded back, no overwrite, no partial file, colour, metadata."""

import hashlib
import json
import os
import subprocess

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import torch
from draw_a_video.nodes import host
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.engine.video import writer
from draw_a_video.nodes.engine.video.formats import FORMATS, get_format, load_formats
from draw_a_video.nodes.engine.video.reader import iter_frames
from draw_a_video.nodes.video_nodes import NODE_CLASS_MAPPINGS, SaveVideoNode
from PIL import Image

MP4, WEBM, GIF, WEBP = "mp4 (h264)", "webm (vp9)", "gif", "webp (animated)"
# Mean absolute error (in 1/255 steps) allowed after a round trip of smooth frames at quality 85:
# lossy 4:2:0 codecs ~1, gif (<= 256 colours, dithered) ~4, lossy webp ~1.7.
MAX_MEAN_ERROR = {MP4: 2.0, WEBM: 2.0, GIF: 6.0, WEBP: 3.0}
WORKFLOW = {"last_node_id": 3, "nodes": [{"id": 1, "type": "DrawAVideo_SaveVideo", "widgets_values": ["a=b; c#d\\e\nf", 8.0]}]}
PROMPT = {"1": {"class_type": "DrawAVideo_SaveVideo", "inputs": {"fps": 8.0}}}


def smooth_frames(count=6, height=48, width=64):
    """Gradients in x (red) and y (green), blue stepping with the frame index: easy on every codec."""
    y = torch.linspace(0, 1, height)[:, None].expand(height, width)
    x = torch.linspace(0, 1, width)[None, :].expand(height, width)
    return torch.stack([torch.stack([x, y, torch.full((height, width), 0.2 + 0.6 * i / max(count - 1, 1))], -1) for i in range(count)])


def grey_frames(levels, height=32, width=32):
    """Frame i is one flat grey: its level identifies it after decoding."""
    return torch.stack([torch.full((height, width, 3), level / 255.0) for level in levels])


def decode(path):
    """All frames of a saved file as [N,H,W,C] uint8 (mp4/webm by the pack's reader, gif/webp by imageio+Pillow)."""
    if path.endswith((".gif", ".webp")):
        return np.stack([np.asarray(frame) for frame in iio.imiter(path, plugin="pillow")])
    return np.stack([frame for _, frame in iter_frames(path)])


def save(images, format=MP4, **kwargs):
    args = dict(fps=8.0, format=format, quality=85, loop_count=0, pingpong=False, filename_prefix="DrawAVideo/video", save_output=True)
    args.update(kwargs)
    return SaveVideoNode().save(images, **args)


def ffmpeg_report(path):
    """ffmpeg's description of a file (stream line with pix_fmt, range and colour tags)."""
    run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", path], capture_output=True, text=True)
    return run.stderr


def read_metadata(path):
    """The file's global tags as ffmpeg reads them back (`-f ffmetadata`), unescaped; keys lower-cased
    (Matroska stores tag names upper-case)."""
    run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", path, "-f", "ffmetadata", "-"], capture_output=True, check=True)
    text = run.stdout.decode("utf-8").split("\n", 1)[1]  # after ";FFMETADATA1"
    entries, current, escaped = [], [], False
    for char in text:  # a backslash escapes the next character, '\n' included
        if escaped or char not in "\\\n":
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            entries.append("".join(current))
            current = []
    entries.append("".join(current))
    return {key.lower(): value for key, _, value in (entry.partition("=") for entry in entries if "=" in entry)}


def ffmpeg_children():
    psutil = pytest.importorskip("psutil")
    return [p for p in psutil.Process().children(recursive=True) if "ffmpeg" in p.name()]


def all_files(folder):
    return sorted(os.path.relpath(os.path.join(root, name), folder) for root, _, names in os.walk(folder) for name in names)


# -- formats ---------------------------------------------------------------------------

def test_format_files_load_and_the_dropdown_lists_them():
    assert list(FORMATS) == [MP4, WEBM, GIF, WEBP]
    assert SaveVideoNode.INPUT_TYPES()["required"]["format"][0] == [MP4, WEBM, GIF, WEBP]
    assert get_format(MP4).pix_fmt == "yuv420p" and get_format(MP4).quality_value(85) == 18
    assert [get_format(GIF).loop_value(n) for n in (0, 1, 2, 5)] == [0, -1, 1, 4]
    assert [get_format(WEBP).loop_value(n) for n in (0, 1, 2, 5)] == [0, 1, 2, 5]
    with pytest.raises(DrawAVideoError, match="format"):
        get_format("avi")


def test_a_broken_format_file_is_reported(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"label": "x", "extension": "x", "codec": "c", "pix_fmt": "p", "quality": {}, "colour_space": 1}))
    with pytest.raises(DrawAVideoError, match="missing keys \\['mime'\\].*unknown keys \\['colour_space'\\]"):
        load_formats(str(tmp_path))


@pytest.mark.parametrize("format", [MP4, WEBM, GIF, WEBP])
def test_each_format_round_trips(pack_folders, format):
    frames = smooth_frames()
    result = save(frames, format, filename_prefix="DrawAVideo/round")
    path = result["result"][0]
    fmt = get_format(format)
    assert path == os.path.join(os.path.realpath(pack_folders["output"]), "DrawAVideo", f"round_00001_.{fmt.extension}")
    assert result["ui"] == {"images": [{"filename": f"round_00001_.{fmt.extension}", "subfolder": "DrawAVideo", "type": "output", "format": fmt.mime}], "animated": [True]}
    decoded = decode(path)
    assert decoded.shape == (6, 48, 64, 3)
    error = np.abs(decoded.astype(np.float64) - frames.numpy() * 255).mean()
    assert error < MAX_MEAN_ERROR[format], f"{format}: mean abs error {error:.2f}/255"
    # frame order kept: the blue level climbs frame by frame
    blue = decoded[..., 2].reshape(6, -1).mean(1)
    assert np.all(np.diff(blue) > 20)


def test_mp4_is_h264_yuv420p_tagged_bt709_limited_range(pack_folders):
    path = save(smooth_frames(2))["result"][0]
    stream = next(line for line in ffmpeg_report(path).splitlines() if "Video:" in line)
    assert "h264" in stream and "yuv420p(tv, bt709, progressive)" in stream, stream


def test_webm_is_vp9_tagged_bt709_limited_range(pack_folders):
    path = save(smooth_frames(2), WEBM)["result"][0]
    stream = next(line for line in ffmpeg_report(path).splitlines() if "Video:" in line)
    assert "vp9" in stream and "yuv420p(tv, bt709, progressive)" in stream, stream


@pytest.mark.parametrize("format", [MP4, WEBM])
def test_grey_and_saturated_colours_come_back(pack_folders, format):
    """Within 3/255 per channel: a BT.601/709 or TV/PC mix-up would move red/blue by 10-40 steps."""
    colours = [(128, 128, 128), (255, 0, 0), (0, 255, 0), (0, 0, 255), (16, 16, 16), (235, 235, 235), (200, 120, 40)]
    frames = torch.stack([torch.tensor(c, dtype=torch.float32).expand(32, 32, 3) / 255 for c in colours])
    decoded = decode(save(frames, format, quality=100)["result"][0])
    centres = decoded[:, 8:24, 8:24].reshape(len(colours), -1, 3).mean(1)
    error = np.abs(centres - np.array(colours))
    assert error.max() <= 3.0, dict(zip(colours, centres.round(1).tolist()))


def test_decoded_colour_has_no_bias(pack_folders):
    """The reader converts YUV->RGB accurately: ffmpeg's default fast path read green ~1.5/255 dark."""
    frames = smooth_frames(4)
    decoded = decode(save(frames, quality=100)["result"][0]).astype(np.float64)
    bias = (decoded - frames.numpy() * 255).mean((0, 1, 2))
    assert np.abs(bias).max() < 0.5, bias


# -- frame handling -----------------------------------------------------------------------

def test_pingpong_plays_forward_then_back_without_doubling_the_ends(pack_folders):
    levels = [40, 80, 120, 160, 200]
    decoded = decode(save(grey_frames(levels), quality=100, pingpong=True)["result"][0])
    got = decoded.reshape(len(decoded), -1).mean(1)
    assert np.abs(got - [40, 80, 120, 160, 200, 160, 120, 80]).max() < 3


def test_pingpong_indexes_the_batch_without_copying_it(pack_folders, monkeypatch):
    frames = grey_frames([10, 20, 30, 40])
    seen = []
    real = writer.to_uint8

    def spy(frame, channels, *buffers):
        seen.append((frame.shape, frame.data_ptr()))
        return real(frame, channels, *buffers)

    monkeypatch.setattr(writer, "to_uint8", spy)
    save(frames, pingpong=True)
    step = frames[0].numel() * frames.element_size()
    assert [ptr for _, ptr in seen] == [frames.data_ptr() + i * step for i in (0, 1, 2, 3, 2, 1)]
    assert all(shape == (32, 32, 3) for shape, _ in seen)  # one frame at a time, views of the input


@pytest.mark.parametrize("count,expected", [(1, [0]), (2, [0, 1]), (3, [0, 1, 2, 1])])
def test_pingpong_of_short_clips(count, expected):
    assert list(writer.frame_order(count, pingpong=True)) == expected
    assert writer.written_frame_count(count, pingpong=True) == len(expected)


@pytest.mark.parametrize("format,loops", [(GIF, {0: 0, 1: None, 3: 2}), (WEBP, {0: 0, 1: 1, 3: 3})])
def test_loop_count_is_written_as_each_format_counts(pack_folders, format, loops):
    """loop_count = times played (0 = forever); gif stores repeats (none = once), webp stores plays."""
    for loop_count, stored in loops.items():
        path = save(grey_frames([50, 150], 16, 16), format, loop_count=loop_count)["result"][0]
        with Image.open(path) as image:
            assert image.info.get("loop") == stored, (loop_count, image.info)
            assert image.n_frames == 2


def test_odd_sizes_are_padded_by_repeating_the_edge(pack_folders, caplog):
    frames = smooth_frames(3, height=21, width=33)
    frames[:, :, -1] = torch.tensor([1.0, 0.0, 0.0])  # last column red, last row blue
    frames[:, -1, :] = torch.tensor([0.0, 0.0, 1.0])
    with caplog.at_level("INFO", logger="DrawAVideo"):
        decoded = decode(save(frames, quality=100)["result"][0])
    assert decoded.shape == (3, 22, 34, 3)
    assert "padding 33x21 frames to 34x22" in caplog.text
    decoded = decoded.astype(int)
    assert np.abs(decoded[:, 2:18, 32:34] - [255, 0, 0]).mean() < 12  # the padding column copies red
    assert np.abs(decoded[:, 21, 2:30] - [0, 0, 255]).mean() < 12  # the padding row copies the blue row
    padded = writer.pad_to_even(np.arange(2 * 3 * 3, dtype=np.uint8).reshape(3, 2, 3).transpose(1, 0, 2).copy())
    assert padded.shape == (2, 4, 3) and (padded[:, 3] == padded[:, 2]).all()
    assert decode(save(frames, GIF)["result"][0]).shape == (3, 21, 33, 3)  # gif needs no even size


def test_alpha_is_dropped_where_the_format_has_none(pack_folders):
    frames = smooth_frames(3)
    rgba = torch.cat([frames, torch.zeros_like(frames[..., :1])], -1)  # fully transparent
    decoded = decode(save(rgba, quality=100)["result"][0])
    assert decoded.shape == (3, 48, 64, 3)
    assert np.abs(decoded.astype(np.float64) - frames.numpy() * 255).mean() < 2.0


def test_webp_keeps_alpha(pack_folders):
    frames = smooth_frames(2)
    alpha = torch.zeros_like(frames[..., :1])
    alpha[:, :, 32:] = 1.0
    decoded = np.stack([np.asarray(f) for f in iio.imiter(save(torch.cat([frames, alpha], -1), WEBP)["result"][0], plugin="pillow", mode="RGBA")])
    assert decoded.shape == (2, 48, 64, 4)
    assert decoded[:, :, :28, 3].max() < 8 and decoded[:, :, 36:, 3].min() > 247


def test_nan_and_out_of_range_values_are_clamped(pack_folders):
    frame = torch.tensor([[[float("nan"), -3.0, 0.5], [2.0, float("inf"), float("-inf")], [0.25, 1.0, 0.0]]]).reshape(1, 3, 3)
    expected = [[[0, 0, 128], [255, 255, 0], [64, 255, 0]]]
    assert writer.to_uint8(frame, 3).tolist() == expected
    scratch, out = np.full((1, 3, 3), 7.0, np.float32), np.full((1, 3, 3), 9, np.uint8)  # reused buffers
    assert writer.to_uint8(frame, 3, scratch, out) is out and out.tolist() == expected
    assert writer.to_uint8(frame.double(), 3).tolist() == expected
    assert writer.to_uint8(frame.to(torch.bfloat16), 3).tolist() == [[[0, 0, 128], [255, 255, 0], [64, 255, 0]]]
    frames = torch.zeros(2, 32, 32, 3)
    frames[:, :, :16] = float("nan")
    frames[:, :, 16:] = 7.0
    decoded = decode(save(frames, quality=100)["result"][0])
    assert decoded[:, 4:28, 2:12].max() <= 3 and decoded[:, 4:28, 20:30].min() >= 252


def test_grey_single_channel_and_half_precision_input(pack_folders):
    frames = smooth_frames(2)
    decoded = decode(save(frames[..., :1].half(), quality=100)["result"][0])
    expected = frames[..., :1].expand(-1, -1, -1, 3).numpy() * 255
    assert np.abs(decoded.astype(np.float64) - expected).mean() < 2.0


def test_a_thousand_tiny_frames_stream_one_at_a_time(pack_folders, monkeypatch):
    frames = grey_frames([(i * 7) % 200 + 20 for i in range(1000)], 32, 32)
    shapes = []
    real = writer.to_uint8
    monkeypatch.setattr(writer, "to_uint8", lambda frame, channels, *buffers: shapes.append(tuple(frame.shape)) or real(frame, channels, *buffers))
    path = save(frames, fps=25.0, quality=60)["result"][0]
    assert shapes == [(32, 32, 3)] * 1000
    assert sum(1 for _ in iter_frames(path)) == 1000


def test_progress_counts_every_frame(pack_folders, monkeypatch):
    updates = []
    real = host.Progress

    class Recorder(real):
        def __init__(self, total):
            super().__init__(total)
            updates.append(("total", total))

        def update(self, steps=1, preview=None):
            updates.append(("step", steps))
            super().update(steps, preview)

    monkeypatch.setattr(host, "Progress", Recorder)
    save(grey_frames([10, 20, 30, 40]), pingpong=True)
    assert updates == [("total", 6)] + [("step", 1)] * 6


# -- files --------------------------------------------------------------------------------

def test_two_saves_make_two_files_and_keep_the_first(pack_folders):
    first = save(grey_frames([50, 100]))["result"][0]
    digest = hashlib.sha256(open(first, "rb").read()).hexdigest()
    second = save(grey_frames([150, 200]))["result"][0]
    assert (os.path.basename(first), os.path.basename(second)) == ("video_00001_.mp4", "video_00002_.mp4")
    assert hashlib.sha256(open(first, "rb").read()).hexdigest() == digest


def test_an_existing_numbered_file_is_not_touched(pack_folders):
    folder = pack_folders["output"] / "DrawAVideo"
    folder.mkdir()
    (folder / "video_00001_.mp4").write_bytes(b"someone's clip")
    (folder / "video_00004_.png").write_bytes(b"a still")
    path = save(grey_frames([50, 100]))["result"][0]
    assert os.path.basename(path) == "video_00005_.mp4"
    assert (folder / "video_00001_.mp4").read_bytes() == b"someone's clip"


def test_prefix_variables_and_subfolders(pack_folders):
    result = save(smooth_frames(2, 48, 64), filename_prefix="runs/%width%x%height%/clip")
    assert result["ui"]["images"][0]["subfolder"] == "runs/64x48"
    assert os.path.isfile(pack_folders["output"] / "runs" / "64x48" / "clip_00001_.mp4")


def test_save_output_off_writes_a_temp_preview(pack_folders):
    result = save(grey_frames([50, 100]), WEBP, save_output=False)
    image = result["ui"]["images"][0]
    assert image["type"] == "temp" and image["format"] == "image/webp"
    assert result["result"][0] == os.path.join(os.path.realpath(host.temp_directory()), image["subfolder"], image["filename"])
    assert os.path.isfile(result["result"][0])
    assert all_files(pack_folders["output"]) == [os.path.join(".temp", "DrawAVideo", "video_00001_.webp")]  # the fallback temp dir


def _assert_nothing_left(pack_folders):
    assert all_files(pack_folders["output"]) == [], "a partial file was left behind"
    assert ffmpeg_children() == [], "ffmpeg still running"


def test_an_error_mid_write_leaves_no_partial_file(pack_folders, monkeypatch):
    real = writer.to_uint8
    calls = []

    def fail_at_five(frame, channels, *buffers):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("frame 5 is broken")
        return real(frame, channels, *buffers)

    monkeypatch.setattr(writer, "to_uint8", fail_at_five)
    with pytest.raises(RuntimeError, match="frame 5"):
        save(smooth_frames(12))
    _assert_nothing_left(pack_folders)


def test_a_cancel_mid_write_leaves_no_partial_file(pack_folders, monkeypatch):
    real = host.Progress

    class CancelAtFive(real):
        def update(self, steps=1, preview=None):
            super().update(steps, preview)
            if self.current == 5:
                host.request_interrupt()  # as the user pressing Cancel

    monkeypatch.setattr(host, "Progress", CancelAtFive)
    with pytest.raises(host.Interrupted):
        save(smooth_frames(12), WEBM)
    _assert_nothing_left(pack_folders)


def test_an_ffmpeg_failure_is_a_clear_error_and_leaves_nothing(pack_folders, monkeypatch):
    broken = get_format(MP4).__class__(**{**get_format(MP4).__dict__, "params": ("-preset", "no-such-preset")})
    monkeypatch.setitem(FORMATS, MP4, broken)
    with pytest.raises(DrawAVideoError, match="ffmpeg"):
        save(smooth_frames(40))
    _assert_nothing_left(pack_folders)


@pytest.mark.parametrize("prefix", ["../escape", "/tmp/escape", "a/../../escape", "DrawAVideo/../../escape"])
def test_prefixes_that_leave_the_output_folder_are_refused(pack_folders, prefix):
    with pytest.raises(DrawAVideoError, match="filename_prefix"):
        save(grey_frames([50]), filename_prefix=prefix)
    assert not os.path.exists(pack_folders["output"].parent / "escape_00001_.mp4")


def test_a_symlink_out_of_the_output_folder_is_refused(pack_folders, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, pack_folders["output"] / "link")
    with pytest.raises(DrawAVideoError, match="filename_prefix"):
        save(grey_frames([50]), filename_prefix="link/video")
    assert list(outside.iterdir()) == []


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(0, 32, 32, 3), (0, 3, 0, 0)])  # the second: ComfyUI's GetVideoComponents on 0 frames
def test_an_empty_batch_is_a_clear_error(pack_folders, shape):
    with pytest.raises(DrawAVideoError, match="empty batch"):
        save(torch.zeros(shape))
    assert all_files(pack_folders["output"]) == []


@pytest.mark.parametrize("bad,match", [
    ({"samples": torch.zeros(1, 16, 8, 8)}, "IMAGE batch"),
    ("frames.png", "IMAGE batch"),
    (torch.zeros(32, 32, 3), "single image"),
    (torch.zeros(2, 16, 8, 8), "MASK or LATENT"),
    (torch.zeros(2, 32, 32), "MASK or LATENT"),
])
def test_non_image_input_is_a_clear_error(pack_folders, bad, match):
    with pytest.raises(DrawAVideoError, match=match):
        save(bad)


@pytest.mark.parametrize("fps", [0.0, -1.0, float("nan")])
def test_bad_fps_is_refused(pack_folders, fps):
    with pytest.raises(DrawAVideoError, match="fps"):
        save(grey_frames([50]), fps=fps)
    assert list(pack_folders["output"].iterdir()) == []  # not even the DrawAVideo folder


def test_bad_quality_is_refused(pack_folders):
    with pytest.raises(DrawAVideoError, match="quality"):
        save(grey_frames([50]), quality=101)
    assert list(pack_folders["output"].iterdir()) == []


# -- metadata -----------------------------------------------------------------------------

def test_webp_embeds_the_workflow_as_comfyui_does(pack_folders):
    layout = GridLayout(2, 2, 32, 32)
    frames = torch.cat([smooth_frames(3), torch.ones(3, 48, 64, 1)], -1)  # with alpha: both header fixes
    path = save(frames, WEBP, layout=layout, prompt=PROMPT, extra_pnginfo={"workflow": WORKFLOW})["result"][0]
    with Image.open(path) as image:
        exif = image.getexif()
        assert image.n_frames == 3 and image.mode == "RGBA"
    assert json.loads(exif[0x0110].split(":", 1)[1]) == PROMPT and exif[0x0110].startswith("prompt:")
    assert exif[0x010F].startswith("workflow:") and json.loads(exif[0x010F].split(":", 1)[1]) == WORKFLOW
    assert GridLayout.from_dict(json.loads(exif[0x010E].split(":", 1)[1])) == layout
    assert len(decode(path)) == 3  # still a valid file for ffmpeg and Pillow
    assert len([frame for _, frame in iter_frames(path)]) == 3


def test_gif_embeds_nothing_and_says_so(pack_folders):
    path = save(grey_frames([50, 100]), GIF, prompt=PROMPT, extra_pnginfo={"workflow": WORKFLOW})["result"][0]
    assert b"workflow" not in open(path, "rb").read()
    assert "gif: nothing" in SaveVideoNode.__doc__


@pytest.mark.parametrize("format", [MP4, WEBM])
def test_prompt_workflow_and_layout_round_trip(pack_folders, format):
    layout = GridLayout(2, 2, 32, 32)
    path = save(grey_frames([50, 100, 150, 200]), format, layout=layout, prompt=PROMPT, extra_pnginfo={"workflow": WORKFLOW})["result"][0]
    tags = read_metadata(path)
    assert json.loads(tags["workflow"]) == WORKFLOW
    assert json.loads(tags["prompt"]) == PROMPT
    assert GridLayout.from_dict(json.loads(tags["grid_layout"])) == layout


def test_a_large_workflow_fits(pack_folders):
    """A workflow bigger than one command-line argument may be (128 KiB on Linux) still goes in."""
    workflow = {"nodes": [{"id": i, "widgets_values": ["x" * 100]} for i in range(3000)]}
    assert len(json.dumps(workflow)) > 300_000
    path = save(grey_frames([50, 100]), extra_pnginfo={"workflow": workflow})["result"][0]
    assert json.loads(read_metadata(path)["workflow"]) == workflow


def test_metadata_disabled_embeds_nothing(pack_folders, monkeypatch):
    monkeypatch.setattr(host, "metadata_disabled", lambda: True)
    path = save(grey_frames([50, 100]), layout=GridLayout(), prompt=PROMPT, extra_pnginfo={"workflow": WORKFLOW})["result"][0]
    assert not {"workflow", "prompt", "grid_layout"} & set(read_metadata(path))
    path = save(grey_frames([50, 100]), WEBP, layout=GridLayout(), prompt=PROMPT, extra_pnginfo={"workflow": WORKFLOW})["result"][0]
    with Image.open(path) as image:
        assert not image.getexif()


def test_node_is_registered_as_an_output_node():
    node = NODE_CLASS_MAPPINGS["DrawAVideo_SaveVideo"]
    spec = node.INPUT_TYPES()
    assert node.OUTPUT_NODE and node.CATEGORY == "Draw-a-Video/video" and node.RETURN_TYPES == ("STRING",)
    assert spec["hidden"] == {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}
    assert spec["optional"]["layout"][0] == "GRID_LAYOUT"
    assert spec["required"]["filename_prefix"][1]["default"] == "DrawAVideo/video"
    assert spec["required"]["save_output"][1]["default"] is True
    for name, (_kind, options) in {**spec["required"], **spec["optional"]}.items():
        assert options.get("tooltip"), name
    assert "gif" in spec["required"]["loop_count"][1]["tooltip"] and "0 = forever" in spec["required"]["loop_count"][1]["tooltip"]


@pytest.mark.parametrize("frames", [1, 5])
def test_webp_of_a_still_clip_is_valid_and_keeps_metadata(pack_folders, frames):
    """ffmpeg writes a simple (non-animated) webp when every frame is alike; it still gets its header and EXIF."""
    path = save(torch.full((frames, 32, 48, 3), 0.5), WEBP, prompt=PROMPT)["result"][0]
    with Image.open(path) as image:
        exif = image.getexif()
        assert image.size == (48, 32)
        assert abs(image.convert("RGB").getpixel((10, 10))[0] - 128) <= 3
    assert json.loads(exif[0x0110].split(":", 1)[1]) == PROMPT
    assert len(decode(path)) >= 1 and next(iter_frames(path), None) is not None  # a valid file for Pillow and ffmpeg alike
