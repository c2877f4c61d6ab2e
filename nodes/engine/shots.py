"""Shot changes on every source frame, from ffmpeg's own detectors, so no training grid spans one.

ffmpeg measures each decoded frame on small copies (160x96, 64x48) in the same pass that
decodes the video for the grids (see video.reader.iter_frames(analysis=..., thumbs=...)):
`scdet` gives the scene-change score of frame n against frame n-1 (0..100; a cut
between two shots scores ~10-40 even when both are dark, continuous motion stays
below ~4), and the 64x48 copy, written raw, gives the frame's luma percentiles (the
values ffmpeg's signalstats reports, computed here: one filter and ~25 printed lines
a frame fewer) and the dissolve test's pictures. From those:

- a cut at frame n: scdet score >= the threshold (frames n-1 and n are two shots);
- a blank frame: nearly flat luma (10th..90th percentile within a few levels):
  black leader, a white flash, a grey card;
- a fade: the frames leading into or out of a blank frame while contrast keeps
  shrinking towards it (fade to black/white) or growing away from it (fade from);
- a dissolve: frames that are mixes of the frames either side of them, from one shot to
  another (dissolves.py, on the 64x48 copy of every frame the same branch writes).

    >>> log = ShotLog(cut_threshold=6.0, thumbs=path_of_the_copies)
    >>> log.read(path_of_metadata_file, final=True)
    >>> [e.reason for e in log.events_in(0, 150)]
    ['black frame 0', 'cut at frame 1', 'cut at frame 98']

Whether a frame belongs to an event depends only on frames within MAX_FADE of it,
so a grid's verdict is the same whether it is judged while ffmpeg still decodes
(ready(last) says when enough is known) or after the whole file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import closing
from dataclasses import dataclass

import numpy as np

from . import dissolves

# scdet scores on 160x96 copies of real footage (tests/data/footage/README.md): cuts 9.9-37 (a
# cut between two dark shots 9.9), continuous motion, camera pans and fades at most 3.9.
DEFAULT_CUT_THRESHOLD = 6.0
ANALYSIS_SIZE = (160, 96)  # scdet's copy; the luma statistics and dissolves take dissolves.THUMB_SIZE (64x48)
BLANK_SPREAD = 12.0  # luma levels between the 10th and 90th percentile of a blank frame
FADE_STEP = 1.0  # a fade's contrast changes by more than this many levels per frame
MAX_FADE = 150  # frames: longest fade followed (6 s at 25 fps)

_SCORE = "lavfi.scd.score"
_LOW, _HIGH = round(dissolves.LUMA_BYTES * 0.1) - 1, round(dissolves.LUMA_BYTES * 0.9) - 1  # signalstats' YLOW, YHIGH


def analysis_filter(metadata_file: str) -> str:
    """The ffmpeg filter chain that measures every frame: scdet's score printed to `metadata_file` (a safe
    path); its output, the 64x48 copy, is what iter_frames(thumbs=...) writes for the luma and dissolve tests."""
    (width, height), (small_w, small_h) = ANALYSIS_SIZE, dissolves.THUMB_SIZE
    return (f"scale={width}:{height}:flags=area,format=yuv420p,scdet=threshold=100,"
            f"scale={small_w}:{small_h}:flags=area,metadata=mode=print:file={metadata_file}")


@dataclass(frozen=True)
class ShotEvent:
    kind: str  # "cut", "blank", "fade" or "dissolve"
    first: int  # first source frame it touches (a cut: the new shot's first frame)
    last: int
    reason: str  # for people: "cut at frame 98", "fade from black, frames 0-9"

    def touches(self, first: int, last: int) -> bool:
        """Does a grid over source frames first..last contain it? A cut at `first` lies outside."""
        if self.kind == "cut":
            return first < self.first <= last
        return self.first <= last and self.last >= first


class ShotLog:
    """Per-frame measurements of one video, read as ffmpeg writes them: the scene scores from its metadata
    print, the luma statistics (as ffmpeg's signalstats gives them: 10th and 90th percentile, mean) and the
    dissolve test from the 64x48 copies of every frame."""

    def __init__(self, cut_threshold: float = DEFAULT_CUT_THRESHOLD, *, thumbs: str):
        """`thumbs`: the raw file of 64x48 copies of every frame (video.reader.iter_frames(thumbs=...))."""
        self.cut_threshold = cut_threshold
        self.thumbs = dissolves.Thumbs(thumbs)
        self._blends: dict = {}  # window centre -> the dissolve window it is the middle of, or None
        self._breaks: list[bool] = []  # per frame: a cut's first frame or blank
        self.score: list[float] = []
        self.spread: list[float] = []
        self.mean: list[float] = []
        self.final = False
        self._offset, self._record = 0, None
        self.folder = self.metadata = self.analysis = None  # set by in_temp_folder

    @classmethod
    def in_temp_folder(cls, cut_threshold: float = DEFAULT_CUT_THRESHOLD) -> ShotLog:
        """A log whose two files live in a new temp folder: `metadata` (ffmpeg's print, read() reads it) and
        `thumbs.path` (the copies); `analysis` is the filter chain for iter_frames. close() removes the folder."""
        folder = tempfile.mkdtemp(prefix="drawavideo-shots-")
        log = cls(cut_threshold, thumbs=os.path.join(folder, "thumbs.yuv"))
        log.folder, log.metadata = folder, os.path.join(folder, "shots.txt")
        log.analysis = analysis_filter(log.metadata)
        return log

    def close(self) -> None:
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __len__(self) -> int:
        return min(len(self.score), len(self.spread))

    def read(self, path: str | None = None, final: bool = False) -> None:
        """Take in the complete frame records added to `path` (default: the log's own `metadata` file), and
        the copies added to the thumbs file, since the last call; `final` once ffmpeg exited."""
        path = path or self.metadata
        count = len(self.thumbs)
        if count > len(self.spread):
            frames = self.thumbs.frames(len(self.spread), count - 1).reshape(count - len(self.spread), -1)
            ordered = np.sort(frames, axis=1)
            self.spread += (ordered[:, _HIGH] - ordered[:, _LOW]).tolist()
            self.mean += frames.mean(1).tolist()
        if os.path.isfile(path):
            with open(path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
            end = data.rfind(b"\n") + 1  # a line still being written waits for the next call
            self._offset += end
            for line in data[:end].decode("utf-8", "replace").splitlines():
                self._line(line)
        if final:
            self._close_record()
            self.final = True

    def _line(self, line: str) -> None:
        if line.startswith("frame:"):
            self._close_record()
            self._record = 0.0  # the first frame has no score
        elif self._record is not None:
            key, _, value = line.strip().partition("=")
            if key == _SCORE:
                self._record = float(value)

    def _close_record(self) -> None:
        record, self._record = self._record, None
        if record is not None:
            self.score.append(record)

    def ready(self, last: int) -> bool:
        """Is enough known to judge a grid that ends at source frame `last`?"""
        return self.final or len(self) > last + MAX_FADE + dissolves.REACH + 1

    # -- events -----------------------------------------------------------------

    def _blank(self, n: int) -> bool:
        return self.spread[n] <= BLANK_SPREAD

    def _cut(self, n: int) -> bool:  # only reached through events_in, which needs cut_threshold > 0
        return self.score[n] >= self.cut_threshold

    def _ramp(self, start: int, step: int) -> int:
        """From blank frame `start`, the farthest frame still fading (contrast growing away from it), no cut crossed."""
        n, end = start, len(self)
        while 0 <= n + step < end and abs(n - start) < MAX_FADE:
            a, b = n + step, n + 2 * step  # a is fading if the frame beyond it has more contrast still
            if self._cut(max(n, a)) or self._blank(a) or not 0 <= b < end or self._cut(max(a, b)):
                break
            if self.spread[b] <= self.spread[a] + FADE_STEP:
                break
            n = a
        return n

    def events_in(self, first: int, last: int) -> list[ShotEvent]:
        """Cuts, blank frames and fades inside source frames first..last, in order."""
        if self.cut_threshold <= 0:
            return []
        last = min(last, len(self) - 1)
        events = [self._cut_event(n) for n in range(max(first + 1, 1), last + 1) if self._cut(n)]
        lo, hi = max(first - MAX_FADE - 1, 0), min(last + MAX_FADE + 1, len(self) - 1)
        n = lo
        while n <= hi:
            if not self._blank(n):
                n += 1
                continue
            while n > 0 and self._blank(n - 1) and not self._cut(n):  # a run that began before lo
                n -= 1
            run_end = n
            while run_end + 1 < len(self) and self._blank(run_end + 1) and not self._cut(run_end + 1):
                run_end += 1
            event = self._fade_event(n, run_end)
            if event.touches(first, last):
                events.append(event)
            n = run_end + 1
        events += [e for e in self._dissolves(first, last) if e.touches(first, last)]
        return sorted(events, key=lambda e: (e.first, e.kind))

    def _dissolves(self, first: int, last: int) -> list[ShotEvent]:
        self._breaks += [self._cut(n) or self._blank(n) for n in range(len(self._breaks), len(self))]
        found = dissolves.find(self.thumbs, first - MAX_FADE, last + MAX_FADE, self._breaks, self._blends)
        return [ShotEvent("dissolve", a, b, f"dissolve, frames {a}-{b}") for a, b in found]

    def _cut_event(self, n: int) -> ShotEvent:
        return ShotEvent("cut", n, n, f"cut at frame {n}")

    def _fade_event(self, start: int, end: int) -> ShotEvent:
        before, after = self._ramp(start, -1), self._ramp(end, 1)
        tone = "black" if self.mean[start] < 60 else "white" if self.mean[start] > 180 else "grey"
        if before < start and after > end:
            what = f"fade to {tone} and back"
        elif before < start:
            what = f"fade to {tone}"
        elif after > end:
            what = f"fade from {tone}"
        else:
            span = f"frame {start}" if start == end else f"frames {start}-{end}"
            return ShotEvent("blank", start, end, f"{tone} {span}")
        return ShotEvent("fade", before, after, f"{what}, frames {before}-{after}")


def measure(path: str, cut_threshold: float = DEFAULT_CUT_THRESHOLD) -> ShotLog:
    """Measure every frame of one video on its own (the dataset builder does it while it decodes)."""
    from .video.reader import iter_frames

    log = ShotLog.in_temp_folder(cut_threshold)
    try:
        with closing(iter_frames(path, stride=1 << 30, size=(16, 16), analysis=log.analysis, thumbs=log.thumbs.path)) as frames:
            for _ in frames:  # only frame 0 is piped; the analysis branch sees them all
                pass
        log.read(final=True)
        log.thumbs.hold()
        return log
    finally:
        log.close()
