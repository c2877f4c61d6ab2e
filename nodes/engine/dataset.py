"""Turn videos into a grid dataset for training a LoRA that draws a whole clip as one image.

The source method trains on real driving footage: every 10th frame, 16 frames
per grid tiled 4x4, each cell 320x192, so a grid is 1280x768. For every video
this streams the frames (picked inside ffmpeg, never a whole clip in memory),
fits each sampled frame to the cell (resize, centre crop), tiles them by the
layout and writes `<name>.png` plus its caption `<name>.txt` -- the folder
format ComfyUI's "Load Image and Text Dataset from Folder" reads -- and one
`manifest.jsonl` line per grid saying where it came from.

    >>> summary = build_grid_dataset("input/driving", "input/draw_a_video_grids", GridLayout(), stride=10)
    >>> print(summary.describe())
    2817 grids in input/draw_a_video_grids (2817 written, 0 kept from before) from 40 videos: 4x4 grids ...

Re-running resumes: a grid whose png and txt exist is kept as it is, never
rewritten, and its manifest line is not repeated. Files are written under a
temporary name and renamed, so a cancel or crash leaves no half-written grid.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import replace
from io import BytesIO

import numpy as np
import torch
from PIL import Image

from .dataset_manifest import Manifest
from .dataset_report import DatasetSummary, GridRecord, SkippedGrid, VideoReport
from .errors import DrawAVideoError
from .files import list_files, publish_new, staged_file
from .grid import merge_image
from .layout import GridLayout
from .prompt import DEFAULT_SUBJECT, DEFAULT_TEMPLATE, word_prompt
from .shots import DEFAULT_CUT_THRESHOLD, ShotLog
from .video.reader import iter_frames

VIDEO_EXTENSIONS = (
    ".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".mts", ".m2ts", ".gif",
)
MANIFEST_NAME = "manifest.jsonl"
# Settings every grid of one dataset shares; a re-run with others would mix grids silently.
SHARED_SETTINGS = ("stride", "hop", "layout")


# -- finding videos -----------------------------------------------------------

def _is_video(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(VIDEO_EXTENSIONS)


def find_videos(folder: str, recursive: bool = False) -> list[str]:
    """Video files in `folder` (and its subfolders if `recursive`), as sorted relative '/' paths."""
    if not os.path.isdir(folder):
        raise DrawAVideoError(f"video folder {folder!r} does not exist; put the videos in a folder and pick it.")
    if recursive:
        return list_files(folder, VIDEO_EXTENSIONS)
    _, _, files = next(os.walk(folder), ("", [], []))
    return sorted(f for f in files if _is_video(f))


def video_folders(root: str) -> list[str]:
    """'.' plus every folder under `root` that directly holds a video, as relative '/' paths (for a dropdown)."""
    return ["."] + sorted({video.rpartition("/")[0] for video in list_files(root, VIDEO_EXTENSIONS) if "/" in video})


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def grid_base_names(videos: list[str]) -> dict[str, str]:
    """Each video's grid-name stem: 'sub/clip.mp4' -> 'sub__clip' (grids 'sub__clip_g0000', ...).

    Videos that would share a stem (clip.mp4 and clip.mov) keep their extension: 'clip_mp4', 'clip_mov'.
    """
    stems = {v: "__".join(_safe(part) for part in os.path.splitext(v)[0].split("/")) for v in videos}
    counts: dict[str, int] = {}
    for stem in stems.values():
        counts[stem] = counts.get(stem, 0) + 1
    return {v: stem if counts[stem] == 1 else f"{stem}_{_safe(os.path.splitext(v)[1].lstrip('.'))}" for v, stem in stems.items()}


def read_subject(video_path: str, default: str) -> str:
    """The subject in the sidecar `<video stem>.txt` next to the video, else `default`."""
    sidecar = os.path.splitext(video_path)[0] + ".txt"
    if os.path.isfile(sidecar):
        with open(sidecar, encoding="utf-8") as f:
            text = " ".join(f.read().split())
        if text:
            return text
    return default


# -- files --------------------------------------------------------------------

def _write_new(path: str, data: bytes) -> None:
    """Write a new file through a hidden temp name (not *.png, so no folder loader picks it up half-written)."""
    with staged_file(os.path.dirname(path), "tmp") as temp:
        with open(temp, "wb") as f:
            f.write(data)
        if not publish_new(temp, path):
            raise DrawAVideoError(f"{path!r} appeared while it was being written; it was left as it is.")


def _png_bytes(grid: np.ndarray) -> bytes:
    buffer = BytesIO()
    Image.fromarray(grid).save(buffer, format="PNG", compress_level=4)
    return buffer.getvalue()


# -- building -----------------------------------------------------------------

class _Unreadable(Exception):
    pass


def _frames(path: str, stride: int, size: tuple[int, int], analysis: str | None, header: dict, thumbs: str | None) -> Iterator[tuple[int, np.ndarray]]:
    """iter_frames fitted to `size` by ffmpeg, with any read failure turned into _Unreadable (frames already yielded stay used)."""
    with closing(iter_frames(path, stride, size=size, analysis=analysis, header=header, thumbs=thumbs)) as frames:
        try:
            yield from frames
        except (DrawAVideoError, OSError) as exc:
            raise _Unreadable(str(exc)) from None


def _settings_text(settings: dict) -> str:
    try:
        layout = GridLayout.from_dict(settings["layout"]).describe()
    except (KeyError, TypeError, DrawAVideoError):
        layout = f"layout {settings.get('layout')!r}"
    return f"stride {settings.get('stride')}, hop {settings.get('hop')}, {layout}"


WRITERS, WRITE_AHEAD = 2, 4  # PNG encoding releases the GIL; four waiting grids hold ~12 MB of cells


class _Builder:
    """Cuts grids from one video after another. Tiling and PNG encoding run on writer threads, so
    ffmpeg keeps decoding meanwhile (grids judged together, once frames after them are measured,
    are encoded side by side, a video's last ones while the next video decodes); at most WRITE_AHEAD
    grids wait there, they are recorded in order, and every one is finished and recorded (even on
    cancel) before build_grid_dataset returns or raises, so records and manifest lines stay in order."""

    def __init__(self, folder, layout, stride, hop, max_grids, threshold, check_cancel, summary, manifest, writer):
        self.folder, self.layout, self.stride, self.hop = folder, layout, stride, hop
        self.max_grids, self.threshold, self.check_cancel = max_grids, threshold, check_cancel
        self.summary, self.manifest, self.writer = summary, manifest, writer
        self.files = set(os.listdir(folder))
        self.settings = {"stride": stride, "hop": hop, "layout": replace(layout, frame_stride=stride).to_dict()}
        self._pending: deque[tuple[Future, dict, GridRecord]] = deque()

    def _done(self, name: str) -> bool:
        return f"{name}.png" in self.files and f"{name}.txt" in self.files

    def _needed(self, base: str, k: int, next_grid: int) -> bool:
        """Does sampled frame k belong to a grid still to be built (so it must be kept)?"""
        n = self.layout.frames
        first = max(next_grid, -(-(k - n + 1) // self.hop))
        return any(not self._done(self._name(base, g)) for g in range(first, k // self.hop + 1))

    def _name(self, base: str, g: int) -> str:
        return f"{base}_g{g:04d}"

    def _span(self, g: int) -> tuple[int, int]:
        first = g * self.hop * self.stride
        return first, first + (self.layout.frames - 1) * self.stride

    def video(self, source: str, path: str, base: str, caption: str) -> None:
        """Cut one video into grids. ffmpeg measures every frame for shot changes in the same decoding
        pass; a finished grid waits (in `waiting`) until enough frames after it are measured to judge it."""
        n, cell = self.layout.frames, (self.layout.cell_width, self.layout.cell_height)
        report = VideoReport(source)
        self.summary.reports.append(report)
        log = ShotLog.in_temp_folder(self.threshold) if self.threshold > 0 else None
        buffer: dict[int, np.ndarray] = {}  # sampled index -> cell-sized frame
        waiting: deque[tuple[int, np.ndarray | None]] = deque()  # (grid, its cells; None: done before)
        next_grid, sampled, failure, header = 0, 0, "", {}
        try:
            try:
                analysis, thumbs = (log.analysis, log.thumbs.path) if log is not None else (None, None)
                with closing(_frames(path, self.stride, cell, analysis, header, thumbs)) as frames:
                    for k, (_, frame) in enumerate(frames):
                        self.check_cancel()
                        sampled = k + 1
                        if self._needed(base, k, next_grid):  # frames come cell-sized from ffmpeg
                            buffer[k] = frame
                        if log is not None:
                            log.read()
                        if k >= next_grid * self.hop + n - 1:  # grid next_grid is complete
                            done = self._done(self._name(base, next_grid))
                            start = next_grid * self.hop
                            waiting.append((next_grid, None if done else np.stack([buffer[start + j] for j in range(n)])))
                            next_grid += 1
                            for old in [key for key in buffer if key < next_grid * self.hop]:
                                del buffer[old]
                        if self._judge(waiting, log, report, base, caption):
                            return
            except _Unreadable as exc:
                if sampled == 0:
                    report.unreadable = str(exc)
                    self.manifest.note({"video": source, "unreadable": report.unreadable})
                    return
                failure = str(exc)
            if log is not None:
                log.read(final=True)
            if self._judge(waiting, log, report, base, caption):
                return
        finally:  # grids still on the writer threads are finished and recorded by build_grid_dataset
            if log is not None:
                log.close()
        self._report_frames(report, header, log, sampled, next_grid, failure)

    def _report_frames(self, report: VideoReport, header: dict, log: ShotLog | None, sampled: int, grids: int, failure: str) -> None:
        """Too short, damaged, cut short: what the video's frames say, into the report and the manifest."""
        n = self.layout.frames
        if log is not None:
            report.frames = len(log)
            have = f"{len(log)} frames"
        else:
            have = f"{sampled} frames sampled every {self.stride}"
        if failure:
            where = f"frame {len(log)}" if log is not None else f"sampled frame {sampled}"
            report.damaged = f"decoding failed at {where} ({failure}); the frames before it were used"
        elif log is not None:
            expected = round(float(header.get("fps") or 0) * float(header.get("duration") or 0))
            if len(log) < 0.9 * expected and expected - len(log) > 5:
                report.damaged = (f"decoding stopped at frame {len(log)} of about {expected} (the file is damaged or "
                                  "cut short); the frames before it were used")
        if grids == 0:
            need = f"{(n - 1) * self.stride + 1} frames" if log is not None else f"{n}"
            report.too_short = f"too short: {have}, a grid needs {need}"
            self.manifest.note({"video": report.source, "too_short": report.too_short})
        if report.damaged:
            self.manifest.note({"video": report.source, "damaged": report.damaged})

    def _judge(self, waiting: deque, log: ShotLog | None, report: VideoReport, base: str, caption: str) -> bool:
        """Write or skip the waiting grids that can be judged now, in order; True once max_grids are taken."""
        while waiting:
            g, cells = waiting[0]
            first, last = self._span(g)
            if cells is not None and log is not None and not log.ready(last):
                return False
            waiting.popleft()
            events = log.events_in(first, last) if cells is not None and log is not None else []
            if events:
                reason = "; ".join(e.reason for e in events)
                name = self._name(base, g)
                report.skipped.append(SkippedGrid(name, report.source, first, last, reason))
                self.manifest.note({"grid": name, "skipped": reason, "source": report.source,
                                    "first_frame": first, "last_frame": last, **self.settings})
                continue
            self._finish(report.source, base, g, cells, caption)
            report.kept += 1
            if self.max_grids and report.kept >= self.max_grids:
                return True
        return False

    def _finish(self, source: str, base: str, g: int, cells: np.ndarray | None, caption: str) -> None:
        """Write grid g from its cells, or keep it as an earlier run wrote it (cells None)."""
        name = self._name(base, g)
        first_frame, last_frame = self._span(g)
        png, txt = os.path.join(self.folder, f"{name}.png"), os.path.join(self.folder, f"{name}.txt")
        record = {"grid": name, "image": f"{name}.png", "text": f"{name}.txt", "source": source,
                  "first_frame": first_frame, "last_frame": last_frame, **self.settings, "caption": caption}
        if cells is None:
            self._drain()
            old = self.manifest.records.get(name)
            if old is not None and (old.get("source"), old.get("first_frame")) != (source, first_frame):
                raise DrawAVideoError(
                    f"dataset grid {name!r} was cut from {old.get('source')!r} frame {old.get('first_frame')}, not "
                    f"{source!r} frame {first_frame}; grids are never overwritten, so choose another dataset_name."
                )
            with open(txt, encoding="utf-8") as f:
                kept_caption = f.read().strip()
            self.manifest.add({**record, "caption": kept_caption})  # repairs a line lost to a crash
            self.summary.grids.append(GridRecord(name, png, kept_caption, source, first_frame, written=False))
            return
        while len(self._pending) >= WRITE_AHEAD:
            self._record_oldest()
        future = self.writer.submit(self._write, cells, png, txt, caption)
        self._pending.append((future, record, GridRecord(name, png, caption, source, first_frame, written=True)))

    def _write(self, cells: np.ndarray, png: str, txt: str, caption: str) -> None:
        """Tile and publish one grid (on the writer thread): png first, caption second, so a grid
        only counts as done when both exist."""
        grid = merge_image(torch.from_numpy(cells), self.layout)[0].numpy()
        for path, data in ((png, lambda: _png_bytes(grid)), (txt, lambda: caption.encode("utf-8"))):
            if os.path.basename(path) not in self.files:
                _write_new(path, data())

    def _drain(self) -> None:
        """Wait for every grid on the writer threads (an error is raised here) and record them, in order."""
        while self._pending:
            self._record_oldest()

    def _record_oldest(self) -> None:
        future, record, grid = self._pending.popleft()
        try:
            future.result()
        except BaseException:
            for later, _, _ in self._pending:  # none of the later ones is recorded; let them finish first
                later.exception()
            self._pending.clear()
            raise
        self.files.update((os.path.basename(grid.image), f"{grid.name}.txt"))
        self.manifest.add(record)
        self.summary.grids.append(grid)


def build_grid_dataset(
    videos_folder: str,
    dataset_folder: str,
    layout: GridLayout | None = None,
    *,
    stride: int = 10,
    hop: int = 0,
    subject: str = DEFAULT_SUBJECT,
    template: str = DEFAULT_TEMPLATE,
    max_grids_per_video: int = 0,
    cut_threshold: float = DEFAULT_CUT_THRESHOLD,
    recursive: bool = False,
    on_progress: Callable[[int, int, int], None] | None = None,
    check_cancel: Callable[[], None] | None = None,
) -> DatasetSummary:
    """Cut every video in `videos_folder` into grids and write them, captioned, into `dataset_folder`.

    Every `stride`th frame is sampled; a grid takes `layout.frames` sampled frames and the next grid starts
    `hop` sampled frames later (0: right after, no overlap). `subject` words the caption unless a sidecar
    `<video stem>.txt` says what that video shows. Every source frame is checked for shot changes
    (shots.ShotLog): a grid over a cut (ffmpeg's scdet score >= `cut_threshold`, 0..100; 0 = no checks),
    a fade, a dissolve or blank frames is skipped, and the report says where. `max_grids_per_video` (0 = all) caps the
    grids taken from one video. `on_progress(videos_done, videos_total, grids_so_far)` is called after each
    video; `check_cancel()` between frames may raise to stop -- grids finished by then stay, whole.
    Unreadable and damaged videos are named in the summary (a damaged one gives the grids before the damage).
    """
    layout = layout or GridLayout()
    for name, value, low in (("stride", stride, 1), ("hop", hop, 0), ("max_grids_per_video", max_grids_per_video, 0)):
        if not isinstance(value, int) or value < low:
            raise DrawAVideoError(f"{name} is {value!r} but must be a whole number of at least {low}.")
    if not 0 <= cut_threshold <= 100:
        raise DrawAVideoError(f"cut_threshold is {cut_threshold} but must be between 0 (off) and 100 (ffmpeg's scene score).")
    hop = hop or layout.frames
    check_cancel = check_cancel or (lambda: None)
    word_prompt(layout, subject, template)  # a bad template or empty subject fails before any work

    videos = find_videos(videos_folder, recursive)
    if not videos:
        raise DrawAVideoError(
            f"video folder {videos_folder!r} holds no videos ({', '.join(VIDEO_EXTENSIONS[:6])}, ...); "
            "put the footage there or pick another folder."
        )
    os.makedirs(dataset_folder, exist_ok=True)
    manifest = Manifest(os.path.join(dataset_folder, MANIFEST_NAME))
    summary = DatasetSummary(dataset_folder, layout, stride, videos=len(videos))
    writer = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="drawavideo-grid-writer")
    builder = _Builder(dataset_folder, layout, stride, hop, max_grids_per_video, cut_threshold,
                       check_cancel, summary, manifest, writer)
    for old in manifest.records.values():
        if {k: old.get(k) for k in SHARED_SETTINGS} != builder.settings:
            raise DrawAVideoError(
                f"dataset folder {dataset_folder!r} already holds grids made with {_settings_text(old)}; this run "
                f"uses {_settings_text(builder.settings)}. Grids are never overwritten: use the same settings to "
                "add to it, or choose another dataset_name."
            )

    bases = grid_base_names(videos)
    captions = {v: word_prompt(layout, read_subject(os.path.join(videos_folder, v), subject), template) for v in videos}
    for old in manifest.records.values():
        if old.get("source") in captions and old.get("caption") != captions[old["source"]]:
            raise DrawAVideoError(
                f"dataset folder {dataset_folder!r} already holds grids of {old['source']!r} captioned "
                f"{old.get('caption')!r}; this run would caption them {captions[old['source']]!r}. Grids are never "
                "overwritten: delete that video's grids and manifest lines, or choose another dataset_name."
            )

    try:
        for done, video in enumerate(videos, 1):
            check_cancel()
            builder.video(video, os.path.join(videos_folder, video), bases[video], captions[video])
            if on_progress is not None:
                on_progress(done, len(videos), len(summary.grids) + len(builder._pending))
        builder._drain()  # a video's last grids are encoded while the next one decodes; all recorded here
    except BaseException:
        with contextlib.suppress(Exception):
            builder._drain()  # whole grids, recorded, even on cancel (the first error is the one raised)
        raise
    finally:
        writer.shutdown(wait=True)
    return summary
