"""Split and merge speed against a plain copy of the same bytes (target: ratio <= 1.3).

    python -m benchmarks.grid_split

A split or a merge should cost about one copy of the data: cells are read
through strided views and every value is written once. Each line prints the
median time of many runs for the split/merge and for `tensor.clone()` of the
same tensor, and their ratio. Small tensors (one latent grid is 1 MB) are
dominated by a fixed cost of some tens of microseconds per call, so the last
lines show that cost separately; the ratio target applies to the batches above.
"""

import statistics
import time

import torch

from nodes.engine.grid import merge_image, merge_latent, split_image, split_latent
from nodes.engine.layout import GridLayout

TARGET = 1.3


def paired_us(fn, reference, repeats: int = 60) -> tuple[float, float]:
    """Median times of `fn` and `reference`, run alternately so both see the same machine state
    (allocator, caches, other load): a clone of tens of MB varies 2x between moments on its own."""
    for _ in range(3):  # warm-up: allocator and thread pool
        fn(), reference()
    times = ([], [])
    for _ in range(repeats):
        for run, out in ((fn, times[0]), (reference, times[1])):
            start = time.perf_counter()
            run()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1e6, statistics.median(times[1]) * 1e6


def measure(name, layout, grids):
    image = torch.rand(grids, layout.height, layout.width, 3)
    latent = {"samples": torch.randn(grids, 16, layout.height // 8, layout.width // 8)}
    frames, latent_frames = split_image(image, layout), split_latent(latent, layout)
    copy_image, copy_latent = image.clone, latent["samples"].clone
    return [
        (name, "split pixels", *paired_us(lambda: split_image(image, layout), copy_image)),
        (name, "merge pixels", *paired_us(lambda: merge_image(frames, layout), copy_image)),
        (name, "split latent", *paired_us(lambda: split_latent(latent, layout), copy_latent)),
        (name, "merge latent", *paired_us(lambda: merge_latent(latent_frames, layout), copy_latent)),
    ]


def main() -> int:
    torch.manual_seed(0)
    rows = []
    for name, layout, grids in [
        ("4x4 320x192, 16 grids", GridLayout(), 16),
        ("4x4 gutter 16 serpentine, 16", GridLayout(gutter=16, order="serpentine"), 16),
        ("8x4 320x192, 8 grids", GridLayout(rows=8, cols=4), 8),
        ("6x4 column-major, 8 grids", GridLayout(rows=6, cols=4, order="column-major"), 8),
    ]:
        rows += measure(name, layout, grids)
    small = measure("4x4 320x192, 1 grid", GridLayout(), 1)
    print(f"torch threads: {torch.get_num_threads()}; ratio = time / clone() of the same bytes (target <= {TARGET})")
    for name, what, took, copy in rows:
        ratio = took / copy
        print(f"{name:32s} {what:13s} {took:9.0f} us  copy {copy:9.0f} us  ratio {ratio:4.2f}  {'ok' if ratio <= TARGET else 'OVER'}")
    print("one grid (fixed cost per call = time - copy):")
    for name, what, took, copy in small:
        print(f"{name:32s} {what:13s} {took:9.0f} us  copy {copy:9.0f} us  fixed {took - copy:6.0f} us")
    return 0 if all(took / copy <= TARGET for *_, took, copy in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
