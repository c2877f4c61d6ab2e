"""Save Video against ffmpeg alone, and its memory on a long clip.

    python -m benchmarks.video_write            # both parts
    python -m benchmarks.video_write --quick    # fewer frames, one round

1. Throughput (target >= 0.9): the node (float frames converted and streamed one at a time,
   numbered name, atomic publish) against the same ffmpeg command fed the same frames,
   already uint8, in one pipe write -- the encoder alone. Rounds alternate node / direct and
   the medians are compared, because other work on the machine shifts single runs.
2. Memory (target: the input plus a few frames): a fresh process builds a 1,024-frame
   320x192 IMAGE batch, saves it as mp4, and reports its peak RSS growth (ru_maxrss) over the
   RSS it had just before the save, in frames of the input (320x192x3 float32 = 720 KiB);
   a thread sampling /proc every millisecond cross-checks it.

Single runs on a shared machine swing by +-50%, so each side's best wall time is compared,
and the CPU times are shown too: the node's own CPU per frame (converting and piping) is the
systematic cost; the encoder's work is the same on both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.common import Targets, cli, run

ARGS = cli(__doc__, __name__, {"--memory-child": dict(action="store_true", help=argparse.SUPPRESS)},
           quick="a quarter of the frames, one round")

import imageio_ffmpeg  # noqa: E402  (after cli(): --help answers without importing torch)
import torch  # noqa: E402

FRAMES, HEIGHT, WIDTH, FPS = 1024, 192, 320, 8.0
THROUGHPUT_TARGET = 0.9
FORMATS = {"mp4 (h264)": FRAMES, "webm (vp9)": FRAMES, "webp (animated)": FRAMES, "gif": 128}


def moving_frames(count: int, height: int = HEIGHT, width: int = WIDTH) -> torch.Tensor:
    """A drifting gradient with a box driving across: motion for the encoder, built in place."""
    batch = torch.empty((count, height, width, 3), dtype=torch.float32)
    y = torch.linspace(0, 1, height)[:, None]
    x = torch.linspace(0, 1, width)[None, :]
    for i in range(count):
        frame = batch[i]
        frame[..., 0] = (x + i / 97) % 1.0
        frame[..., 1] = (y + i / 61) % 1.0
        frame[..., 2] = 0.5 + 0.4 * torch.sin(x * 6 + i / 9)
        left = (i * 5) % (width - 40)
        frame[40:90, left : left + 40] = torch.tensor([0.9, 0.2, 0.1])
    return batch


def current_rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


# -- 1. throughput --------------------------------------------------------------------------

def direct_command(fmt, path: str, quality: int, loop_count: int = 0) -> list[str]:
    """The command imageio_ffmpeg.write_frames runs for the node, minus the metadata tags."""
    return [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{WIDTH}x{HEIGHT}",
        "-pix_fmt", "rgb24", "-r", str(int(FPS)), "-i", "-", "-an", "-vcodec", fmt.codec, "-pix_fmt", fmt.pix_fmt,
        "-v", "error", *fmt.ffmpeg_params(quality, loop_count), path,
    ]


def _cpu_seconds(before: os.times_result, after: os.times_result) -> tuple[float, float]:
    """(this process, its waited-for children = ffmpeg) CPU seconds between two os.times()."""
    own = after.user - before.user + after.system - before.system
    return own, after.children_user - before.children_user + after.children_system - before.children_system


def time_direct(fmt, raw: bytes, folder: str, quality: int) -> tuple[float, float]:
    path = os.path.join(folder, f"direct.{fmt.extension}")
    cpu, start = os.times(), time.perf_counter()
    subprocess.run(direct_command(fmt, path, quality), input=raw, check=True)
    seconds = time.perf_counter() - start
    os.remove(path)
    return seconds, _cpu_seconds(cpu, os.times())


def time_node(label: str, frames: torch.Tensor, quality: int) -> tuple[float, float]:
    from nodes.video_nodes import SaveVideoNode

    cpu, start = os.times(), time.perf_counter()
    path = SaveVideoNode().save(frames, FPS, label, quality, 0, False, "bench/video", True)["result"][0]
    seconds = time.perf_counter() - start
    os.remove(path)
    return seconds, _cpu_seconds(cpu, os.times())


def throughput(rounds: int, scale: float) -> list[dict]:
    """Per format: best wall time of each side over alternating rounds, and median CPU time."""
    from nodes.engine.video.formats import get_format

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        os.environ["DRAWAVIDEO_OUTPUT_DIR"] = folder
        for label, count in FORMATS.items():
            count = max(16, int(count * scale))
            frames = moving_frames(count)
            raw = (frames * 255 + 0.5).clamp(0, 255).to(torch.uint8).numpy().tobytes()
            fmt = get_format(label)
            time_node(label, frames[:4], 85)  # warm-up: imports, first ffmpeg start
            node, direct = [], []
            for _ in range(rounds):
                node.append(time_node(label, frames, 85))
                direct.append(time_direct(fmt, raw, folder, 85))
            node_wall, direct_wall = min(t for t, _ in node), min(t for t, _ in direct)
            node_cpu = statistics.median(sum(c) for _, c in node)
            direct_cpu = statistics.median(sum(c) for _, c in direct)
            python_ms = 1000 * statistics.median(c[0] for _, c in node) / count  # conversion + streaming
            ffmpeg_ms = 1000 * statistics.median(c[1] for _, c in direct) / count
            rows.append({
                "label": label, "frames": count, "node_fps": count / node_wall, "direct_fps": count / direct_wall,
                "wall_ratio": direct_wall / node_wall, "cpu_ratio": direct_cpu / node_cpu,
                "python_ms": python_ms, "ffmpeg_ms": ffmpeg_ms, "implied": ffmpeg_ms / (ffmpeg_ms + python_ms),
                "node_walls": [t for t, _ in node], "direct_walls": [t for t, _ in direct],
            })
    return rows


# -- 2. memory (in a fresh process) ----------------------------------------------------------

class RssSampler:
    """Highest current RSS seen, read from /proc every millisecond on a thread (a lower bound on the peak)."""

    def __init__(self):
        import threading

        self.highest, self.ffmpeg_highest, self._stop = current_rss(), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            import psutil

            me = psutil.Process()
        except ImportError:
            me = None
        while not self._stop.wait(0.001):
            self.highest = max(self.highest, current_rss())
            for child in me.children() if me is not None else ():
                try:  # the child's own pages, after exec (ru_maxrss of children counts the forked parent)
                    self.ffmpeg_highest = max(self.ffmpeg_highest, child.memory_info().rss)
                except psutil.Error:
                    pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def memory_child() -> None:
    from nodes.video_nodes import SaveVideoNode

    with tempfile.TemporaryDirectory() as folder:
        os.environ["DRAWAVIDEO_OUTPUT_DIR"] = folder
        SaveVideoNode().save(moving_frames(2), FPS, "mp4 (h264)", 85, 0, False, "warmup", True)  # imports, buffers
        frames = moving_frames(FRAMES)
        before, high_water_before = current_rss(), peak_rss()
        start = time.perf_counter()
        with RssSampler() as sampler:
            SaveVideoNode().save(frames, FPS, "mp4 (h264)", 85, 0, False, "long", True)
        seconds = time.perf_counter() - start
        print(json.dumps({
            "input_bytes": frames.numel() * frames.element_size(),
            "frame_bytes": frames[0].numel() * frames.element_size(),
            "rss_before": before,
            # ru_maxrss is the process's high-water mark: an upper bound on the save's growth
            # (it can only overstate, by any gap between the earlier mark and `before`).
            "maxrss_growth": peak_rss() - before,
            "earlier_gap": max(0, high_water_before - before),
            "sampled_growth": sampler.highest - before,
            "ffmpeg_peak": sampler.ffmpeg_highest,
            "seconds": seconds,
        }))


def memory() -> dict:
    run = subprocess.run([sys.executable, "-m", "benchmarks.video_write", "--memory-child"], capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(args) -> None:
    if args.memory_child:
        memory_child()
        return

    print(f"ffmpeg {imageio_ffmpeg.get_ffmpeg_version()}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    # Memory first: a child starts with its parent's RSS high-water mark (Linux keeps ru_maxrss across
    # fork and exec), so it is measured while this process is still small.
    result = memory()
    rounds = 1 if args.quick else 5
    rows = throughput(rounds=rounds, scale=0.25 if args.quick else 1.0)
    print(f"\n1. Throughput at {WIDTH}x{HEIGHT}, quality 85, frames/s of the best of {rounds} alternating rounds "
          f"(target ratio >= {THROUGHPUT_TARGET})")
    print(f"{'format':<18}{'frames':>7}{'node':>9}{'ffmpeg':>9}{'ratio':>8}{'CPU ratio':>11}"
          f"{'node-side ms/f':>16}{'ffmpeg ms/f':>13}{'implied':>9}")
    ok = True
    for row in rows:
        ok &= row["wall_ratio"] >= THROUGHPUT_TARGET
        print(f"{row['label']:<18}{row['frames']:>7}{row['node_fps']:>9.1f}{row['direct_fps']:>9.1f}"
              f"{row['wall_ratio']:>8.3f}{row['cpu_ratio']:>11.3f}{row['python_ms']:>16.2f}{row['ffmpeg_ms']:>13.2f}"
              f"{row['implied']:>9.3f}")
    print("  node-side ms/f: this process's CPU per frame in the node (float->uint8 conversion, piping);\n"
          "  ffmpeg ms/f: the encoder's CPU per frame; implied = ffmpeg / (ffmpeg + node-side), the ratio\n"
          "  on a machine whose cores the encoder fills -- the one part of the gap that is not noise.")
    print("  (wall seconds per round, node | ffmpeg:)")
    for row in rows:
        print(f"  {row['label']:<16} " + " ".join(f"{t:.2f}" for t in row["node_walls"]) + " | "
              + " ".join(f"{t:.2f}" for t in row["direct_walls"]))

    mib = 1024 * 1024
    growth = result["maxrss_growth"]
    frames = growth / result["frame_bytes"]
    print(f"\n2. Memory writing {FRAMES} frames of {WIDTH}x{HEIGHT} as mp4 (fresh process, {result['seconds']:.1f} s)")
    print(f"input tensor:                 {result['input_bytes'] / mib:8.1f} MiB ({result['frame_bytes'] / 1024:.0f} KiB a frame)")
    print(f"peak RSS growth beyond input: {growth / mib:8.1f} MiB = {frames:.1f} input frames "
          f"({100 * growth / result['input_bytes']:.2f}% of the input)   [ru_maxrss; upper bound, "
          f"earlier high-water gap {result['earlier_gap'] / mib:.1f} MiB]")
    print(f"  sampled every 1 ms:         {result['sampled_growth'] / mib:8.1f} MiB = {result['sampled_growth'] / result['frame_bytes']:.1f} input frames")
    if result["ffmpeg_peak"]:
        print(f"ffmpeg process peak RSS:      {result['ffmpeg_peak'] / mib:8.1f} MiB (its own process, sampled with psutil: encoder buffers, x264 lookahead)")
    targets = Targets()
    worst = min(rows, key=lambda row: row["wall_ratio"])
    targets.check("Save Video / ffmpeg alone throughput", f"worst {worst['wall_ratio']:.3f} ({worst['label']})",
                  f">= {THROUGHPUT_TARGET} for every format", ok)
    targets.check("peak RSS growth beyond the input", f"{frames:.1f} input frames", "<= 8 input frames", frames <= 8)
    targets.report()


if __name__ == "__main__":
    raise SystemExit(run(main, ARGS))
