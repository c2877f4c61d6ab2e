"""The accelerate trainer's LoRA in a real ComfyUI: it loads with no unmatched key and changes text-to-video.

The trainer (`python -m nodes.train_lora`, run here as a user would, in this test's interpreter) trains on
the very DiT file the server samples with -- tiny_models.py's 3072-wide FLUX.1-dev layout (ComfyUI's FLUX
detection needs 24 heads x 128), BFL names, fp8 -- read through the pack's single-file loader, with a
diffusers folder that supplies VAE, tokenizers and text encoders of the widths that DiT takes (T5 4096,
CLIP 768; nodes/engine/flux/tiny.py save_tiny_flux_for_transformer). The LoRA is then checked exactly as the
native TrainLoraNode's is (test_workflows_api.test_trained_lora_loads_cleanly_and_changes_text_to_video):
the shrunk text-to-video workflow at strength 1, 0 and without the LoRA node; no "lora key not loaded"
line; strength 0 equals no LoRA bit for bit, and strength 1 differs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
COMFY_SHAPED_FOLDER = "tiny-flux-comfy-shaped"
COMFY_SHAPED_VERSION = "1"
# tiny_models.build_dit as diffusers' FluxTransformer2DModel arguments: 1 double block, no single blocks.
COMFY_DIT_CONFIG = dict(patch_size=1, in_channels=64, num_layers=1, num_single_layers=0, attention_head_dim=128,
                        num_attention_heads=24, joint_attention_dim=4096, pooled_projection_dim=768, guidance_embeds=True,
                        axes_dims_rope=(16, 56, 56))


def _workflows_api():
    """test_workflows_api, imported by path (pytest's importlib mode keeps this folder off sys.path)."""
    name = "draw_a_video_it_test_workflows_api"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "test_workflows_api.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def comfy_shaped_folder(cache: Path) -> Path:
    from draw_a_video.nodes.engine.flux.tiny import save_tiny_flux_for_transformer

    folder = cache / "diffusers" / COMFY_SHAPED_FOLDER
    stamp = folder / ".draw_a_video_tests_version"
    if stamp.is_file() and stamp.read_text().strip() == COMFY_SHAPED_VERSION:
        return folder
    staging = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    save_tiny_flux_for_transformer(str(staging), COMFY_DIT_CONFIG)
    (staging / stamp.name).write_text(COMFY_SHAPED_VERSION)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)
    return folder


def write_grids(folder: Path, count: int = 2) -> Path:
    """A grid dataset as Videos to Grid Dataset writes it: 4x4 grids of 16x16 cells (64x64 px), png + txt + manifest."""
    from draw_a_video.nodes.engine.layout import GridLayout
    from draw_a_video.nodes.engine.prompt import word_prompt
    from PIL import Image

    layout = GridLayout(rows=4, cols=4, cell_width=16, cell_height=16)
    caption = word_prompt(layout)
    folder.mkdir(parents=True)
    lines = []
    for i in range(count):
        name = f"drive_g{i:04d}"
        yy, xx = np.mgrid[0:layout.height, 0:layout.width]
        Image.fromarray((np.stack([xx * 4, yy * 4, (xx + yy + 20 * i) * 2], axis=2) % 256).astype(np.uint8)).save(folder / f"{name}.png")
        (folder / f"{name}.txt").write_text(caption)
        lines.append(json.dumps({"grid": name, "image": f"{name}.png", "text": f"{name}.txt", "layout": layout.to_dict(), "caption": caption}))
    (folder / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def accelerate_lora(comfy_server, tmp_path_factory) -> Path:
    """Train 3 steps on the server's own tiny DiT file and put the LoRA in the server's output/loras."""
    api = _workflows_api()
    work = tmp_path_factory.mktemp("accelerate_lora")
    folder = comfy_shaped_folder(comfy_server.models_dir)
    dit = comfy_server.models_dir / "diffusion_models" / comfy_server.models["dit"]
    cmd = [sys.executable, "-m", "nodes.train_lora", "--dataset", str(write_grids(work / "grids")), "--model_folder", str(folder),
           "--transformer_file", str(dit), "--output_dir", str(work / "run"), "--output_name", "accelerate_tiny_lora",
           "--steps", "3", "--rank", "4", "--learning_rate", "2e-3", "--dtype", "fp32", "--save_dtype", "bf16",
           "--max_sequence_length", "16", "--checkpoint_every", "0", "--cpu", "--no_progress"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    started = time.monotonic()
    run = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-4000:]
    print(f"\ntrained with {' '.join(cmd[1:4])} ... in {time.monotonic() - started:.1f} s: {run.stdout.strip()}")
    target = comfy_server.output_dir / api.OUTPUT_LORAS / "accelerate_tiny_lora.safetensors"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(work / "run" / "accelerate_tiny_lora.safetensors", target)
    return target


def test_accelerate_lora_keys_are_the_diffusers_names_comfyui_maps(accelerate_lora):
    from safetensors.torch import load_file

    state = load_file(str(accelerate_lora))
    modules = {k.rsplit(".", 2)[0] if k.endswith(".weight") else k[: -len(".alpha")] for k in state}
    modules = {m.removesuffix(".lora_A").removesuffix(".lora_B") for m in modules}
    # Attention and MLP linears of the one double block, less what only feeds its text-stream output (add_q_proj,
    # to_add_out, ff_context): with no single block after it that output is unused, so they could never train
    # (training.lora_target_modules).
    want = {f"transformer.transformer_blocks.0.{m}" for m in (
        "attn.to_q", "attn.to_k", "attn.to_v", "attn.to_out.0", "attn.add_k_proj", "attn.add_v_proj", "ff.net.0.proj", "ff.net.2")}
    assert modules == want, sorted(modules ^ want)
    assert all(state[f"{m}.alpha"].item() == 4.0 for m in want)
    assert all(state[f"{m}.lora_B.weight"].abs().max() > 0 for m in want)  # B starts at zero: every one trained


def test_accelerate_lora_loads_cleanly_and_changes_text_to_video(comfy_server, accelerate_lora, tmp_path):
    _workflows_api().test_trained_lora_loads_cleanly_and_changes_text_to_video(comfy_server, accelerate_lora, tmp_path)
