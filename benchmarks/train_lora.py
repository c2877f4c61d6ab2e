"""LoRA trainer benchmark: steps/s and peak RSS against ComfyUI's TrainLoraNode, and 1 -> 2 process scaling.

    python -m benchmarks.train_lora [--quick] [--steps N]

Model and data, the same for every contender: the 3072-wide tiny FLUX.1-dev DiT that a real ComfyUI
accepts (tests/integration/tiny_models.py: 1 double block, fp8 BFL file, ~404M parameters, computed in
fp32), 64x64 grids (4x4 of 16x16 cells: 16 image tokens) and 16 text tokens, rank-4 LoRA, batch 1.

1. This trainer, one process (`python -m nodes.train_lora`, one CPU thread), steps/s from its loss log
   (steps after the first, so loading and warm-up are left out) and the process's peak RSS.
2. ComfyUI's TrainLoraNode (with the pack's trainable RoPE), run in ComfyUI's own python when COMFYUI_DIR is
   set: its execute() with 1 step and with 1 + N steps; steps/s = N / (time difference), so its set-up
   is left out too; and that process's peak RSS. Without COMFYUI_DIR this part is skipped, said so.
3. Scaling: the trainer under `accelerate launch --multi_gpu --num_processes 2 ... --cpu` (gloo), one CPU
   thread per process, batch 1 each. Throughput = grids/s; the ratio is 2-process / (2 x 1-process).

Targets: trainer steps/s >= 1.0 x TrainLoraNode; 2-process throughput >= 0.8 x 2 x 1-process. Both runs share
a busy 2-core machine here, so expect noise of several percent. Exit status 0 unless something crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIT_CONFIG = dict(patch_size=1, in_channels=64, num_layers=1, num_single_layers=0, attention_head_dim=128,
                  num_attention_heads=24, joint_attention_dim=4096, pooled_projection_dim=768, guidance_embeds=True,
                  axes_dims_rope=(16, 56, 56))
TOKENS_TEXT = 16
LATENT = (16, 8, 8)  # a 64x64 grid
RANK = 4


def _peak_rss_mib() -> float:
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# -- children ----------------------------------------------------------------------------------------

def child_trainer(argv: list[str]) -> None:
    """Run the trainer in this process, then print its peak RSS (one JSON line)."""
    sys.path.insert(0, str(ROOT))
    from nodes import train_lora

    code = train_lora.main(argv)
    print(json.dumps({"exit": code, "peak_rss_mib": _peak_rss_mib()}))


def child_comfy(comfy_dir: str, dit: str, steps: int) -> None:
    """TrainLoraNode.execute in ComfyUI's python (--cpu), timed at 1 and 1 + steps steps."""
    sys.argv = [sys.argv[0], "--cpu"]
    sys.path.insert(0, comfy_dir)
    import comfy.options

    comfy.options.enable_args_parsing()
    import importlib.util

    import comfy.ldm.flux.math as flux_math
    import comfy.sd
    import torch
    from comfy_extras.nodes_train import TrainLoraNode

    spec = importlib.util.spec_from_file_location("dav_trainable_rope", ROOT / "nodes" / "engine" / "trainable_rope.py")
    rope = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rope)  # what Make FLUX Trainable does: ComfyUI 0.8.0's fused RoPE has no backward
    flux_math.apply_rope, flux_math.apply_rope1 = rope.dispatching_rope(flux_math.apply_rope, flux_math.apply_rope1)

    torch.set_num_threads(1)
    model = comfy.sd.load_diffusion_model(dit)
    gen = torch.Generator().manual_seed(0)
    latents = [{"samples": torch.randn(2, *LATENT, generator=gen)}]
    cond = [[torch.randn(1, TOKENS_TEXT, 4096, generator=gen) * 0.1, {"pooled_output": torch.randn(1, 768, generator=gen) * 0.1,
                                                                       "guidance": 3.5}]]

    def run(n):
        started = time.perf_counter()
        TrainLoraNode.execute([model], latents, [cond], [1], [n], [1], [1e-3], [RANK], ["AdamW"], ["MSE"], [0], ["fp32"],
                              ["fp32"], ["LoRA"], [False], ["[None]"], [False])
        return time.perf_counter() - started

    t1, tn = run(1), run(1 + steps)
    print(json.dumps({"steps_per_second": steps / (tn - t1), "peak_rss_mib": _peak_rss_mib(), "t1": t1, "tn": tn}))


# -- the benchmark ----------------------------------------------------------------------------------

def _last_json(text: str) -> dict:
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


def _loss_log_rate(run_dir: Path) -> float:
    records = [json.loads(line) for line in (run_dir / "loss.jsonl").read_text().splitlines()]
    first, last = records[0], records[-1]
    return (last["step"] - first["step"]) / (last["seconds"] - first["seconds"])


def _prepare(work: Path) -> tuple[Path, Path, Path]:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    import numpy as np
    from PIL import Image
    from tiny_models import ensure_tiny_models, model_paths

    from nodes.engine.flux.tiny import save_tiny_flux_for_transformer
    from nodes.engine.layout import GridLayout
    from nodes.engine.prompt import word_prompt

    cache = Path(os.environ.get("DRAWAVIDEO_TEST_CACHE") or "~/.cache/draw-a-video-tests").expanduser()
    ensure_tiny_models(cache)
    dit = model_paths(cache)["dit"]
    folder = work / "flux"
    save_tiny_flux_for_transformer(str(folder), DIT_CONFIG)
    layout = GridLayout(rows=4, cols=4, cell_width=16, cell_height=16)
    data = work / "grids"
    data.mkdir()
    caption, lines = word_prompt(layout), []
    for i in range(2):
        yy, xx = np.mgrid[0:64, 0:64]
        Image.fromarray((np.stack([xx * 4, yy * 4, (xx + yy + 20 * i) * 2], axis=2) % 256).astype(np.uint8)).save(data / f"g{i}.png")
        (data / f"g{i}.txt").write_text(caption)
        lines.append(json.dumps({"grid": f"g{i}", "layout": layout.to_dict(), "caption": caption}))
    (data / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return dit, folder, data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_lora", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--quick", action="store_true", help="3 measured steps instead of 8")
    parser.add_argument("--steps", type=int, default=None, help="measured steps per run (after the first)")
    args = parser.parse_args(argv)
    steps = args.steps or (3 if args.quick else 8)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="dav-train-bench-") as tmp:
        work = Path(tmp)
        dit, folder, data = _prepare(work)
        common = ["--dataset", str(data), "--model_folder", str(folder), "--transformer_file", str(dit), "--steps", str(steps + 1),
                  "--rank", str(RANK), "--dtype", "fp32", "--save_dtype", "fp32", "--max_sequence_length", str(TOKENS_TEXT),
                  "--checkpoint_every", "0", "--cpu", "--no_progress", "--batch_size", "1", "--cache_dir", str(work / "cache"),
                  "--learning_rate", "1e-3"]

        print(f"model: tiny FLUX.1-dev DiT {dit.name} (3072 wide, fp32 compute); 64x64 grids, {TOKENS_TEXT} text tokens, "
              f"rank {RANK}, batch 1; {steps} measured steps per run")
        run = subprocess.run([sys.executable, __file__, "--_child-trainer", *common, "--output_dir", str(work / "one")],
                             cwd=ROOT, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stderr[-3000:], file=sys.stderr)
            return 1
        results["trainer, 1 process"] = {"steps_per_second": _loss_log_rate(work / "one"), **_last_json(run.stdout)}

        launcher = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                    "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "nodes.train_lora"]
        run = subprocess.run(launcher + common + ["--output_dir", str(work / "two")], cwd=ROOT, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stderr[-3000:], file=sys.stderr)
            return 1
        results["trainer, 2 processes"] = {"steps_per_second": _loss_log_rate(work / "two")}

        comfy_dir = os.environ.get("COMFYUI_DIR")
        if comfy_dir:
            python = os.environ.get("COMFYUI_PYTHON", sys.executable)
            run = subprocess.run([python, __file__, "--_child-comfy", comfy_dir, str(dit), str(steps)], cwd=comfy_dir,
                                 env={**env, "PYTHONPATH": ""}, capture_output=True, text=True)
            if run.returncode != 0:
                print(run.stderr[-3000:], file=sys.stderr)
                return 1
            results["ComfyUI TrainLoraNode"] = _last_json(run.stdout)

    for name, r in results.items():
        rss = f", peak RSS {r['peak_rss_mib']:.0f} MiB" if "peak_rss_mib" in r else ""
        print(f"  {name:24s} {r['steps_per_second']:.3f} steps/s{rss}")
    one, two = results["trainer, 1 process"]["steps_per_second"], results["trainer, 2 processes"]["steps_per_second"]
    scaling = (2 * two) / (2 * one)  # grids/s: 2 per step with 2 processes, 1 with one
    lines = [f"2-process throughput = {scaling:.2f} x (2 x 1-process) (target >= 0.80): {'met' if scaling >= 0.8 else 'MISSED'}"]
    if "ComfyUI TrainLoraNode" in results:
        native = results["ComfyUI TrainLoraNode"]
        ratio = one / native["steps_per_second"]
        lines.insert(0, f"trainer steps/s = {ratio:.2f} x TrainLoraNode (target >= 1.00): {'met' if ratio >= 1.0 else 'MISSED'}; "
                        f"peak RSS {results['trainer, 1 process']['peak_rss_mib'] / native['peak_rss_mib']:.2f} x TrainLoraNode's")
    else:
        lines.insert(0, "trainer vs TrainLoraNode: not measured (set COMFYUI_DIR, and COMFYUI_PYTHON to ComfyUI's python)")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_child-trainer":
        child_trainer(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "--_child-comfy":
        child_comfy(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(main())
