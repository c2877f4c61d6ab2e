"""Dissolves (cross-fades between two shots): the one shot change ffmpeg's detectors don't see.

A dissolve shows no single big jump from frame to frame, so scdet's score stays low. What gives
it away is that it is a *blend*: for a window of frames n-k..n+k, every frame inside it is close
to a mix (1-a)*A + a*B of the window's two end frames A and B, with one mixing weight a for the
whole picture, rising with time, while A and B themselves look nothing alike (two shots). Motion
inside one shot makes end frames unlike each other too, but the frames between them are then
moved pictures, not mixes: the part of each frame that no mix of A and B explains stays large.

The test runs on the luma of the 64x48 copies ffmpeg writes of every frame in the decoding pass
(shots.analysis_filter), split into 4x3 blocks. For a window, with d = B - A per block:
- `corr`: correlation of A and B (two shots: low);
- per interior frame and block, the least-squares weight a and the rms of what a*d leaves
  unexplained, relative to the rms of d (`resid`: a blend leaves almost nothing);
- `spread`: how much the blocks' weights disagree (a dissolve mixes the whole picture at once;
  a car driving past changes one block after another).
Windows that hold a cut or a blank frame are left to the cut and fade tests. Hit windows are
merged into one dissolve, trimmed to the frames whose mix has begun and not yet ended.

Measured on real footage (tests/data/footage/README.md): dissolves in a dark film trailer and
in hand-held street footage leave resid 0.07-0.24; continuous footage (a street with people
walking, a hand-held camera with cars passing close, an animated film, a talking head in a car)
never gets below 0.30 with end frames that unlike. A dissolve between two shots that both move
fast (whip pans) leaves more than that and is not caught: that is the known limit.
"""

from __future__ import annotations

import os

import numpy as np

THUMB_SIZE = (64, 48)  # the copy ffmpeg writes of every frame (width, height), raw yuv420p: luma first (shots.analysis_filter makes it)
LUMA_BYTES = THUMB_SIZE[0] * THUMB_SIZE[1]
FRAME_BYTES = LUMA_BYTES * 3 // 2
BLOCKS = (3, 4)  # rows, columns
HALF_WINDOWS = (6, 12)  # k: windows of 13 and 25 frames (short and long dissolves)
STILL = 3.5  # a block whose ends differ by less than this rms (luma levels, 16-235) takes no part
MIN_MOVING = 6  # blocks that must change between the ends (of 12)
MAX_CORR = 0.4  # the end frames' correlation: two shots
MAX_BLOCK_CORR = 0.5  # ... and block by block (median): the whole picture changes, not a few edges in it
MAX_RESID = 0.25  # unexplained part of the interior frames, relative to the ends' difference
MAX_SPREAD = 0.15  # disagreement of the blocks' mixing weights
MID_WEIGHT = (0.25, 0.75)  # the centre frame is well inside the mix
PRE_RESID = 0.5  # quick look at the centre frame alone (whole picture): dissolves leave <= 0.44 of the ends' difference
MIN_RAMP = 0.9  # the mean weight rises steadily across the window (R^2 of a straight line)
EDGE = 0.1  # trimmed dissolve: from the first frame mixed beyond this to the last short of 1 - this
REACH = max(HALF_WINDOWS)


class Thumbs:
    """The copies ffmpeg appends to a raw file (one FRAME_BYTES yuv420p record per frame), their luma read on demand."""

    def __init__(self, path: str):
        self.path = path
        self.held: np.ndarray | None = None

    def __len__(self) -> int:
        if self.held is not None:
            return len(self.held)
        return os.path.getsize(self.path) // FRAME_BYTES if os.path.isfile(self.path) else 0

    def hold(self) -> None:
        """Read the whole file into memory (before its folder goes)."""
        self.held = self._read(0, len(self) - 1)

    def frames(self, first: int, last: int) -> np.ndarray:
        return (self.held[first : last + 1] if self.held is not None else self._read(first, last)).astype(np.float32)

    def _read(self, first: int, last: int) -> np.ndarray:
        width, height = THUMB_SIZE
        with open(self.path, "rb") as f:
            f.seek(first * FRAME_BYTES)
            data = f.read(max(last - first + 1, 0) * FRAME_BYTES)
        return np.frombuffer(data, np.uint8).reshape(-1, FRAME_BYTES)[:, :LUMA_BYTES].reshape(-1, height, width)


def _blocks(frames: np.ndarray) -> np.ndarray:
    rows, cols = BLOCKS
    n, height, width = frames.shape
    return (frames.reshape(n, rows, height // rows, cols, width // cols)
            .transpose(0, 1, 3, 2, 4).reshape(n, rows * cols, -1))


def _median(values: np.ndarray) -> np.ndarray:
    """Median along the last axis (np.median's overhead dominates on a dozen numbers)."""
    ordered = np.sort(values, axis=-1)
    n = ordered.shape[-1]
    return (ordered[..., (n - 1) // 2] + ordered[..., n // 2]) / 2


def _mixes(window: np.ndarray) -> bool:
    """Is the middle of `window` (2k+1 luma frames) a mix of its two end frames, moving from one to the
    other? Asked only of windows whose ends _judge already found unlike."""
    blocks = _blocks(window)
    a, d = blocks[0], blocks[-1] - blocks[0]
    energy = (d * d).sum(-1)
    moving = energy >= STILL * STILL * d.shape[-1]
    if moving.sum() < MIN_MOVING:
        return False
    d, energy = d[moving], energy[moving]
    share = energy / energy.sum()
    middle = len(window) // 2
    if not MID_WEIGHT[0] <= share @ (((blocks[middle, moving] - a[moving]) * d).sum(-1) / energy) <= MID_WEIGHT[1]:
        return False
    inner = blocks[1:-1, moving] - a[moving]
    weight = (inner * d).sum(-1) / energy  # (frames, blocks)
    left = inner - weight[..., None] * d
    resid = np.sqrt((left * left).mean(-1) / (energy / d.shape[-1]))
    mean = weight @ share
    spread = np.sqrt(((weight - mean[:, None]) ** 2) @ share)
    if _median(resid).mean() > MAX_RESID or spread.mean() > MAX_SPREAD:
        return False
    t = np.arange(len(mean)) - (len(mean) - 1) / 2  # a straight line through the mean weights: rising, and fitting
    slope = (t @ (mean - mean.mean())) / (t @ t)
    total = ((mean - mean.mean()) ** 2).sum()
    return bool(slope > 0 and total > 0 and slope * slope * (t @ t) / total >= MIN_RAMP)


def find(thumbs: Thumbs, first: int, last: int, breaks, cache: dict) -> list[tuple[int, int]]:
    """Dissolves (first frame, last frame) among window centres first..last. `breaks[n]` (a sequence of
    bools, one a frame so far): frame n is a cut's first frame or blank (windows holding one are not
    dissolves). `cache` keeps verdicts per centre."""
    count = min(len(thumbs), len(breaks))
    first, last = max(first, 0), min(last, count - 1)
    todo = [n for n in range(first, last + 1) if n not in cache]
    if todo:
        _judge(thumbs, todo[0], todo[-1], count, breaks, cache)
    merged: list[list[int]] = []
    for a, b in sorted(cache[n] for n in range(first, last + 1) if cache.get(n)):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [_trim(thumbs, a, b) for a, b in merged]


def _judge(thumbs: Thumbs, lo: int, hi: int, count: int, breaks, cache: dict) -> None:
    """Verdicts for centres lo..hi: each the first window (smallest k) that is a blend, or None. Most
    windows fail the cheap tests, done for all centres at once: their ends' correlations (whole and
    per block), the middle frame's mixing weight and what that mix leaves of it."""
    start, end = max(lo - REACH, 0), min(hi + REACH, count - 1)
    frames = thumbs.frames(start, end)
    flat = frames.reshape(len(frames), -1)
    unit = flat - flat.mean(1, keepdims=True)
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-6)
    block = _blocks(frames)
    block = block - block.mean(-1, keepdims=True)
    block /= np.maximum(np.linalg.norm(block, axis=-1, keepdims=True), 1e-6)
    held = np.concatenate([[0], np.cumsum(np.asarray(breaks[start : end + 1], bool))])  # held[j]: breaks in start..start+j-1
    for n in range(lo, hi + 1):
        cache[n] = None
    for k in HALF_WINDOWS:
        centres = np.arange(max(lo, k), min(hi, count - 1 - k) + 1)
        if not len(centres):
            continue
        corr = (unit[centres - k - start] * unit[centres + k - start]).sum(1)
        block_corr = np.median((block[centres - k - start] * block[centres + k - start]).sum(-1), axis=1)
        clear = held[centres + k + 1 - start] - held[centres - k - start] == 0
        before, after = flat[centres - k - start], flat[centres + k - start]
        d = after - before
        energy = np.maximum((d * d).sum(1), 1e-6)
        middle = flat[centres - start] - before
        weight = (middle * d).sum(1) / energy  # the whole picture's; loose bounds: _mixes weighs the blocks that move
        left = ((middle - weight[:, None] * d) ** 2).sum(1) / energy  # what that mix leaves of the middle frame
        mixed = (weight >= MID_WEIGHT[0] - 0.1) & (weight <= MID_WEIGHT[1] + 0.1) & (left <= PRE_RESID ** 2)
        for n in centres[(corr <= MAX_CORR) & (block_corr <= MAX_BLOCK_CORR) & clear & mixed]:
            if cache[n] is None and _mixes(frames[n - k - start : n + k + 1 - start]):
                cache[n] = (int(n) - k, int(n) + k)


def _trim(thumbs: Thumbs, first: int, last: int) -> tuple[int, int]:
    """The frames of first..last that belong to the mix: from the frame mixed most evenly, outwards
    while the mixing weight keeps rising at the dissolve's pace (a third of its rate in the middle or
    more; one slower step is passed over when the next keeps the pace), so a shot that drifts on
    slowly before or after the dissolve does not widen it."""
    frames = thumbs.frames(first, last).reshape(last - first + 1, -1)
    d = frames[-1] - frames[0]
    weight = (frames - frames[0]) @ d / max(float(d @ d), 1e-6)
    step = np.diff(weight)  # step[i]: from frame i to frame i + 1
    middle = int(np.argmin(np.abs(weight - 0.5)))
    reach = max(2, len(step) // 8)
    pace = float(np.median(step[max(middle - reach, 0) : middle + reach])) / 3
    def ramp(i: int, j: int) -> bool:  # step i at the dissolve's pace, or one slow step (motion) before step j that is
        return 0 <= i < len(step) and (step[i] >= pace or (0 <= j < len(step) and step[i] > 0 and step[j] >= pace))

    lo = hi = middle
    while lo >= 2 and ramp(lo - 2, lo - 3):  # frame lo - 1 is reached at the dissolve's pace
        lo -= 1
    while hi + 2 < len(weight) and ramp(hi + 1, hi + 2):  # frame hi + 1 leaves at that pace
        hi += 1
    return first + lo, first + hi
