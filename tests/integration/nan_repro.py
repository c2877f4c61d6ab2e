"""Reproduce the NaN LoRA of issue 12 on purpose, inside ComfyUI's own Python (no server).

The tiny T5-XXL file stores only T5's small tensors; ComfyUI leaves the other 169 weights as
never-written `torch.empty` memory. This script lets go of memory the way a ComfyUI session does,
then loads the tiny CLIP-L + T5 exactly as DualCLIPLoader (type flux) does, in a worker thread like
ComfyUI's prompt worker, and reports how many of those weights hold garbage, whether the T5
conditioning is finite, and (with --train) the loss and LoRA of one step of ComfyUI's own
TrainLoraNode on that conditioning.

    cd $COMFYUI_DIR && $COMFYUI_PYTHON /path/to/tests/integration/nan_repro.py [--natural] [--fixed] [--encode] [--train]

Memory given back before the load (default --poison): 1.5 GiB of NaN-filled 24 MiB blocks freed into
the heap, with a small live block after every second one so that 48 MiB holes stay (glibc keeps them;
it only trims the top). --natural instead does what a session does: VAE-encode a grid and load the DiT,
then drop both and their results (the T5 is loaded later): 2-3 weights dirty in each of 4 runs
(keeping the latent alive instead gave clean weights in 6 runs: it depends on the heap's layout).
--fixed installs the integration server's fix first (tiny_models.install_zeroed_text_encoder_weights).
The last line is JSON: {"dirty": N, "nan_weights": N, "unwritten": 169, "cond_finite": ..., "loss": ...}.
Exit code 0 unless it crashed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def poison(keep: list) -> None:
    """Free NaN-filled blocks into the heap, leaving 48 MiB holes a 32 MiB T5 weight fits in."""
    import torch

    block = torch.empty(int(31.9 * 2**20) // 4)  # mmapped; freeing it raises glibc's mmap threshold to ~32 MiB
    del block
    blocks = []
    for i in range(64):
        blocks.append(torch.empty(6 * 2**20).fill_(float("nan")))  # 24 MiB: now from the heap
        if i % 2 == 1:
            keep.append(torch.empty(2**16))  # stays alive: the two blocks before it form one hole
    del blocks


def natural(models: Path, keep: list) -> None:
    """What a ComfyUI session does before a later workflow loads the text encoders."""
    import comfy.sd
    import comfy.utils
    import torch

    vae = comfy.sd.VAE(sd=comfy.utils.load_torch_file(str(models / "vae" / "tiny_flux_vae.safetensors")))
    latent = vae.encode(torch.rand(1, 128, 256, 3))  # a 4x4 grid of 64x32 cells
    samples = {"samples": latent.clone()}
    dit = comfy.sd.load_diffusion_model(str(models / "diffusion_models" / "tiny_flux_dit.safetensors"))
    del vae, dit, latent, samples  # the cache lets go of the models and the results


def scan_t5(clip, t5_file: Path) -> dict:
    """Count the weights the T5 file leaves out that are not exactly zero, and those holding NaN/inf."""
    import torch
    from safetensors import safe_open

    with safe_open(str(t5_file), "pt") as f:
        stored = set(f.keys())
    dirty = nan = unwritten = 0
    first = None
    for name, tensor in clip.cond_stage_model.t5xxl.transformer.state_dict().items():
        if name in stored:
            continue
        unwritten += 1
        nonzero = int((tensor != 0).sum())
        if nonzero:
            dirty += 1
            bad = int((~torch.isfinite(tensor)).sum())
            nan += bad > 0
            if first is None:
                first = f"{name} {tuple(tensor.shape)}: {nonzero} non-zero, {bad} NaN/inf"
    return {"unwritten": unwritten, "dirty": dirty, "nan_weights": nan, "first_dirty": first}


def train_one_step(models: Path, latent, conditioning) -> dict:
    """One step of ComfyUI's TrainLoraNode (bf16, rank 4, gradient checkpointing), as the workflow runs it."""
    import comfy.ldm.flux.math as flux_math
    import comfy.sd
    import comfy_extras.nodes_train as nodes_train
    import torch

    rope = _load("draw_a_video_trainable_rope", REPO / "nodes" / "engine" / "trainable_rope.py")
    if not hasattr(flux_math.apply_rope, "fused"):  # what the pack's host.make_flux_rope_trainable does
        flux_math.apply_rope, flux_math.apply_rope1 = rope.dispatching_rope(flux_math.apply_rope, flux_math.apply_rope1)
    dit = comfy.sd.load_diffusion_model(str(models / "diffusion_models" / "tiny_flux_dit.safetensors"))
    out = nodes_train.TrainLoraNode.execute(
        model=[dit], latents=[{"samples": latent}], positive=[conditioning], batch_size=[1], steps=[1],
        grad_accumulation_steps=[1], learning_rate=[1e-4], rank=[4], optimizer=["AdamW"], loss_function=["MSE"],
        seed=[42], training_dtype=["bf16"], lora_dtype=["bf16"], algorithm=["LoRA"], gradient_checkpointing=[True],
        existing_lora=["[None]"], bucket_mode=[False])
    _, lora, loss_map, _ = out.result
    bad = sum(1 for t in lora.values() if not torch.isfinite(t.float()).all())
    return {"loss": [float(x) for x in loss_map["loss"]], "lora_tensors": len(lora), "lora_nan_tensors": bad}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--models", type=Path, default=Path(os.environ.get("DRAWAVIDEO_TEST_CACHE") or "~/.cache/draw-a-video-tests").expanduser(),
                        help="folder of the tiny model files (tiny_models.py builds missing ones)")
    parser.add_argument("--comfyui", type=Path, default=Path(os.environ.get("COMFYUI_DIR") or "."), help="ComfyUI folder (default: COMFYUI_DIR or .)")
    parser.add_argument("--natural", action="store_true", help="free memory as a session does instead of the NaN poison")
    parser.add_argument("--none", action="store_true", help="free nothing before the load (control)")
    parser.add_argument("--fixed", action="store_true", help="install the test server's zeroing of left-out weights first")
    parser.add_argument("--encode", action="store_true", help="also encode a prompt and check the conditioning")
    parser.add_argument("--train", action="store_true", help="also train one TrainLoraNode step on it (implies --encode)")
    args = parser.parse_args(argv)

    comfy_dir = args.comfyui.expanduser().resolve()
    sys.path.insert(0, str(comfy_dir))
    os.chdir(comfy_dir)
    sys.argv = [sys.argv[0], "--cpu"]
    import comfy.options

    comfy.options.enable_args_parsing()
    import comfy.sd
    import comfy.sd1_clip
    import torch

    tiny_models = _load("draw_a_video_tiny_models", HERE / "tiny_models.py")
    tiny_models.ensure_tiny_models(args.models)
    if args.fixed:
        tiny_models.install_zeroed_text_encoder_weights(comfy.sd1_clip)
    t5_file = args.models / "text_encoders" / "tiny_t5xxl.safetensors"
    result: dict = {"mode": "none" if args.none else "natural" if args.natural else "poison", "fixed": args.fixed}

    def work():
        keep: list = []
        start = time.perf_counter()
        if args.natural:
            natural(args.models, keep)
        elif not args.none:
            poison(keep)
        clip = comfy.sd.load_clip([str(args.models / "text_encoders" / "tiny_clip_l.safetensors"), str(t5_file)],
                                  clip_type=comfy.sd.CLIPType.FLUX)
        result.update(scan_t5(clip, t5_file))
        print(f"T5 loaded in {time.perf_counter() - start:.0f} s: {result['dirty']} of {result['unwritten']} left-out weights "
              f"not zero, {result['nan_weights']} holding NaN/inf (first: {result['first_dirty']})", flush=True)
        if args.encode or args.train:
            cond, pooled = clip.encode_from_tokens(clip.tokenize("a street scene"), return_pooled=True)
            result["cond_finite"] = bool(torch.isfinite(cond).all())
            result["cond_nonzero"] = int((cond != 0).sum())
            print(f"conditioning {tuple(cond.shape)}: finite {result['cond_finite']}, {result['cond_nonzero']} non-zero values", flush=True)
            if args.train:
                latent = torch.randn(1, 16, 16, 32, generator=torch.Generator().manual_seed(0))
                result.update(train_one_step(args.models, latent, [[cond, {"pooled_output": pooled}]]))
                print(f"TrainLoraNode, 1 step: loss {result['loss']}, {result['lora_nan_tensors']} of {result['lora_tensors']} LoRA tensors NaN/inf", flush=True)

    worker = threading.Thread(target=work)  # ComfyUI runs prompts in a worker thread (its own malloc arena)
    worker.start()
    worker.join()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
