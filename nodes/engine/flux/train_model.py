"""The LoRA trainer's models and files: FLUX.1 loaded through the pack's loaders, checked, and what it writes.

The text encoders, the VAE, the tokenizers and the scheduler come from a diffusers FLUX.1 folder
(`FluxPipeline.from_pretrained(..., transformer=None)`, local files only); the transformer from that
folder, or from a single file through `loading.load_flux_transformer` -- BFL or diffusers names,
ComfyUI's scaled fp8 dequantized -- so the file ComfyUI's UNETLoader reads trains here too.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass

import torch

from ..errors import DrawAVideoError
from ..files import publish_atomically, publish_new, staged_file
from .imports import flux_pipeline_class
from .loading import _check_folder, _dtype, _dtype_kwarg, load_flux_transformer
from .train_data import TrainCache, model_key

log = logging.getLogger("draw_a_video.train")


@dataclass
class TrainingModels:
    pipe: object  # FluxPipeline: VAE + text encoders (+ the transformer while sampling)
    transformer: object
    scheduler: object  # a FlowMatchEulerDiscreteScheduler of its own, never stepped (the example's noise_scheduler_copy)
    dtype: torch.dtype
    device: torch.device
    folder: str

    vae_config: object = None
    max_sequence_length: int = 512

    def cache(self, cfg) -> TrainCache:
        root = cfg.cache_dir or os.path.join(cfg.output_dir, "cache")
        dtype = str(self.dtype).removeprefix("torch.")
        return TrainCache(root, model_key(self.folder, ("vae",), dtype),
                          model_key(self.folder, ("text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2"), dtype, cfg.max_sequence_length))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        vae = self.pipe.vae
        with torch.no_grad():
            return vae.encode(pixels.to(self.device, vae.dtype)).latent_dist.parameters.cpu()  # kept in the VAE's dtype

    def encode_text(self, caption: str):
        with torch.no_grad():
            embeds, pooled, _ = self.pipe.encode_prompt(prompt=caption, prompt_2=None, device=self.device,
                                                        max_sequence_length=self.max_sequence_length)
        return embeds[0].cpu(), pooled[0].cpu()

    def drop_encoders(self, keep_vae: bool) -> None:
        """Free the text encoders (their output is cached) and the VAE unless samples need it; then move the
        transformer onto the device, so T5-XXL and FLUX never share it."""
        self.pipe.text_encoder = self.pipe.text_encoder_2 = None
        if not keep_vae:
            self.pipe.vae = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        self.transformer.to(self.device)


def load_training_models(cfg, device) -> TrainingModels:
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel

    FluxPipeline = flux_pipeline_class()
    folder = cfg.model_folder
    _check_folder(folder)
    dtype = _dtype(cfg.dtype)  # "bf16" or "fp32" (the trainer checked)
    try:
        pipe = FluxPipeline.from_pretrained(folder, transformer=None, local_files_only=True, **_dtype_kwarg(dtype))
    except (OSError, ValueError, KeyError) as exc:
        raise DrawAVideoError(
            f"--model_folder {folder!r}: its VAE / text encoders could not be loaded ({str(exc).splitlines()[0][:300]}); "
            "use a complete diffusers FLUX.1 folder (e.g. a local copy of black-forest-labs/FLUX.1-dev)."
        ) from exc
    pipe.set_progress_bar_config(disable=True)
    if cfg.transformer_file:
        transformer = load_flux_transformer(cfg.transformer_file, folder, dtype)
    else:
        try:
            transformer = FluxTransformer2DModel.from_pretrained(folder, subfolder="transformer", local_files_only=True, **_dtype_kwarg(dtype))
        except (OSError, ValueError) as exc:
            raise DrawAVideoError(
                f"--model_folder {folder!r} has no loadable transformer weights ({str(exc).splitlines()[0][:200]}); "
                "add them, or pass the single file as --transformer_file."
            ) from exc
    pipe.to(device)  # the transformer stays in RAM until the encoders are gone (drop_encoders)
    scheduler = FlowMatchEulerDiscreteScheduler.from_pretrained(folder, subfolder="scheduler", local_files_only=True)
    return TrainingModels(pipe, transformer, scheduler, dtype, torch.device(device), folder, pipe.vae.config, cfg.max_sequence_length)


def check_model_fits(models: TrainingModels, cfg) -> None:
    """The transformer, the text encoders and the VAE of one FLUX size (grid sizes: read_grid_dataset)."""
    t = models.transformer.config
    pipe = models.pipe
    source = f"--transformer_file {os.path.basename(cfg.transformer_file)!r}" if cfg.transformer_file else "its transformer"
    checks = [
        ("latent channels x 2x2 patch", pipe.vae.config.latent_channels * 4, t.in_channels, "VAE"),
        ("T5 width", pipe.text_encoder_2.config.d_model, t.joint_attention_dim, "text_encoder_2"),
        ("CLIP pooled width", pipe.text_encoder.config.hidden_size, t.pooled_projection_dim, "text_encoder"),
    ]
    for what, have, need, part in checks:
        if have != need:
            raise DrawAVideoError(
                f"--model_folder {os.path.basename(models.folder)!r}: {source} expects a {what} of {need}, but the folder's "
                f"{part} gives {have}: they are different FLUX sizes. Pair the transformer with the diffusers folder of the same model."
            )
    if not t.guidance_embeds:
        log.warning("this transformer has no guidance embedding (FLUX.1-schnell-like); training without one")


def save_lora(state: dict, path: str, cfg, settings: dict, steps: int) -> str:
    """Write the LoRA atomically, never over a file: `path`, or a numbered name beside it if that appeared meanwhile."""
    from safetensors.torch import save_file

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    metadata = {
        "format": "pt", "ss_network_module": "networks.lora_flux", "ss_base_model_version": "flux1",
        "ss_network_dim": str(cfg.rank), "ss_network_alpha": str(settings["alpha"]), "ss_steps": str(steps),
        "draw_a_video_trainer": json.dumps({**settings, "dataset": os.path.basename(os.path.normpath(cfg.dataset))}, sort_keys=True),
    }
    with staged_file(folder, "safetensors") as temp:
        save_file(state, temp, metadata=metadata)
        if publish_new(temp, path):
            return path
        return publish_atomically(temp, folder, os.path.splitext(os.path.basename(path))[0], "safetensors")


def save_sample(models: TrainingModels, transformer, layout, prompt: str, cache: TrainCache, cfg, step: int) -> list[str]:
    """A grid drawn with the LoRA so far (the pack's grid sampler), saved as samples/step-NNNNNN.png and .mp4."""
    from PIL import Image

    from ..grid import split_image
    from ..video.formats import get_format
    from ..video.writer import write_video
    from .sampling import sample_grid

    folder = os.path.join(cfg.output_dir, "samples")
    os.makedirs(folder, exist_ok=True)
    text = cache.load_text(prompt)
    models.pipe.transformer = transformer
    was_training = transformer.training
    transformer.eval()
    try:
        images, _ = sample_grid(models.pipe, layout, prompt, steps=cfg.sample_steps, guidance=cfg.objective.guidance_scale,
                                seed=cfg.seed, prompt_embeds=text["prompt_embeds"][None], pooled_prompt_embeds=text["pooled_prompt_embeds"][None],
                                max_sequence_length=cfg.max_sequence_length)
    finally:
        transformer.train(was_training)
        models.pipe.transformer = None
    png = os.path.join(folder, f"step-{step:06d}.png")
    Image.fromarray((images[0].numpy() * 255).round().astype("uint8")).save(png)
    mp4 = os.path.join(folder, f"step-{step:06d}.mp4")
    fmt = get_format("mp4 (h264)")
    with staged_file(folder, fmt.extension) as temp:
        write_video(split_image(images, layout), temp, fmt, fps=8.0, metadata={"comment": f"LoRA sample at step {step}: {prompt}"})
        os.replace(temp, mp4)
    return [png, mp4]
