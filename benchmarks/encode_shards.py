"""Streaming a grid folder into training shards: peak memory against dataset size, and captions encoded once.

    python -m benchmarks.encode_shards [--quick]

Writes N real-size grids (1280x768 PNG, the method's 4x4 of 320x192; copies of a few distinct images,
4 distinct captions) and encodes them with nodes.engine.shards.encode_grid_dataset, each N in a fresh
process, for N = 50, 200 and 800 (--quick: 20, 60, 180). The VAE is a small stand-in that still
makes real-size FLUX latents ([1,16,96,160] float32, ~1 MB a grid); the text encoder is a small
random T5 encoder (transformers, built in code, 256 tokens). Prints peak RSS per N and its slope in
MB per grid (target: |slope| < 0.1 MB/grid, i.e. memory does not grow with the dataset; holding the
grids as MakeTrainingDataset does would cost ~12 MB/grid), and the time the text encoder takes when
each caption is encoded once (this node) against once per grid (MakeTrainingDataset).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Targets, cli, peak_rss_mb, run

ARGS = cli(__doc__, __name__, {
    "--child": dict(type=int, default=0, help="internal: encode this many grids and print JSON"),
    "--folder": dict(default="", help="internal: the grid folder for --child"),
})

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

WIDTH, HEIGHT, CAPTIONS, DISTINCT_IMAGES = 1280, 768, 4, 8
SLOPE_TARGET = 0.1  # MB per grid
SHARD_SIZE = 25


def write_grids(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sources = []
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    for i in range(DISTINCT_IMAGES):
        pixels = np.stack([(x + 40 * i) % 256, (y * 2 + i) % 256, rng.integers(0, 256, (HEIGHT, WIDTH))], axis=2)
        path = folder / f".source{i}.png"
        Image.fromarray(pixels.astype(np.uint8)).save(path, compress_level=1)
        sources.append(path)
    with open(folder / "manifest.jsonl", "w", encoding="utf-8") as manifest:
        for g in range(count):
            name = f"drive_g{g:04d}"
            shutil.copyfile(sources[g % DISTINCT_IMAGES], folder / f"{name}.png")
            (folder / f"{name}.txt").write_text(f"Generate a 16-frame video, caption {g % CAPTIONS}.", encoding="utf-8")
            manifest.write(json.dumps({"grid": name, "image": f"{name}.png", "text": f"{name}.txt"}) + "\n")


def small_vae():
    """IMAGE [1,H,W,3] -> [1,16,H/8,W/8]: a strided conv, real latent size, a fraction of the ae's cost."""
    conv = torch.nn.Conv2d(3, 16, kernel_size=8, stride=8)
    torch.nn.init.normal_(conv.weight, std=0.05)

    def encode(image):
        with torch.no_grad():
            return conv(image.permute(0, 3, 1, 2) * 2 - 1)
    return encode


def small_t5():
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    model = T5EncoderModel(T5Config(vocab_size=512, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8)).eval()

    def encode(text):
        ids = torch.tensor([[(ord(c) % 500) + 1 for c in text.ljust(256)[:256]]])
        with torch.no_grad():
            hidden = model(input_ids=ids).last_hidden_state
        return [[hidden, {"pooled_output": hidden.mean(1)}]]
    return encode


def child(count: int, folder: str) -> None:
    """Encode `count` grids of `folder` in this process and print what it cost, as JSON."""
    from nodes.engine.shards import encode_grid_dataset

    torch.set_num_threads(1)
    out = tempfile.mkdtemp(prefix="drawavideo-shards-")
    try:
        vae, t5 = small_vae(), small_t5()
        rss_before = peak_rss_mb()
        start = time.perf_counter()
        summary = encode_grid_dataset(folder, out, vae, t5, shard_size=SHARD_SIZE)
        seconds = time.perf_counter() - start
        rss = peak_rss_mb()
        print(json.dumps({"grids": summary.grids, "shards": summary.shards, "peak_rss_mb": rss, "rss_before_mb": rss_before,
                          "seconds": seconds, "vae_seconds": summary.seconds["vae"], "text_seconds": summary.seconds["text"],
                          "captions_encoded": summary.captions_encoded}))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(args) -> None:
    if args.child:
        child(args.child, args.folder)
        return
    sizes = (20, 60, 180) if args.quick else (50, 200, 800)
    work = Path(tempfile.mkdtemp(prefix="drawavideo-bench-"))
    try:
        rows = []
        for n in sizes:
            folder = work / f"grids{n}"
            write_grids(folder, n)
            out = subprocess.run([sys.executable, "-m", "benchmarks.encode_shards", "--child", str(n), "--folder", str(folder)],
                                 capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"N={n:4d}: {row['shards']} shards of {SHARD_SIZE}, peak RSS {row['peak_rss_mb']:7.1f} MB "
                  f"({row['rss_before_mb']:.1f} MB before encoding), {row['seconds']:.1f} s "
                  f"(VAE {row['vae_seconds']:.1f} s, text {row['text_seconds']:.2f} s for {row['captions_encoded']} captions)")
            shutil.rmtree(folder, ignore_errors=True)
        n = np.array([r["grids"] for r in rows], float)
        rss = np.array([r["peak_rss_mb"] for r in rows])
        slope = float(np.polyfit(n, rss, 1)[0])
        print(f"peak RSS slope: {slope:+.4f} MB per grid (a least-squares line through N = {', '.join(map(str, sizes))}); "
              f"one grid as a float IMAGE is {WIDTH * HEIGHT * 3 * 4 / 2**20:.1f} MB, its latent {16 * 96 * 160 * 4 / 2**20:.2f} MB")
        last = rows[-1]
        once = last["text_seconds"]  # measured inside the run
        per_grid = once / max(last["captions_encoded"], 1) * last["grids"]
        print(f"text encoder for N={last['grids']}: once per caption {once:.2f} s ({last['captions_encoded']} captions) vs once "
              f"per grid {per_grid:.1f} s (MakeTrainingDataset): {per_grid - once:.1f} s saved ({per_grid / max(once, 1e-9):.0f}x); "
              f"with T5-XXL on a CPU (30-50 s a caption) that is {last['grids'] - last['captions_encoded']} encodes of 30-50 s saved")
        targets = Targets()
        targets.check("peak RSS slope", f"{slope:+.4f} MB/grid", f"|slope| < {SLOPE_TARGET}", abs(slope) < SLOPE_TARGET)
        targets.report()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(run(main, ARGS))
