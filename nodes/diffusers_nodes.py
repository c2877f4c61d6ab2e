"""Nodes that sample grids with a diffusers FLUX.1 pipeline: loader, chainable LoRA, grid sampler.

An alternative to ComfyUI's own UNETLoader / KSampler path for people who keep
FLUX as a diffusers folder. The sampler's IMAGE and LATENT are ordinary
ComfyUI values: the LATENT is the raw VAE latent, as VAEDecode and Split
Latent Grid expect.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, replace

from . import host
from .engine.errors import DrawAVideoError
from .engine.flux.loading import DTYPES, MEMORY_MODES, MODEL_INDEX, is_diffusers_folder
from .grid_nodes import LAYOUT_INPUT

CATEGORY = "Draw-a-Video/diffusers"
PIPELINE_TYPE = "DAV_FLUX_PIPELINE"
PIPELINE_INPUT = (PIPELINE_TYPE, {"tooltip": "A FLUX.1 pipeline from Load FLUX (diffusers), possibly through FLUX LoRA nodes."})
FROM_FOLDER = "(from folder)"
NO_FOLDER = "(no FLUX folder in models/diffusers)"


@dataclass(frozen=True)
class FluxPipelineHandle:
    """What DAV_FLUX_PIPELINE carries: the loaded (shared, cached) pipeline and this branch's LoRA stack.

    LoRA nodes return a new handle; nothing touches the pipeline until a sampler activates exactly
    its handle's stack, so a LoRA in one branch or an earlier run never leaks into another.
    """

    pipe: object
    name: str
    loras: tuple = ()  # ((engine.flux.lora.LoraFile, strength), ...)

    def with_lora(self, lora, strength: float) -> FluxPipelineHandle:
        return replace(self, loras=self.loras + ((lora, float(strength)),))


# -- file lists -----------------------------------------------------------------

def diffusers_folders() -> list[str]:
    """Folders in models/diffusers, one or two levels deep (e.g. 'FLUX.1-dev', 'black-forest-labs/FLUX.1-dev'),
    that hold a model_index.json."""
    found = set()
    for root in host.model_folders("diffusers"):
        for pattern in (f"*/{MODEL_INDEX}", f"*/*/{MODEL_INDEX}"):
            for index in glob.glob(os.path.join(glob.escape(root), pattern)):
                found.add(os.path.relpath(os.path.dirname(index), root).replace(os.sep, "/"))
    return sorted(found)


def diffusers_folder_path(name: str) -> str:
    for root in host.model_folders("diffusers"):
        path = os.path.join(root, name)
        if is_diffusers_folder(path):
            return path
    raise DrawAVideoError(
        f"model_folder {name!r} is not in models/diffusers (or has no model_index.json); put a diffusers FLUX.1 "
        "folder there (e.g. a copy of black-forest-labs/FLUX.1-dev) and refresh (press R)."
    )


def _safetensors(names: list[str]) -> list[str]:
    return [n for n in names if n.endswith(".safetensors")]


def _file_path(kind: str, name: str, what: str) -> str:
    path = host.model_path(kind, name)
    if path is None:
        raise DrawAVideoError(f"{what} {name!r} is not in models/{kind}; pick a file from the list, or refresh it (press R).")
    return path


def _stamp(path: str | None) -> str:
    try:
        stat = os.stat(path)
    except (OSError, TypeError):
        return "missing"
    return f"{stat.st_mtime_ns}:{stat.st_size}"


# -- loader -----------------------------------------------------------------------

_cache: dict = {"key": None, "handle": None}


def _drop_cached_pipeline() -> None:
    """Release the cached pipeline before loading another: two FLUX pipelines rarely fit at once."""
    import gc

    import torch

    _cache["key"] = _cache["handle"] = None
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class DiffusersFluxLoaderNode:
    DESCRIPTION = (
        "Loads FLUX.1 with diffusers from a folder in models/diffusers (model_index.json inside), optionally with "
        "a single-file transformer from models/diffusion_models (BFL or diffusers names; ComfyUI's scaled fp8 files "
        "are dequantized). Nothing is downloaded. Connect it to FLUX LoRA (diffusers) or FLUX Grid Sampler "
        "(diffusers). ComfyUI's own models are unloaded first; the pipeline stays cached for re-runs."
    )
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (PIPELINE_TYPE,)
    RETURN_NAMES = ("pipeline",)
    OUTPUT_TOOLTIPS = ("The FLUX.1 pipeline: connect to FLUX LoRA (diffusers) or FLUX Grid Sampler (diffusers).",)

    @classmethod
    def INPUT_TYPES(cls):
        folders = diffusers_folders() or [NO_FOLDER]
        return {
            "required": {
                "model_folder": (folders, {"tooltip": "A diffusers FLUX.1 folder in models/diffusers (with model_index.json). It supplies the text encoders, VAE and scheduler, and the transformer unless transformer_file names one."}),
                "transformer_file": ([FROM_FOLDER] + _safetensors(host.model_files("diffusion_models")), {"default": FROM_FOLDER, "tooltip": "A single-file FLUX.1 transformer from models/diffusion_models (as UNETLoader uses), or '(from folder)'. It must be the same FLUX variant as model_folder. fp8 files are upcast to dtype."}),
                "dtype": (list(DTYPES), {"default": "bf16", "tooltip": "Weight and compute precision. bf16 for GPUs that have it (FLUX's own), fp16 for older GPUs, fp32 for CPU or debugging (twice the memory of bf16)."}),
                "memory_mode": (list(MEMORY_MODES), {"default": "model CPU offload", "tooltip": "all on device: fastest, needs VRAM for all of FLUX (~33 GB in bf16). model CPU offload: one model on the GPU at a time (~24 GB). sequential CPU offload: layer by layer, least VRAM, very slow. Without a GPU everything stays in RAM."}),
                "vae_tiling": ("BOOLEAN", {"default": False, "tooltip": "Decode the grid in tiles to save VRAM on large grids (can show faint tile seams)."}),
                "vae_slicing": ("BOOLEAN", {"default": False, "tooltip": "Decode a batch one grid at a time to save VRAM."}),
            }
        }

    @classmethod
    def IS_CHANGED(cls, model_folder, transformer_file=FROM_FOLDER, **kwargs):
        try:
            index = os.path.join(diffusers_folder_path(model_folder), MODEL_INDEX)
        except DrawAVideoError:
            index = None
        transformer = host.model_path("diffusion_models", transformer_file) if transformer_file != FROM_FOLDER else None
        return f"{_stamp(index)}|{_stamp(transformer)}"

    def load(self, model_folder, transformer_file, dtype, memory_mode, vae_tiling, vae_slicing):
        from .engine.flux.loading import load_flux_pipeline

        if model_folder == NO_FOLDER:
            raise DrawAVideoError(
                "model_folder: there is no diffusers FLUX.1 folder in models/diffusers; put one there "
                "(a folder with model_index.json) and refresh (press R)."
            )
        folder = diffusers_folder_path(model_folder)
        transformer = None if transformer_file in (FROM_FOLDER, "", None) else _file_path("diffusion_models", transformer_file, "transformer_file")
        device = host.torch_device()
        key = (os.path.realpath(folder), _stamp(os.path.join(folder, MODEL_INDEX)), transformer, _stamp(transformer),
               dtype, memory_mode, bool(vae_tiling), bool(vae_slicing), str(device))
        if _cache["key"] == key:
            return (_cache["handle"],)
        _drop_cached_pipeline()
        host.free_comfy_models()
        pipe = load_flux_pipeline(folder, transformer, dtype, memory_mode, vae_tiling, vae_slicing, device)
        name = model_folder + ("" if transformer is None else f" + {transformer_file}")
        _cache["key"], _cache["handle"] = key, FluxPipelineHandle(pipe, name)
        return (_cache["handle"],)


# -- LoRA -------------------------------------------------------------------------

class DiffusersLoraNode:
    DESCRIPTION = (
        "Adds a LoRA from models/loras to a FLUX.1 diffusers pipeline; chain several, each with its own strength. "
        "Reads diffusers/peft keys and kohya / ComfyUI (BFL-named) keys. The file is checked against the "
        "transformer here: a LoRA for another model is an error, not a silent no-op. Strength 0 = no LoRA. "
        "The sampler applies exactly its own chain's LoRAs on every run, so none leaks into another branch or a "
        "later run without it."
    )
    CATEGORY = CATEGORY
    FUNCTION = "add"
    RETURN_TYPES = (PIPELINE_TYPE,)
    RETURN_NAMES = ("pipeline",)
    OUTPUT_TOOLTIPS = ("The pipeline with this LoRA added to its stack: connect to another FLUX LoRA or the sampler.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pipeline": PIPELINE_INPUT,
                "lora_name": (_safetensors(host.model_files("loras")), {"tooltip": "A FLUX.1 LoRA in models/loras (.safetensors), e.g. the grid-video LoRA trained with this pack."}),
                "strength": ("FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0, "step": 0.01, "tooltip": "How strongly the LoRA applies; 0 = off, negative inverts it."}),
            }
        }

    @classmethod
    def IS_CHANGED(cls, lora_name, **kwargs):
        return _stamp(host.model_path("loras", lora_name))

    def add(self, pipeline, lora_name, strength):
        from .engine.flux.lora import prepare_lora

        if not isinstance(pipeline, FluxPipelineHandle):
            raise DrawAVideoError("pipeline must come from Load FLUX (diffusers) (Draw-a-Video).")
        lora = prepare_lora(pipeline.pipe.transformer, _file_path("loras", lora_name, "lora_name"))
        return (pipeline.with_lora(lora, strength),)


# -- sampler ----------------------------------------------------------------------

class DiffusersGridSamplerNode:
    DESCRIPTION = (
        "Draws grid images with the diffusers FLUX.1 pipeline at the layout's size: connect Grid Layout and Grid "
        "Prompt. Outputs the grids as IMAGE (for Split Image Grid into Frames) and as LATENT in ComfyUI's FLUX "
        "latent space (for Split Latent Grid, VAEDecode or a latent upscale). Same seed, same grids; cancel stops "
        "between steps."
    )
    CATEGORY = CATEGORY
    FUNCTION = "sample"
    RETURN_TYPES = ("IMAGE", "LATENT")
    RETURN_NAMES = ("grids", "latent")
    OUTPUT_TOOLTIPS = (
        "The decoded grid images [B,H,W,3].",
        "The same grids as FLUX.1 VAE latents (16 channels, 1/8 size), as KSampler would output them.",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "pipeline": PIPELINE_INPUT,
                "layout": LAYOUT_INPUT,
                "prompt": ("STRING", {"default": "", "multiline": True, "tooltip": "What to draw; connect Grid Prompt (Draw-a-Video) so the prompt names the layout's grid."}),
                "steps": ("INT", {"default": 28, "min": 1, "max": 200, "tooltip": "Denoising steps (FLUX.1-dev: 20-50; schnell: 4)."}),
                "guidance": ("FLOAT", {"default": 3.5, "min": 0.0, "max": 30.0, "step": 0.1, "tooltip": "FLUX.1-dev's distilled guidance (as FluxGuidance); schnell ignores it."}),
                "seed": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "tooltip": "Noise seed; the same seed gives the same grids on any device."}),
                "batch_size": ("INT", {"default": 1, "min": 1, "max": 64, "tooltip": "Grids drawn at once, each from its own noise."}),
            }
        }

    def sample(self, pipeline, layout, prompt, steps, guidance, seed, batch_size):
        from .engine.flux.lora import activate_loras
        from .engine.flux.sampling import sample_grid

        if not isinstance(pipeline, FluxPipelineHandle):
            raise DrawAVideoError("pipeline must come from Load FLUX (diffusers) (Draw-a-Video).")
        host.check_interrupted()
        host.free_comfy_models()
        activate_loras(pipeline.pipe, pipeline.loras)
        on_step = host.Progress(steps).step
        images, latents = sample_grid(pipeline.pipe, layout, prompt, steps, guidance, seed, batch_size, on_step)
        return (images, {"samples": latents})


NODE_CLASS_MAPPINGS = {
    "DrawAVideo_DiffusersFluxLoader": DiffusersFluxLoaderNode,
    "DrawAVideo_DiffusersLora": DiffusersLoraNode,
    "DrawAVideo_DiffusersGridSampler": DiffusersGridSamplerNode,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "DrawAVideo_DiffusersFluxLoader": "Load FLUX (diffusers) (Draw-a-Video)",
    "DrawAVideo_DiffusersLora": "FLUX LoRA (diffusers) (Draw-a-Video)",
    "DrawAVideo_DiffusersGridSampler": "FLUX Grid Sampler (diffusers) (Draw-a-Video)",
}
