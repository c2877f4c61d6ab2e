"""Grid-dataset building speed against decoding the same videos and nothing else.

    python -m benchmarks.dataset_build [--quick]

Writes 3 clips x 600 frames (H.264, moving content) at 640x360 and again at 1280x720 (the size
of most driving footage), then times, at each size,
(a) decode only: ffmpeg decodes every frame to raw RGB, piped to Python and dropped;
(b) building the dataset: stride 10, the default 4x4 layout of 320x192 cells, with shot-change
    detection on every source frame (ffmpeg scdet + signalstats on a 160x96 copy, same decoding pass,
    and the dissolve test on the 64x48 grey copy that pass writes);
(c) re-running it (every grid kept: the resume path);
(d) building it again into a new folder with shot detection off (cut_threshold 0), for its cost.
Throughputs are in source frames per second; the ratio is (b) / (a). CPU seconds
(this process + its ffmpeg children) show the work done, whatever else the machine runs. The
builder decodes every frame too (ffmpeg must, to reach every 10th), but pipes
only the sampled ones, so it may beat (a). Peak memory is the process's RSS.
Target: build / decode-only throughput >= 0.8, at each size. --quick: 1 clip of 300 frames, 640x360.
Shot detection's work per frame is nearly fixed (it measures small copies), decoding's grows with the
picture: at 640x360, decoding is so cheap on a CPU that the fixed part shows most.
Where Debian's opencv-doc is installed, the same (a)/(b) comparison also runs on its real clips
(a street scene, 795 frames at 768x576, and a film trailer, 270 frames at 720x528), for information.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import Targets, cli, peak_rss_mb, run

ARGS = cli(__doc__, __name__)

import imageio_ffmpeg  # noqa: E402  (after cli(): --help answers without the heavy imports)
import numpy as np  # noqa: E402

from nodes.engine.dataset import build_grid_dataset  # noqa: E402
from nodes.engine.layout import GridLayout  # noqa: E402

CLIPS, FRAMES, FPS = 3, 600, 30
SIZES = ((640, 360), (1280, 720))
REAL_FOOTAGE = Path("/usr/share/doc/opencv-doc/examples/data")
THROUGHPUT_TARGET = 0.8


def moving_frame(clip: int, index: int, size: tuple[int, int] = SIZES[0]) -> np.ndarray:
    """A scrolling gradient 'road' with boxes driving past at different speeds (drawn at 640x360, scaled up)."""
    width, height = size
    scale = width / 640
    x = np.arange(width) / scale
    y = np.arange(height)[:, None] / scale
    frame = np.empty((height, width, 3), np.uint8)
    frame[..., 0] = (x[None, :] * 0.3 + index * 2 + clip * 40) % 256
    frame[..., 1] = (y * 0.6 + index) % 256
    frame[..., 2] = 90 + clip * 50
    for box in range(5):
        left = int(((index * (3 + 2 * box) + box * 131) % (640 - 60)) * scale)
        top = int((40 + box * 60) * scale)
        frame[top : top + int(40 * scale), left : left + int(60 * scale)] = ((box * 53) % 256, 255 - box * 40, (box * 97) % 256)
    return frame


def write_clips(folder: Path, clips: int = CLIPS, frames: int = FRAMES, size: tuple[int, int] = SIZES[0]) -> list[Path]:
    paths = []
    for clip in range(clips):
        path = folder / f"drive{clip}.mp4"
        writer = imageio_ffmpeg.write_frames(str(path), size, fps=FPS, codec="libx264", quality=7, macro_block_size=2)
        writer.send(None)
        for index in range(frames):
            writer.send(moving_frame(clip, index, size))
        writer.close()
        paths.append(path)
    return paths


def decode_only(paths: list[Path]) -> int:
    frames = 0
    for path in paths:
        reader = imageio_ffmpeg.read_frames(str(path))
        next(reader)  # metadata
        for _ in reader:
            frames += 1
    return frames


def cpu_seconds() -> float:
    """User + system time of this process and its finished children (the ffmpeg decoders)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    """((result, CPU seconds), wall seconds) of fn()."""
    start, cpu = time.perf_counter(), cpu_seconds()
    result = fn()
    return (result, cpu_seconds() - cpu), time.perf_counter() - start


def compare(work: Path, size: tuple[int, int], clips: int, frames: int, targets: Targets) -> None:
    """(a)-(d) of the docstring for clips of one size, printed; the target checked."""
    width, height = size
    videos = work / f"videos_{width}x{height}"
    videos.mkdir()
    print(f"\n== {width}x{height}: writing {clips} clip(s) x {frames} frames (H.264) ...")
    paths = write_clips(videos, clips, frames, size)
    rss_start = peak_rss_mb()
    grids, plain_grids = work / f"grids_{width}", work / f"plain_{width}"
    (decoded, decode_cpu), decode_s = timed(lambda: decode_only(paths))
    rss_decode = peak_rss_mb()
    (summary, build_cpu), build_s = timed(lambda: build_grid_dataset(str(videos), str(grids), GridLayout(), stride=10))
    rss_build = peak_rss_mb()
    (again, resume_cpu), resume_s = timed(lambda: build_grid_dataset(str(videos), str(grids), GridLayout(), stride=10))
    (plain, plain_cpu), plain_s = timed(lambda: build_grid_dataset(str(videos), str(plain_grids), GridLayout(), stride=10, cut_threshold=0))

    source = clips * frames
    assert decoded == source, f"decoded {decoded} frames, expected {source}"
    assert again.written == 0 and again.kept == len(summary.grids)
    decode_fps, build_fps, resume_fps = decoded / decode_s, source / build_s, source / resume_s
    print(summary.describe())
    print(f"(a) decode only        : {decoded} frames in {decode_s:6.2f} s = {decode_fps:7.1f} frames/s, {decode_cpu:6.2f} CPU s")
    print(f"(b) build dataset      : {source} frames in {build_s:6.2f} s = {build_fps:7.1f} frames/s, {build_cpu:6.2f} CPU s "
          f"({len(summary.grids)} grids, {len(summary.grids) / build_s:.2f} grids/s)")
    print(f"(c) resume (all kept)  : {source} frames in {resume_s:6.2f} s = {resume_fps:7.1f} frames/s, {resume_cpu:6.2f} CPU s")
    print(f"(d) build, no shot det.: {source} frames in {plain_s:6.2f} s = {source / plain_s:7.1f} frames/s, {plain_cpu:6.2f} CPU s "
          f"({len(plain.grids)} grids)")
    print(f"shot detection on every frame costs {build_cpu - plain_cpu:+.2f} CPU s ({(build_cpu / plain_cpu - 1) * 100:+.0f} %); "
          f"grids skipped by it: {len(summary.skipped)}")
    print(f"ratio build / decode-only throughput: {build_fps / decode_fps:.2f}")
    print(f"ratio build, no shot detection / decode-only throughput: {source / plain_s / decode_fps:.2f}")
    print(f"ratio resume / decode-only throughput: {resume_fps / decode_fps:.2f}")
    print(f"ratio by CPU time (decode-only CPU s / build CPU s; what the machine's load doesn't change): "
          f"{decode_cpu / build_cpu:.2f} with shot detection, {decode_cpu / plain_cpu:.2f} without")
    print(f"peak RSS: {rss_start:.0f} MB before, {rss_decode:.0f} MB after decode-only, {rss_build:.0f} MB after "
          f"building (+{rss_build - rss_decode:.0f} MB)")
    ratio = build_fps / decode_fps
    targets.check(f"{width}x{height}: build (full-rate shot detection) / decode-only throughput", f"{ratio:.2f}",
                  f">= {THROUGHPUT_TARGET}", ratio >= THROUGHPUT_TARGET)


def real_footage(work: Path) -> None:
    real = [p for p in (REAL_FOOTAGE / "vtest.avi", REAL_FOOTAGE / "Megamind.avi") if p.is_file()]
    if not real:
        return
    footage = work / "footage"
    footage.mkdir()
    for path in real:
        shutil.copy(path, footage / path.name)
    (count, real_decode_cpu), real_decode_s = timed(lambda: decode_only(sorted(footage.iterdir())))
    (real_summary, real_build_cpu), real_build_s = timed(
        lambda: build_grid_dataset(str(footage), str(work / "real"), GridLayout(), stride=10))
    print(f"\n== real footage ({', '.join(p.name for p in real)}: {count} frames): decode only {count / real_decode_s:.1f} "
          f"frames/s, build {count / real_build_s:.1f} frames/s ({len(real_summary.grids)} grids kept, "
          f"{len(real_summary.skipped)} skipped) -> ratio {real_decode_s / real_build_s:.2f}; by CPU time "
          f"{real_decode_cpu / real_build_cpu:.2f}")


def main(args) -> None:
    clips, frames = (1, 300) if args.quick else (CLIPS, FRAMES)
    ram = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    work = Path(tempfile.mkdtemp(prefix="drawavideo-bench-", dir=ram))
    print(f"work folder: {work}" + (" (in RAM, so that the disk's speed does not decide)" if ram else ""))
    targets = Targets()
    try:
        for size in SIZES[:1] if args.quick else SIZES:
            compare(work, size, clips, frames, targets)
        if not args.quick:
            real_footage(work)
        targets.report()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(run(main, ARGS))
