"""Load Video Frames: exactly the frames stride/skip/cap pick, fps, fitting to a layout cell, safe names."""

import os

import numpy as np
import pytest
import torch
from draw_a_video.nodes import video_nodes
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.engine.video.formats import get_format
from draw_a_video.nodes.engine.video.resize import cover_box, fit_frame
from draw_a_video.nodes.engine.video.writer import write_video
from draw_a_video.nodes.video_nodes import NODE_CLASS_MAPPINGS, LoadVideoFramesNode

FRAMES, FPS = 30, 12.0


def level(index):
    """Frame `index` of the stamped clip is this flat grey (8 steps apart: h264 at crf 12 keeps it within 2)."""
    return 10 + 8 * index


def indices_of(images):
    """Read the stamp back: which source frame each loaded frame is."""
    means = images.reshape(images.shape[0], -1).mean(1) * 255
    return [round((m - 10) / 8) for m in means.tolist()]


@pytest.fixture
def clip(pack_folders):
    """A 30-frame 12 fps mp4 in the input folder's subfolder "clips", frame i a flat grey level(i)."""
    folder = pack_folders["input"] / "clips"
    folder.mkdir()
    frames = torch.stack([torch.full((24, 32, 3), level(i) / 255.0) for i in range(FRAMES)])
    write_video(frames, str(folder / "stamped.mp4"), get_format("mp4 (h264)"), fps=FPS, quality=100)
    return "clips/stamped.mp4"


def load(video, stride=1, skip_first=0, frame_cap=0, layout=None):
    return LoadVideoFramesNode().load(video, stride, skip_first, frame_cap, layout)


@pytest.mark.parametrize("stride,skip,cap,expected", [
    (1, 0, 0, list(range(30))),
    (3, 0, 0, list(range(0, 30, 3))),
    (4, 5, 0, [5, 9, 13, 17, 21, 25, 29]),
    (2, 3, 4, [3, 5, 7, 9]),
    (1, 28, 0, [28, 29]),
    (5, 0, 1, [0]),
    (10, 0, 0, [0, 10, 20]),
    (7, 29, 5, [29]),
])
def test_stride_skip_and_cap_pick_exactly_these_frames(clip, stride, skip, cap, expected):
    images, fps, count = load(clip, stride, skip, cap)
    assert indices_of(images) == expected
    assert count == len(expected) and images.shape == (len(expected), 24, 32, 3)
    assert images.dtype == torch.float32 and 0.0 <= images.min() and images.max() <= 1.0
    assert fps == pytest.approx(FPS / stride)


def test_stamps_survive_the_round_trip_closely(clip):
    images, _, _ = load(clip)
    expected = torch.tensor([level(i) for i in range(FRAMES)], dtype=torch.float32)
    assert (images.reshape(FRAMES, -1).mean(1) * 255 - expected).abs().max() < 2.5


def test_skipping_past_the_end_is_a_clear_error(clip):
    with pytest.raises(DrawAVideoError, match="skip_first"):
        load(clip, skip_first=FRAMES)


def test_frames_are_picked_by_ffmpeg_one_at_a_time(clip, monkeypatch):
    """The node asks the reader for just the chosen frames (never the whole clip decoded at once)."""
    calls = []
    real = video_nodes.iter_frames

    def spy(path, stride=1, skip=0, cap=None, size=None):
        calls.append((os.path.basename(path), stride, skip, cap, size))
        yield from real(path, stride=stride, skip=skip, cap=cap, size=size)

    monkeypatch.setattr(video_nodes, "iter_frames", spy)
    load(clip, 3, 2, 4)
    load(clip, 2)
    assert calls == [("stamped.mp4", 3, 2, 4, None), ("stamped.mp4", 2, 0, None, None)]


# -- fitting to a layout ---------------------------------------------------------------

def _banded(height=48, width=64):
    """Red columns 0..7, green 8..55, blue 56..63: a 48x48 centre crop is all green."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:, :8, 0] = 255
    frame[:, 8:56, 1] = 255
    frame[:, 56:, 2] = 255
    return frame


def test_fit_frame_crops_the_centre_and_keeps_the_aspect():
    frame = _banded()
    assert cover_box(64, 48, 48, 48) == (8.0, 0.0, 56.0, 48.0)
    assert np.array_equal(fit_frame(frame, 48, 48), frame[:, 8:56])  # same scale: an exact crop
    small = fit_frame(frame, 32, 32)  # scaled by 2/3 after the crop
    assert small.shape == (32, 32, 3) and small.dtype == np.uint8
    assert small[:, 2:30, 1].min() > 240 and small[:, 2:30, [0, 2]].max() < 15
    assert small[:, :, 0].mean() < 20  # a stretch (no crop) would put the red band in columns 0..3
    tall = fit_frame(frame, 16, 48)  # a tall cell: keep the full height, crop the width to 16
    assert tall.shape == (48, 16, 3) and tall[..., 1].min() > 240


def test_fit_frame_leaves_a_frame_of_the_right_size_alone_and_checks_input():
    frame = _banded()
    assert fit_frame(frame, 64, 48) is frame
    assert fit_frame(frame[..., :1].copy(), 32, 24).shape == (24, 32, 1)
    with pytest.raises(DrawAVideoError):
        fit_frame(frame.astype(np.float32), 32, 32)
    with pytest.raises(DrawAVideoError):
        fit_frame(frame, 0, 32)


def test_a_connected_layout_fits_every_frame_to_its_cell(pack_folders):
    frames = torch.from_numpy(_banded()).float().div(255).expand(4, -1, -1, -1)
    write_video(frames, str(pack_folders["input"] / "banded.webm"), get_format("webm (vp9)"), fps=8, quality=100)
    images, fps, count = load("banded.webm", layout=GridLayout(2, 2, 32, 32))
    assert images.shape == (4, 32, 32, 3) and count == 4 and fps == pytest.approx(8.0)
    assert images[:, 4:28, 4:28, 1].min() > 0.9 and images[:, 4:28, 4:28, 0].max() < 0.1


# -- names and the input folder ------------------------------------------------------------

def test_dropdown_lists_videos_in_subfolders_and_offers_upload(clip, pack_folders):
    (pack_folders["input"] / "notes.txt").write_text("not a video")
    (pack_folders["input"] / "top.webm").write_bytes(b"")
    spec = LoadVideoFramesNode.INPUT_TYPES()
    files, options = spec["required"]["video"]
    assert files == ["clips/stamped.mp4", "top.webm"]
    assert options["video_upload"] is True
    assert spec["optional"]["layout"][0] == "GRID_LAYOUT"
    for name, (_, opts) in {**spec["required"], **spec["optional"]}.items():
        assert opts.get("tooltip"), name


@pytest.mark.parametrize("name", ["../secret.mp4", "clips/../../secret.mp4", "/etc/passwd"])
def test_names_outside_the_input_folder_are_refused(clip, pack_folders, name):
    secret = pack_folders["input"].parent / "secret.mp4"
    secret.write_bytes(open(pack_folders["input"] / "clips" / "stamped.mp4", "rb").read())
    message = LoadVideoFramesNode.VALIDATE_INPUTS(name)
    assert isinstance(message, str) and "video" in message
    with pytest.raises(DrawAVideoError, match="video"):
        load(name)


def test_a_symlink_out_of_the_input_folder_is_refused(clip, pack_folders, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "v.mp4").write_bytes((pack_folders["input"] / "clips" / "stamped.mp4").read_bytes())
    os.symlink(outside, pack_folders["input"] / "link")
    with pytest.raises(DrawAVideoError, match="outside"):
        load("link/v.mp4")


def test_validate_reports_a_missing_file_and_accepts_a_present_one(clip):
    assert LoadVideoFramesNode.VALIDATE_INPUTS(clip) is True
    assert LoadVideoFramesNode.VALIDATE_INPUTS(clip + " [input]") is True
    message = LoadVideoFramesNode.VALIDATE_INPUTS("clips/gone.mp4")
    assert "clips/gone.mp4" in message and "upload" in message


def test_is_changed_follows_the_file(clip, pack_folders):
    before = LoadVideoFramesNode.IS_CHANGED(video=clip, stride=1, skip_first=0, frame_cap=0)
    assert before == LoadVideoFramesNode.IS_CHANGED(video=clip, stride=2)
    path = pack_folders["input"] / clip
    with open(path, "ab") as handle:
        handle.write(b"\0")
    assert LoadVideoFramesNode.IS_CHANGED(video=clip) != before


def test_a_file_that_is_not_a_video_is_a_clear_error(pack_folders):
    (pack_folders["input"] / "fake.mp4").write_bytes(b"not a video at all")
    with pytest.raises(DrawAVideoError, match="fake.mp4"):
        load("fake.mp4")


def test_node_is_registered():
    node = NODE_CLASS_MAPPINGS["DrawAVideo_LoadVideoFrames"]
    assert node.RETURN_TYPES == ("IMAGE", "FLOAT", "INT") and node.CATEGORY == "Draw-a-Video/video"
    assert len(node.OUTPUT_TOOLTIPS) == 3


def test_fitting_frames_logs_no_resize_warning_but_other_readers_still_do(clip, pack_folders, caplog):
    """imageio-ffmpeg warns when frames come out at another size than the source's; the pack fits
    frames to the cell on purpose, so that line must not reach ComfyUI's console for every clip,
    while the same warning from anyone else's reader still gets through."""
    import logging

    from draw_a_video.nodes.engine.video.reader import iter_frames

    path = str(pack_folders["input"] / clip)
    with caplog.at_level(logging.WARNING, logger="imageio_ffmpeg"):
        frames = [frame for _, frame in iter_frames(path, stride=10, size=(16, 8))]
        assert [f.shape for f in frames] == [(8, 16, 3)] * 3
        assert "frame size for reading" not in caplog.text
        logging.getLogger("imageio_ffmpeg").warning("The frame size for reading (1, 1) is different from the source frame size (2, 2).")
        assert "frame size for reading" in caplog.text
