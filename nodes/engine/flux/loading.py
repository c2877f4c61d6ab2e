"""Load a FLUX.1 diffusers pipeline from local files only.

Two sources: a diffusers folder (model_index.json inside, e.g. from
models/diffusers), or a single-file transformer (.safetensors from
models/diffusion_models, BFL or diffusers names, fp8-scaled or not) with a
diffusers folder that supplies the text encoders, the VAE, the scheduler and
the transformer's config. Nothing is ever fetched from a hub.

>>> pipe = load_flux_pipeline("models/diffusers/FLUX.1-dev", dtype="bf16")
>>> pipe = load_flux_pipeline("models/diffusers/FLUX.1-dev", "models/diffusion_models/flux1-dev-fp8.safetensors",
...                           memory_mode="model CPU offload", vae_tiling=True)
"""

from __future__ import annotations

import json
import logging
import os

import torch

from ..errors import DrawAVideoError
from .fp8 import inspect_checkpoint, load_transformer_state_dict
from .imports import flux_pipeline_class
from .keys import bfl_to_diffusers, is_bfl_layout

log = logging.getLogger("draw_a_video.flux")

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
MEMORY_MODES = ("all on device", "model CPU offload", "sequential CPU offload")
MODEL_INDEX = "model_index.json"


def is_diffusers_folder(path: str) -> bool:
    return os.path.isfile(os.path.join(path, MODEL_INDEX))


def _check_folder(folder: str) -> dict:
    if not os.path.isdir(folder):
        raise DrawAVideoError(f"model_folder {folder!r} does not exist; put a diffusers FLUX folder in models/diffusers.")
    if not is_diffusers_folder(folder):
        raise DrawAVideoError(
            f"model_folder {os.path.basename(folder)!r} has no {MODEL_INDEX}, so it is not a diffusers pipeline "
            "folder; use a FLUX.1 folder as saved by diffusers (e.g. a copy of black-forest-labs/FLUX.1-dev)."
        )
    with open(os.path.join(folder, MODEL_INDEX), encoding="utf-8") as f:
        index = json.load(f)
    transformer = index.get("transformer", [None, None])
    if transformer[1] != "FluxTransformer2DModel":
        raise DrawAVideoError(
            f"model_folder {os.path.basename(folder)!r} is a {index.get('_class_name')} whose transformer is "
            f"{transformer[1]}, not FLUX.1's FluxTransformer2DModel; pick a FLUX.1 folder."
        )
    return index


def _dtype(dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise DrawAVideoError(f"dtype is {dtype!r}; choose one of {', '.join(DTYPES)}.")
    return DTYPES[dtype]


def _dtype_kwarg(dtype: torch.dtype) -> dict:
    """diffusers' from_pretrained/from_single_file keyword for the weights' dtype.

    diffusers 0.40 renamed `torch_dtype` to `dtype` (the old name warns there); older releases ignore
    `dtype` without an error -- and 0.39 is the newest that installs beside transformers 4.x.
    """
    import diffusers
    from packaging.version import Version

    return {"dtype" if Version(diffusers.__version__).release >= (0, 40) else "torch_dtype": dtype}


def load_flux_transformer(path: str, folder: str, dtype="bf16"):
    """A FluxTransformer2DModel from one .safetensors file, shaped by `folder`/transformer/config.json.

    BFL-named files (what ComfyUI's UNETLoader reads) are renamed to diffusers' names with a table
    built from that config; ComfyUI's scaled fp8 weights are dequantized into `dtype`.
    """
    from diffusers import FluxTransformer2DModel

    dtype, name = _dtype(dtype), os.path.basename(path)
    if not os.path.isfile(os.path.join(folder, "transformer", "config.json")):
        raise DrawAVideoError(
            f"model_folder {os.path.basename(folder)!r} has no transformer/config.json, which transformer_file "
            f"{name!r} needs for its shape; use a complete diffusers FLUX.1 folder of the same model."
        )
    config = FluxTransformer2DModel.load_config(folder, subfolder="transformer", local_files_only=True)
    info = inspect_checkpoint(path)
    state = load_transformer_state_dict(path, dtype, info)
    leftover = []
    if is_bfl_layout(state):
        state, leftover = bfl_to_diffusers(state, config)
    else:  # already diffusers' names, possibly under the pipeline's `transformer.` prefix
        state = {k.removeprefix("transformer."): v for k, v in state.items()}

    with torch.device("meta"):  # shapes only, no memory
        expected = {k: v.shape for k, v in FluxTransformer2DModel.from_config(config).state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected)) + leftover
    wrong = sorted(k for k in set(expected) & set(state) if tuple(state[k].shape) != tuple(expected[k]))
    if missing or unexpected or wrong:
        details = "; ".join(
            f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''} ({len(keys)})"
            for label, keys in (("missing", missing), ("not in the model", unexpected), ("wrong shape", wrong))
            if keys
        )
        raise DrawAVideoError(
            f"transformer_file {name!r} does not fit the transformer of model_folder {os.path.basename(folder)!r} "
            f"({details}); pair it with the diffusers folder of the same FLUX.1 model (dev with dev, schnell with schnell)."
        )
    # The state dict already has diffusers' names, every key checked above, and the weights in `dtype`: the
    # model is built on the meta device and takes those tensors as they are. (diffusers' from_single_file
    # would cast the whole model again with `.to(dtype)`, which in diffusers 0.42 warns "modules ... that
    # should be kept in float32: []" on every load.)
    with torch.device("meta"):
        model = FluxTransformer2DModel.from_config(config)
    model.load_state_dict(state, strict=True, assign=True)
    log.info("loaded transformer %s (%s) with the config of %s", name, info.kind, folder)
    return model.eval()


def place_pipeline(pipe, memory_mode: str, device) -> str:
    """Put `pipe` on `device` per `memory_mode`; returns what was done, in words."""
    if memory_mode not in MEMORY_MODES:
        raise DrawAVideoError(f"memory_mode is {memory_mode!r}; choose one of {', '.join(MEMORY_MODES)}.")
    device = torch.device(device if device is not None else "cpu")
    if memory_mode != MEMORY_MODES[0] and device.type == "cpu":
        # Offload moves models between an accelerator and RAM; with no accelerator everything already lives in RAM.
        note = f"memory_mode {memory_mode!r} needs a GPU; this machine computes on the CPU, so the pipeline stays in RAM"
        log.warning(note)
        pipe.to(device)
        return note
    if memory_mode == "model CPU offload":
        pipe.enable_model_cpu_offload(device=device)
    elif memory_mode == "sequential CPU offload":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)
    return f"{memory_mode} on {device}"


def load_flux_pipeline(
    folder: str,
    transformer_file: str | None = None,
    dtype="bf16",
    memory_mode: str = MEMORY_MODES[0],
    vae_tiling: bool = False,
    vae_slicing: bool = False,
    device=None,
):
    """A FluxPipeline from a local diffusers folder, optionally with a single-file transformer."""
    FluxPipeline = flux_pipeline_class()

    _check_folder(folder)
    torch_dtype = _dtype(dtype)
    components = {}
    if transformer_file:
        components["transformer"] = load_flux_transformer(transformer_file, folder, torch_dtype)
    try:
        pipe = FluxPipeline.from_pretrained(folder, local_files_only=True, **_dtype_kwarg(torch_dtype), **components)
    except (OSError, ValueError, KeyError) as exc:
        raise DrawAVideoError(
            f"model_folder {os.path.basename(folder)!r} could not be loaded as a FLUX.1 pipeline ({exc}); "
            "check that every component folder listed in its model_index.json is complete."
        ) from exc
    pipe.set_progress_bar_config(disable=True)  # the nodes report progress themselves
    if vae_tiling:
        pipe.vae.enable_tiling()
    if vae_slicing:
        pipe.vae.enable_slicing()
    place_pipeline(pipe, memory_mode, device)
    return pipe
