"""Videos -> grid dataset: real clips written here, grids decoded back, resume, cuts, damage, cancel, the node."""

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import torch
from dav_testkit.workflows import CORE_OBJECT_INFO
from draw_a_video.nodes import host
from draw_a_video.nodes.dataset_nodes import VideosToGridDatasetNode
from draw_a_video.nodes.engine.dataset import MANIFEST_NAME, build_grid_dataset, grid_base_names
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.engine.prompt import DEFAULT_SUBJECT
from PIL import Image

SMALL = GridLayout(rows=2, cols=2, cell_width=32, cell_height=16)  # 64x32 grids of 4 frames
SIZE = (64, 48)  # source frames: wider aspect than the cells, so they are cropped top and bottom
CUT_AT = 45  # cut.mkv changes scene between sampled frames 40 and 50


# -- test footage --------------------------------------------------------------

def stamped_frame(index: int, width: int, height: int, background: int = 20) -> np.ndarray:
    """A frame carrying its own index: 8 bars (one bit each, grey 96 = 0, 160 = 1) across the middle third,
    which survive lossy coding and resizing, plus a red square moving along the bottom."""
    frame = np.full((height, width, 3), background, np.uint8)
    for bit in range(8):
        frame[height // 3 : 2 * height // 3, bit * width // 8 : (bit + 1) * width // 8] = 160 if index >> bit & 1 else 96
    side = max(height // 8, 2)
    x = index * 3 % (width - side)
    frame[int(height * 0.72) : int(height * 0.72) + side, x : x + side] = (230, 40, 40)
    return frame


def write_video(path: Path, frames, size=SIZE, codec: str = "ffv1") -> None:
    pix_fmt = {"ffv1": "bgr0", "libx264": "yuv420p"}[codec]
    writer = imageio_ffmpeg.write_frames(str(path), size, fps=30, codec=codec, pix_fmt_out=pix_fmt, macro_block_size=1)
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def clip(count: int, size=SIZE, cut_at: int | None = None):
    return (stamped_frame(i, *size, background=20 if cut_at is None or i < cut_at else 235) for i in range(count))


@pytest.fixture(scope="module")
def footage(tmp_path_factory) -> Path:
    """The test clips, written once: lossless and lossy, a hard cut, a short clip, a damaged file, a sidecar."""
    folder = tmp_path_factory.mktemp("footage")
    write_video(folder / "road.mkv", clip(100))  # 10 sampled frames: grids at 0 and 40
    write_video(folder / "strip.mp4", clip(80), codec="libx264")  # 8 sampled: grids at 0 and 40
    (folder / "strip.txt").write_text("a blue car driving on Mars\n", encoding="utf-8")
    write_video(folder / "cut.mkv", clip(120, cut_at=CUT_AT))  # grids at 0, 40 (spans the cut), 80
    write_video(folder / "short.mkv", clip(25))  # 3 sampled frames: too short for 4
    write_video(folder / "whole.mp4", clip(60), codec="libx264")
    data = (folder / "whole.mp4").read_bytes()
    (folder / "broken.mp4").write_bytes(data[: len(data) // 2])  # index atom lost: unreadable
    (folder / "whole.mp4").unlink()
    return folder


@pytest.fixture
def clips(footage, pack_folders) -> Path:
    """A fresh copy of the footage in this test's ComfyUI input folder, under clips/."""
    folder = pack_folders["input"] / "clips"
    shutil.copytree(footage, folder)
    return folder


def cell_point(x: float, y: float, src_w: int, src_h: int, cell_w: int, cell_h: int) -> tuple[int, int]:
    """Where source point (x, y) lands in a cell after resize-to-cover and centre crop."""
    scale = max(cell_w / src_w, cell_h / src_h)
    left, top = (src_w - cell_w / scale) / 2, (src_h - cell_h / scale) / 2
    return int((x - left) * scale), int((y - top) * scale)


def read_stamp(cell: np.ndarray, src_w: int, src_h: int) -> int:
    value = 0
    for bit in range(8):
        x, y = cell_point((bit + 0.5) * src_w / 8, src_h / 2, src_w, src_h, cell.shape[1], cell.shape[0])
        value |= int(cell[y, x].mean() > 128) << bit
    return value


def grid_stamps(png: Path, layout: GridLayout, size=SIZE) -> list[int]:
    """The source frame index drawn in each cell, in the layout's frame order."""
    grid = np.asarray(Image.open(png).convert("RGB"))
    assert grid.shape == (layout.height, layout.width, 3)
    stamps = []
    for frame in range(layout.frames):
        y, x = layout.cell_origin(*layout.cell_of_frame(frame))
        stamps.append(read_stamp(grid[y : y + layout.cell_height, x : x + layout.cell_width], *size))
    return stamps


def caption(subject: str, layout: GridLayout = SMALL) -> str:
    return (
        f"Generate a {layout.frames}-frame video arranged in a {layout.rows}x{layout.cols} grid, "
        f"where the blocks represent {subject}."
    )


def manifest(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / MANIFEST_NAME).read_text(encoding="utf-8").splitlines()]


def grid_lines(folder: Path) -> list[dict]:
    """The manifest's lines for grids written (skipped grids and video problems have lines of their own)."""
    return [line for line in manifest(folder) if "image" in line]


def folder_state(folder: Path) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


EXPECTED = {  # grid name -> (source, first frame, subject)
    "cut_g0000": ("cut.mkv", 0, DEFAULT_SUBJECT),
    "cut_g0002": ("cut.mkv", 80, DEFAULT_SUBJECT),
    "road_g0000": ("road.mkv", 0, DEFAULT_SUBJECT),
    "road_g0001": ("road.mkv", 40, DEFAULT_SUBJECT),
    "strip_g0000": ("strip.mp4", 0, "a blue car driving on Mars"),
    "strip_g0001": ("strip.mp4", 40, "a blue car driving on Mars"),
}


def build(clips: Path, dataset: Path, **options):
    options = {"stride": 10, "cut_threshold": 6.0, **options}
    return build_grid_dataset(str(clips), str(dataset), options.pop("layout", SMALL), **options)


# -- the engine ------------------------------------------------------------------

def test_grids_hold_every_10th_frame_with_captions_and_manifest(clips, tmp_path):
    dataset = tmp_path / "grids"
    progress = []
    summary = build(clips, dataset, on_progress=lambda *args: progress.append(args))

    assert [g.name for g in summary.grids] == sorted(EXPECTED)
    assert (summary.written, summary.kept) == (6, 0)
    assert [(s.name, s.first_frame, s.last_frame, s.reason) for s in summary.skipped] == [
        ("cut_g0001", 40, 70, f"cut at frame {CUT_AT}")]
    assert summary.too_short == ["short.mkv"]
    assert [name for name, _ in summary.unreadable] == ["broken.mp4"]
    assert "broken.mp4" in summary.unreadable[0][1]
    assert progress == [(1, 5, 0), (2, 5, 2), (3, 5, 4), (4, 5, 4), (5, 5, 6)]
    assert not (dataset / "cut_g0001.png").exists()  # frames 40..70 span the cut at 45

    for name, (_source, first, subject) in EXPECTED.items():
        assert grid_stamps(dataset / f"{name}.png", SMALL) == [first + 10 * j for j in range(4)], name
        assert (dataset / f"{name}.txt").read_text(encoding="utf-8") == caption(subject)
    assert summary.captions == [caption(EXPECTED[g.name][2]) for g in summary.grids]
    assert summary.images == [str(dataset / f"{name}.png") for name in sorted(EXPECTED)]

    lines = grid_lines(dataset)
    assert [line["grid"] for line in lines] == sorted(EXPECTED)
    for line in lines:
        source, first, subject = EXPECTED[line["grid"]]
        assert line == {
            "grid": line["grid"], "image": f"{line['grid']}.png", "text": f"{line['grid']}.txt", "source": source,
            "first_frame": first, "last_frame": first + 30, "stride": 10, "hop": 4,
            "layout": SMALL.to_dict(), "caption": caption(subject),
        }
    assert sorted(p.name for p in dataset.iterdir()) == sorted([f"{n}.{e}" for n in EXPECTED for e in ("png", "txt")] + [MANIFEST_NAME])
    notes = [line for line in manifest(dataset) if "image" not in line]
    assert notes == [
        {"video": "broken.mp4", "unreadable": summary.unreadable[0][1]},
        {"grid": "cut_g0001", "skipped": f"cut at frame {CUT_AT}", "source": "cut.mkv", "first_frame": 40,
         "last_frame": 70, "stride": 10, "hop": 4, "layout": SMALL.to_dict()},
        {"video": "short.mkv", "too_short": "too short: 25 frames, a grid needs 31 frames"},
    ]
    text = summary.describe().splitlines()
    assert text[1:] == [
        "Skipped 1 grid that would span a shot change (listed below).",
        f"broken.mp4: could not be read: {summary.unreadable[0][1]}",
        "cut.mkv: 2 grids kept, 1 skipped:",
        f"  frames 40-70: cut at frame {CUT_AT}",
        "road.mkv: 2 grids kept.",
        "short.mkv: too short: 25 frames, a grid needs 31 frames.",
        "strip.mp4: 2 grids kept.",
    ]


def test_layout_order_hop_and_cap_pick_the_frames(clips, tmp_path):
    layout = replace(SMALL, order="column-major", frame_stride=3)  # the run's stride wins over the layout's
    summary = build(clips, tmp_path / "grids", layout=layout, hop=2, max_grids_per_video=3, cut_threshold=0)
    road = [g for g in summary.grids if g.source == "road.mkv"]
    assert [g.first_frame for g in road] == [0, 20, 40]  # overlapping grids, capped at 3
    for grid in road:
        assert grid_stamps(Path(grid.image), layout) == [grid.first_frame + 10 * j for j in range(4)]
    assert [g.first_frame for g in summary.grids if g.source == "cut.mkv"] == [0, 20, 40]  # cut detection off
    assert grid_lines(tmp_path / "grids")[0]["layout"] == replace(layout, frame_stride=10).to_dict()


def test_default_layout_makes_the_methods_1280x768_grids(tmp_path):
    videos, size = tmp_path / "videos", (320, 180)  # upscaled a little to cover 320x192, cropped at the sides
    videos.mkdir()
    write_video(videos / "drive.mkv", clip(76, size=size), size=size)  # exactly 16 frames at stride 5
    summary = build(videos, tmp_path / "grids", layout=GridLayout(), stride=5)
    assert [g.name for g in summary.grids] == ["drive_g0000"]
    assert grid_stamps(Path(summary.images[0]), GridLayout(), size=size) == list(range(0, 80, 5))
    assert summary.captions == [
        "Generate a 16-frame video arranged in a 4x4 grid, where the blocks represent continuous scenes of "
        "driving down the Las Vegas Strip."
    ]


def test_rerun_resumes_without_rewriting(clips, tmp_path):
    dataset = tmp_path / "grids"
    build(clips, dataset)
    before, lines = folder_state(dataset), manifest(dataset)

    again = build(clips, dataset)
    assert (again.written, again.kept) == (0, 6)
    assert folder_state(dataset) == before  # nothing rewritten, manifest not appended to
    assert [g.caption for g in again.grids] == [caption(EXPECTED[n][2]) for n in sorted(EXPECTED)]

    (dataset / "road_g0001.png").unlink()  # a lost grid is made again; its manifest line is not repeated
    (dataset / "road_g0001.txt").unlink()
    third = build(clips, dataset)
    assert [g.name for g in third.grids if g.written] == ["road_g0001"]
    assert grid_stamps(dataset / "road_g0001.png", SMALL) == [40, 50, 60, 70]
    assert manifest(dataset) == lines


def test_rerun_with_other_settings_is_refused(clips, tmp_path):
    dataset = tmp_path / "grids"
    build(clips, dataset)
    before = folder_state(dataset)
    with pytest.raises(DrawAVideoError, match="stride 10.*stride 5.*dataset_name"):
        build(clips, dataset, stride=5)
    with pytest.raises(DrawAVideoError, match="captioned.*dataset_name"):
        build(clips, dataset, subject="walking in Tokyo")
    assert folder_state(dataset) == before


def test_cancel_keeps_finished_grids_whole_and_resume_completes(clips, tmp_path):
    dataset = tmp_path / "grids"
    calls = []

    def cancel_after_20_checks():
        calls.append(1)
        if len(calls) == 20:  # the user presses cancel part-way through the videos
            host.request_interrupt()
        host.check_interrupted()

    with pytest.raises(host.Interrupted):
        build(clips, dataset, check_cancel=cancel_after_20_checks)
    names = sorted(p.name for p in dataset.iterdir())
    assert all(n.endswith((".png", ".txt")) or n == MANIFEST_NAME for n in names), names  # no temp files
    grids = sorted(n[:-4] for n in names if n.endswith(".png"))
    assert 0 < len(grids) < len(EXPECTED)
    assert sorted(n[:-4] for n in names if n.endswith(".txt")) == grids
    assert [line["grid"] for line in grid_lines(dataset)] == grids
    for name in grids:
        assert grid_stamps(dataset / f"{name}.png", SMALL)[0] == EXPECTED[name][1]
    kept = {n: s for n, s in folder_state(dataset).items() if n != MANIFEST_NAME}

    summary = build(clips, dataset)
    assert (summary.written, summary.kept) == (len(EXPECTED) - len(grids), len(grids))
    assert {n: s for n, s in folder_state(dataset).items() if n in kept} == kept
    assert [line["grid"] for line in grid_lines(dataset)] == grids + sorted(set(EXPECTED) - set(grids))


def test_same_stems_get_distinct_names():
    assert grid_base_names(["clip.mp4", "clip.mov", "day 1/clip.mp4", "b.mkv"]) == {
        "clip.mp4": "clip_mp4", "clip.mov": "clip_mov", "day 1/clip.mp4": "day_1__clip", "b.mkv": "b",
    }


def test_bad_options_and_empty_folder_are_refused(clips, tmp_path):
    with pytest.raises(DrawAVideoError, match="stride"):
        build(clips, tmp_path / "a", stride=0)
    with pytest.raises(DrawAVideoError, match="cut_threshold"):
        build(clips, tmp_path / "a", cut_threshold=200.0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DrawAVideoError, match="holds no videos"):
        build(tmp_path / "empty", tmp_path / "a")
    assert not (tmp_path / "a").exists()


# -- the node -------------------------------------------------------------------

NODE_DEFAULTS = dict(
    layout=SMALL, stride=10, hop=0, subject=DEFAULT_SUBJECT, dataset_name="draw_a_video_grids",
    max_grids_per_video=0, cut_threshold=6.0, output_images=True,
)


def run_node(**inputs):
    return VideosToGridDatasetNode().build(**{"video_folder": "clips", **NODE_DEFAULTS, **inputs})


def native_folder_loader(folder: Path) -> tuple[list[str], list[str]]:
    """What ComfyUI's LoadImageTextDataSetFromFolder pairs up (comfy_extras/nodes_dataset.py, top level)."""
    images = [f for f in os.listdir(folder) if f.lower().endswith((".png", ".jpg", ".jpeg", ".webp"))]
    captions = []
    for image in images:
        text = folder / image.replace(os.path.splitext(image)[1], ".txt")
        captions.append(text.read_text(encoding="utf-8").strip() if text.exists() else "")
    return images, captions


def test_node_builds_the_dataset_for_make_training_dataset(clips, pack_folders):
    nested = pack_folders["input"] / "trips" / "day1"
    nested.mkdir(parents=True)
    shutil.copy(clips / "road.mkv", nested / "road.mkv")
    options = VideosToGridDatasetNode.INPUT_TYPES()["required"]["video_folder"][0]
    assert options == [".", "clips", "trips/day1"]

    out = run_node()
    images, captions, summary, name = out["result"]
    assert len(images) == len(captions) == 6 and name == "draw_a_video_grids"
    for image, text, name in zip(images, captions, sorted(EXPECTED)):
        assert image.shape == (1, 32, 64, 3) and image.dtype == torch.float32  # MakeTrainingDataset encodes each
        assert float(image.min()) >= 0 and float(image.max()) <= 1
        assert text == caption(EXPECTED[name][2])
    assert summary == out["ui"]["text"][0] and "6 grids" in summary and "broken.mp4" in summary

    dataset = pack_folders["input"] / "draw_a_video_grids"
    files, texts = native_folder_loader(dataset)
    assert dict(zip(files, texts)) == {f"{n}.png": caption(EXPECTED[n][2]) for n in EXPECTED}
    pixels = np.asarray(Image.open(dataset / "road_g0001.png").convert("RGB"), np.float32) / 255
    assert torch.equal(images[sorted(EXPECTED).index("road_g0001")][0], torch.from_numpy(pixels))


def test_node_without_image_outputs_still_writes_the_folder(clips, pack_folders):
    images, captions, summary, name = run_node(output_images=False, dataset_name="sets/driving")["result"]
    assert images == [] and captions == [] and name == "sets/driving"
    assert len(list((pack_folders["input"] / "sets" / "driving").glob("*.png"))) == 6


@pytest.mark.parametrize("inputs, what", [
    ({"video_folder": "../outside"}, "video_folder"),
    ({"video_folder": "/etc"}, "video_folder"),
    ({"dataset_name": "../escaped"}, "dataset_name"),
    ({"dataset_name": "/tmp/escaped"}, "dataset_name"),
    ({"dataset_name": "."}, "dataset_name"),
    ({"dataset_name": "clips"}, "dataset_name"),
])
def test_node_refuses_paths_outside_the_input_folder(clips, pack_folders, inputs, what):
    before = sorted(p.name for p in pack_folders["input"].parent.iterdir())
    with pytest.raises(DrawAVideoError, match=what):
        run_node(**inputs)
    assert sorted(p.name for p in pack_folders["input"].parent.iterdir()) == before
    assert sorted(p.name for p in pack_folders["input"].iterdir()) == ["clips"]


def test_node_cancel_keeps_finished_grids(clips, pack_folders, monkeypatch):
    class CancelAfterFirstVideos(host.Progress):
        def update(self, steps=1, preview=None):
            super().update(steps, preview)
            if self.current == 2:  # broken.mp4 and cut.mkv done
                host.request_interrupt()

    monkeypatch.setattr(host, "Progress", CancelAfterFirstVideos)
    with pytest.raises(host.Interrupted):
        run_node()
    dataset = pack_folders["input"] / "draw_a_video_grids"
    assert sorted(p.name for p in dataset.iterdir()) == [
        "cut_g0000.png", "cut_g0000.txt", "cut_g0002.png", "cut_g0002.txt", MANIFEST_NAME,
    ]


def test_node_with_no_usable_video_says_why(pack_folders):
    folder = pack_folders["input"] / "tiny"
    folder.mkdir()
    write_video(folder / "blip.mkv", clip(5))
    with pytest.raises(DrawAVideoError, match="(?s)no grids.*too short"):
        run_node(video_folder="tiny")


def test_node_is_changed_follows_the_video_folder(clips):
    inputs = {"video_folder": "clips", **NODE_DEFAULTS}
    first = VideosToGridDatasetNode.IS_CHANGED(**inputs)
    assert VideosToGridDatasetNode.IS_CHANGED(**inputs) == first
    shutil.copy(clips / "road.mkv", clips / "road2.mkv")
    second = VideosToGridDatasetNode.IS_CHANGED(**inputs)
    assert second != first
    (clips / "road.txt").write_text("a tram in Lisbon", encoding="utf-8")  # a new subject sidecar
    assert VideosToGridDatasetNode.IS_CHANGED(**inputs) != second
    assert VideosToGridDatasetNode.IS_CHANGED(**{**inputs, "video_folder": "../x"}) != VideosToGridDatasetNode.IS_CHANGED(**{**inputs, "video_folder": "../x"})


def test_node_outputs_match_the_native_training_inputs():
    info = json.loads(CORE_OBJECT_INFO.read_text(encoding="utf-8"))  # from a real ComfyUI 0.8.0
    make = info["MakeTrainingDataset"]["input"]
    assert VideosToGridDatasetNode.RETURN_TYPES[0] == make["required"]["images"][0] == "IMAGE"
    assert VideosToGridDatasetNode.RETURN_TYPES[1] == make["optional"]["texts"][0] == "STRING"
    # The native folder loader feeds the same node: our first two outputs must be exactly its kind.
    loader = info["LoadImageTextDataSetFromFolder"]
    assert list(VideosToGridDatasetNode.RETURN_TYPES[:2]) == loader["output"]
    assert list(VideosToGridDatasetNode.OUTPUT_IS_LIST[:2]) == loader["output_is_list"] == [True, True]
    assert VideosToGridDatasetNode.OUTPUT_IS_LIST[2] is False
    spec = VideosToGridDatasetNode.INPUT_TYPES()
    assert all("tooltip" in options for group in spec.values() for _, options in group.values())
