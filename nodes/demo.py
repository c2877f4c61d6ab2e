"""The pack's main job, end to end, on any machine: `python -m nodes.demo [--out DIR] [--steps 4] [--seed 0]`.

Run from the repo root. It needs no ComfyUI, no GPU and no download: it builds
a tiny random-weight FLUX.1 in code, saves it as a diffusers folder in
models/diffusers, then runs the pack's real nodes (through NODE_CLASS_MAPPINGS,
as ComfyUI would) along the main path:

    Grid Layout (4x4 of 320x192) -> Grid Prompt -> Load FLUX (diffusers)
      -> FLUX Grid Sampler (diffusers) -> Split Image Grid into Frames -> Save Video (mp4)

and prints the layout, the prompt, timings, the frames' size and the mp4's
path. The tiny model draws noise, so the video shows noise: the point is that
every piece runs and fits. Models go to $DRAWAVIDEO_MODELS_DIR (else
<out>/models), the video to $DRAWAVIDEO_OUTPUT_DIR (else <out>/output);
<out> defaults to a new temp folder. Exit status 1 with a message on failure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time

TINY_FOLDER = "draw-a-video-tiny-flux"


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m nodes.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="folder for models/ and output/ (default: a new temp folder)")
    parser.add_argument("--steps", type=int, default=4, help="sampling steps (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    return parser.parse_args(argv)


def _run_node(mappings, node_id, **inputs):
    """Call a node as ComfyUI does: its FUNCTION with keyword inputs; unwrap {'ui', 'result'} returns."""
    if node_id not in mappings:
        raise RuntimeError(f"node {node_id} is not registered in NODE_CLASS_MAPPINGS")
    node = mappings[node_id]()
    out = getattr(node, node.FUNCTION)(**inputs)
    return out["result"] if isinstance(out, dict) else out


def _defaults(mappings, node_id) -> dict:
    """A node's widget defaults, for inputs the demo doesn't set."""
    spec = mappings[node_id].INPUT_TYPES()
    values = {}
    for section in ("required", "optional"):
        for name, (kind, *options) in spec.get(section, {}).items():
            options = options[0] if options else {}
            if "default" in options:
                values[name] = options["default"]
            elif isinstance(kind, (list, tuple)) and kind:
                values[name] = kind[0]
    return values


@contextlib.contextmanager
def _one_torch_thread():
    """The tiny model's ops are too small to split across threads: on a busy 2-core machine, 2 threads
    took 1.5-6x the wall time of 1 (benchmarks/diffusers_step.py), so the demo runs on one."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(out_dir: str, steps: int = 4, seed: int = 0, log=None) -> dict:
    """The demo itself; returns what it made (layout, prompt, frames, video path, timings)."""
    log = log or (lambda line: print(line, flush=True))  # flushed: each step shows as it starts, even piped
    log("[1/6] importing torch, diffusers, transformers and the pack's nodes ...")
    with _one_torch_thread():
        return _run(out_dir, steps, seed, log)


def _run(out_dir: str, steps: int, seed: int, log) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: every load is local_files_only anyway
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # ffmpeg is started after the tokenizers ran: no fork warning
    os.environ.setdefault("DRAWAVIDEO_MODELS_DIR", os.path.join(out_dir, "models"))
    os.environ.setdefault("DRAWAVIDEO_OUTPUT_DIR", os.path.join(out_dir, "output"))

    timings = {}
    clock = time.perf_counter()
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    from . import NODE_CLASS_MAPPINGS as nodes
    from . import host
    from .engine.flux.tiny import save_tiny_flux

    diffusers_logging.disable_progress_bar()  # the demo prints its own summary
    transformers_logging.disable_progress_bar()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    lap("imports")
    model_dir = os.path.join(host.model_folders("diffusers")[0], TINY_FOLDER)
    log(f"[2/6] building a tiny random-weight FLUX.1 in {model_dir} ...")
    if not os.path.isfile(os.path.join(model_dir, "model_index.json")):
        save_tiny_flux(model_dir)
    lap("build tiny FLUX")

    layout, width, height, frames = _run_node(
        nodes, "DrawAVideo_GridLayout", rows=4, cols=4, cell_width=320, cell_height=192, gutter=0, order="row-major"
    )
    log(f"layout: {layout.describe()}")
    (prompt,) = _run_node(nodes, "DrawAVideo_GridPrompt", layout=layout, **{
        k: v for k, v in _defaults(nodes, "DrawAVideo_GridPrompt").items() if k in ("subject", "template")
    })
    log(f"prompt: {prompt}")

    log("[3/6] loading it with Load FLUX (diffusers) ...")
    (pipeline,) = _run_node(
        nodes, "DrawAVideo_DiffusersFluxLoader", model_folder=TINY_FOLDER, transformer_file="(from folder)",
        dtype="fp32", memory_mode="all on device", vae_tiling=False, vae_slicing=False,
    )
    lap("load pipeline")
    log(f"[4/6] sampling the grid: {steps} steps, then the VAE decode ...")
    grids, latent = _run_node(
        nodes, "DrawAVideo_DiffusersGridSampler", pipeline=pipeline, layout=layout, prompt=prompt,
        steps=steps, guidance=3.5, seed=seed, batch_size=1,
    )
    lap(f"sample {steps} steps + decode")
    log(f"grid: {tuple(grids.shape)} IMAGE, {tuple(latent['samples'].shape)} LATENT")

    log("[5/6] cutting the grid into frames with Split Image Grid ...")
    (frame_batch,) = _run_node(nodes, "DrawAVideo_SplitImageGrid", image=grids, layout=layout)
    lap("split")
    log(f"frames: {frame_batch.shape[0]} of {frame_batch.shape[2]}x{frame_batch.shape[1]}")

    log("[6/6] writing the mp4 with Save Video ...")
    save_inputs = _defaults(nodes, "DrawAVideo_SaveVideo")
    save_inputs.update(images=frame_batch, filename_prefix="DrawAVideo/demo", layout=layout)
    fmt = next((f for f in nodes["DrawAVideo_SaveVideo"].INPUT_TYPES()["required"]["format"][0] if f.startswith("mp4")), None)
    if fmt:
        save_inputs["format"] = fmt
    (video,) = _run_node(nodes, "DrawAVideo_SaveVideo", **save_inputs)
    lap("save video")
    log("timings: " + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in timings.items()))
    log(f"video: {video}")
    return {"layout": layout, "prompt": prompt, "frames": frame_batch, "video": video, "timings": timings}


def main(argv=None) -> int:
    args = _parse(argv)
    out_dir = os.path.abspath(args.out) if args.out else tempfile.mkdtemp(prefix="draw-a-video-demo-")
    print(f"Draw-a-Video demo: a 16-frame clip from a tiny FLUX, into {out_dir}", flush=True)
    try:
        run(out_dir, steps=args.steps, seed=args.seed)
    except Exception as exc:  # the demo's contract: a clear message and a non-zero exit, never a bare trace
        print(f"demo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
