"""Split and merge against a plain copy of the same bytes, and their share of an end-to-end run.

    python -m benchmarks.grid_split [--quick]

1. A split or a merge should cost about one copy of the data: cells are read through strided views
   and every value is written once. Each line prints the median time of many runs of the split/merge
   and of `tensor.clone()` of the same tensor, run alternately, and their ratio. Target for pixel
   grids: ratio <= 1.3. Latent rows are printed for information only: a FLUX latent cell row is 40
   floats (160 B), so a latent split is some hundred microseconds, where the clone baseline itself
   swings 20x between runs; no target is set on that noise.
2. What a user feels: the share of split (and merge) in a whole text-to-video run on the tiny FLUX
   (load, sample 4 steps at 1280x768, VAE decode, split, Save Video mp4), timed in this run. With the
   real 12B FLUX a step takes seconds to minutes, so the share there is far smaller still. It is
   reported, not held to a target.
"""

from __future__ import annotations

import statistics
import tempfile
import time

from benchmarks.common import Targets, cli, run

ARGS = cli(__doc__, __name__)

import torch  # noqa: E402  (after cli(): --help answers without importing torch)

from nodes.engine.grid import merge_image, merge_latent, split_image, split_latent  # noqa: E402
from nodes.engine.layout import GridLayout  # noqa: E402

PIXEL_TARGET = 1.3


def paired_us(fn, reference, repeats: int) -> tuple[float, float]:
    """Median times of `fn` and `reference`, run alternately so both see the same machine state
    (allocator, caches, other load): a clone of tens of MB varies 2x between moments on its own."""
    for _ in range(3):  # warm-up: allocator and thread pool
        fn(), reference()
    times = ([], [])
    for _ in range(repeats):
        for call, out in ((fn, times[0]), (reference, times[1])):
            start = time.perf_counter()
            call()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1e6, statistics.median(times[1]) * 1e6


def measure(name, layout, grids, repeats):
    image = torch.rand(grids, layout.height, layout.width, 3)
    latent = {"samples": torch.randn(grids, 16, layout.height // 8, layout.width // 8)}
    frames, latent_frames = split_image(image, layout), split_latent(latent, layout)
    copy_image, copy_latent = image.clone, latent["samples"].clone
    return [
        (name, "split pixels", *paired_us(lambda: split_image(image, layout), copy_image, repeats)),
        (name, "merge pixels", *paired_us(lambda: merge_image(frames, layout), copy_image, repeats)),
        (name, "split latent", *paired_us(lambda: split_latent(latent, layout), copy_latent, repeats)),
        (name, "merge latent", *paired_us(lambda: merge_latent(latent_frames, layout), copy_latent, repeats)),
    ]


def end_to_end_share() -> tuple[dict, float]:
    """Timings of one demo run (the pack's real nodes on the tiny FLUX) and the split+merge share of it."""
    from nodes import demo

    with tempfile.TemporaryDirectory(prefix="drawavideo-bench-") as out:
        result = demo.run(out, steps=4, seed=0, log=lambda *_: None)
    timings = dict(result["timings"])
    for setup in ("imports", "build tiny FLUX"):  # one-off set-up, not part of a run
        timings.pop(setup, None)
    grid = torch.rand(1, 768, 1280, 3)
    layout = GridLayout()
    frames = split_image(grid, layout)
    start = time.perf_counter()
    merge_image(frames, layout)
    timings["merge (for Frames to Grid, not in t2v)"] = time.perf_counter() - start
    total = sum(timings.values())
    return timings, (timings["split"] + timings["merge (for Frames to Grid, not in t2v)"]) / total


def main(args) -> None:
    torch.manual_seed(0)
    repeats = 5 if args.quick else 60
    cases = [
        ("4x4 320x192, 16 grids", GridLayout(), 16),
        ("4x4 gutter 16 serpentine, 16", GridLayout(gutter=16, order="serpentine"), 16),
        ("8x4 320x192, 8 grids", GridLayout(rows=8, cols=4), 8),
        ("6x4 column-major, 8 grids", GridLayout(rows=6, cols=4, order="column-major"), 8),
    ]
    rows = []
    for name, layout, grids in [("4x4 320x192, 4 grids", GridLayout(), 4)] if args.quick else cases:
        rows += measure(name, layout, grids, repeats)
    small = measure("4x4 320x192, 1 grid", GridLayout(), 1, repeats)
    print(f"torch threads: {torch.get_num_threads()}; ratio = time / clone() of the same bytes "
          f"(pixel target <= {PIXEL_TARGET}; latent: information only)")
    for name, what, took, copy in rows:
        print(f"{name:32s} {what:13s} {took:9.0f} us  copy {copy:9.0f} us  ratio {took / copy:4.2f}")
    print("one grid (fixed cost per call = time - copy):")
    for name, what, took, copy in small:
        print(f"{name:32s} {what:13s} {took:9.0f} us  copy {copy:9.0f} us  fixed {took - copy:6.0f} us")

    timings, share = end_to_end_share()
    print("\nend-to-end text-to-video run on the tiny FLUX (4 steps, 1280x768 grid -> 16 frames -> mp4):")
    for name, seconds in timings.items():
        print(f"  {name:40s} {seconds * 1000:9.1f} ms")
    print(f"  split + merge share of the run: {share:.3%} (an upper bound: the tiny model samples in seconds, "
          "the real FLUX.1-dev in minutes)")

    targets = Targets()
    pixel = [took / copy for _, what, took, copy in rows if "pixels" in what]
    targets.check("pixel split/merge vs clone()", f"worst ratio {max(pixel):.2f}", f"<= {PIXEL_TARGET}", max(pixel) <= PIXEL_TARGET)
    targets.report()


if __name__ == "__main__":
    raise SystemExit(run(main, ARGS))
