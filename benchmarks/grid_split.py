"""Split and merge speed against a plain copy of the same bytes (target: ratio <= 1.3).

    python -m benchmarks.grid_split

A split or merge must cost about one copy of the data: cells are read through
strided views and written once. Times are the median of repeated runs.
"""

import statistics
import time

import torch

from nodes.engine.grid import merge_image, merge_latent, split_image, split_latent
from nodes.engine.layout import GridLayout

TARGET = 1.3


def median_seconds(fn, repeats: int = 15) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    torch.manual_seed(0)
    rows = []
    for name, layout, batch in [
        ("4x4 320x192, 4 grids", GridLayout(), 4),
        ("4x4 gutter 16, serpentine", GridLayout(gutter=16, order="serpentine"), 4),
        ("8x4 320x192, 2 grids", GridLayout(rows=8, cols=4), 2),
    ]:
        image = torch.rand(batch, layout.height, layout.width, 3)
        frames = split_image(image, layout)
        latent = {"samples": torch.randn(batch, 16, layout.height // 8, layout.width // 8)}
        latent_frames = split_latent(latent, layout)
        copy_image = median_seconds(lambda: image.clone())
        copy_latent = median_seconds(lambda: latent["samples"].clone())
        rows += [
            (name, "split pixels", median_seconds(lambda: split_image(image, layout)) / copy_image),
            (name, "merge pixels", median_seconds(lambda: merge_image(frames, layout)) / copy_image),
            (name, "split latent", median_seconds(lambda: split_latent(latent, layout)) / copy_latent),
            (name, "merge latent", median_seconds(lambda: merge_latent(latent_frames, layout)) / copy_latent),
        ]
    print(f"threads: {torch.get_num_threads()}; ratio = time / tensor copy of the same bytes (target <= {TARGET})")
    for name, what, ratio in rows:
        print(f"{name:30s} {what:14s} {ratio:5.2f}  {'ok' if ratio <= TARGET else 'OVER'}")
    return 0 if all(r <= TARGET for *_, r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
