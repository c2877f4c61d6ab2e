"""What a dataset build did, per video, in words a person can act on.

    >>> print(summary.describe())
    5 grids in input/grids (5 written, 0 kept from before) from 3 videos: 4x4 grids of 320x192 cells ...
    trailer.avi: 0 grids kept, 1 skipped:
      frames 0-150: black frame 0; cut at frame 1; cut at frame 98
    short.mp4: too short: 151 frames, a grid needs 160.
    damaged.avi: 1 grid kept. Damaged: decoding stopped at frame 96 of about 270 (the frames before it were used).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .layout import GridLayout


@dataclass(frozen=True)
class GridRecord:
    name: str  # file stem in the dataset folder
    image: str  # full path of the png
    caption: str
    source: str  # video path relative to the video folder
    first_frame: int
    written: bool  # False: kept from an earlier run


@dataclass(frozen=True)
class SkippedGrid:
    name: str
    source: str
    first_frame: int
    last_frame: int
    reason: str  # "cut at frame 98; fade from black, frames 0-9"


@dataclass
class VideoReport:
    source: str
    kept: int = 0
    skipped: list[SkippedGrid] = field(default_factory=list)
    frames: int | None = None  # source frames decoded (None: not counted)
    too_short: str = ""  # "too short: 151 frames, a grid needs 160"
    unreadable: str = ""  # nothing could be read: why
    damaged: str = ""  # frames were read, then decoding failed: where

    def describe(self) -> str:
        if self.unreadable:
            return f"{self.source}: could not be read: {self.unreadable}"
        if self.too_short:  # set only when no grid fit, so none was kept or skipped
            text = f"{self.source}: {self.too_short}."
        else:
            text = f"{self.source}: {_count(self.kept, 'grid')} kept"
            text += f", {len(self.skipped)} skipped:" if self.skipped else "."
        lines = [text + (f" Damaged: {self.damaged}." if self.damaged else "")]
        lines += [f"  frames {s.first_frame}-{s.last_frame}: {s.reason}" for s in self.skipped]
        return "\n".join(lines)


@dataclass
class DatasetSummary:
    folder: str
    layout: GridLayout
    stride: int
    videos: int = 0
    grids: list[GridRecord] = field(default_factory=list)
    reports: list[VideoReport] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(g.written for g in self.grids)

    @property
    def kept(self) -> int:
        return len(self.grids) - self.written

    @property
    def images(self) -> list[str]:
        return [g.image for g in self.grids]

    @property
    def captions(self) -> list[str]:
        return [g.caption for g in self.grids]

    @property
    def skipped(self) -> list[SkippedGrid]:
        return [s for r in self.reports for s in r.skipped]

    @property
    def too_short(self) -> list[str]:
        return [r.source for r in self.reports if r.too_short]

    @property
    def unreadable(self) -> list[tuple[str, str]]:
        return [(r.source, r.unreadable) for r in self.reports if r.unreadable]

    @property
    def damaged(self) -> list[tuple[str, str]]:
        return [(r.source, r.damaged) for r in self.reports if r.damaged]

    def describe(self) -> str:
        layout = self.layout
        lines = [
            f"{_count(len(self.grids), 'grid')} in {self.folder} ({self.written} written, {self.kept} kept from "
            f"before) from {_count(self.videos, 'video')}: {layout.rows}x{layout.cols} grids of "
            f"{layout.cell_width}x{layout.cell_height} cells ({layout.width}x{layout.height}), frames {self.stride} apart."
        ]
        if self.skipped:
            lines.append(f"Skipped {_count(len(self.skipped), 'grid')} that would span a shot change (listed below).")
        lines += [r.describe() for r in self.reports]
        return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
