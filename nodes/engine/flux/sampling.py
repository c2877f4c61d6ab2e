"""Sample grid images with a diffusers FluxPipeline, returning ComfyUI's IMAGE and LATENT.

diffusers keeps FLUX latents packed (2x2 patches -> tokens) and normalised
((z - shift_factor) * scaling_factor). ComfyUI's LATENT["samples"] holds the
raw VAE latent -- its sampler applies latent_formats.Flux.process_in/out
itself -- so the latent is unpacked and de-normalised here: then ComfyUI's
VAEDecode, Split Latent Grid and every latent node read it as their own.

>>> images, latents = sample_grid(pipe, GridLayout(), prompt, steps=28, guidance=3.5, seed=0)
>>> images.shape, latents.shape        # IMAGE [B,H,W,3] in 0..1, LATENT samples [B,16,H/8,W/8]
(torch.Size([1, 768, 1280, 3]), torch.Size([1, 16, 96, 160]))
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..errors import DrawAVideoError
from ..layout import GridLayout


def vae_latent_from_packed(pipe, packed: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """diffusers' packed, normalised latents [B, tokens, 64] -> raw VAE latents [B, 16, H/8, W/8]."""
    latents = pipe._unpack_latents(packed, height, width, pipe.vae_scale_factor)
    config = pipe.vae.config
    return latents / config.scaling_factor + config.shift_factor


def decode_vae_latent(pipe, latents: torch.Tensor) -> torch.Tensor:
    """Raw VAE latents [B, 16, h, w] -> IMAGE [B, 8h, 8w, 3] float32 in 0..1 on the CPU (VAE tiling/slicing apply)."""
    vae = pipe.vae
    with torch.no_grad():
        decoded = vae.decode(latents.to(pipe._execution_device, vae.dtype), return_dict=False)[0]
    return (decoded.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu()


def sample_grid(
    pipe,
    layout: GridLayout,
    prompt: str,
    steps: int = 28,
    guidance: float = 3.5,
    seed: int = 0,
    batch_size: int = 1,
    on_step: Callable[[int, int], None] | None = None,
    max_sequence_length: int = 512,
    prompt_embeds: torch.Tensor | None = None,
    pooled_prompt_embeds: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw `batch_size` grids of `layout`'s size; returns (IMAGE [B,H,W,3], raw VAE latents [B,16,H/8,W/8]).

    The noise comes from a CPU generator seeded with `seed`, so a seed gives the same grids on any
    device. `on_step(done, total)` runs after every step; an exception it raises (a cancel) stops
    sampling there and propagates. `prompt_embeds` [1,seq,D] + `pooled_prompt_embeds` [1,Dp], if given,
    stand for `prompt` already encoded (the LoRA trainer's cached text), so the pipeline needs no text encoders.
    """
    if not isinstance(layout, GridLayout):
        raise DrawAVideoError("layout must be a GRID_LAYOUT from Grid Layout (Draw-a-Video).")
    layout.check_flux()
    if not isinstance(prompt, str) or not prompt.strip():
        raise DrawAVideoError("prompt is empty; connect Grid Prompt (Draw-a-Video) or type what the grid shows.")
    if steps < 1 or batch_size < 1:
        raise DrawAVideoError(f"steps ({steps}) and batch_size ({batch_size}) must be at least 1.")

    def callback(_pipe, i, _t, tensors):
        on_step(i + 1, steps)
        return {}

    generator = torch.Generator("cpu").manual_seed(int(seed))
    with torch.no_grad():
        text = {"prompt": prompt} if prompt_embeds is None else {
            "prompt_embeds": prompt_embeds.to(pipe._execution_device), "pooled_prompt_embeds": pooled_prompt_embeds.to(pipe._execution_device)}
        packed = pipe(
            **text,
            height=layout.height,
            width=layout.width,
            num_inference_steps=steps,
            guidance_scale=guidance,
            num_images_per_prompt=batch_size,
            generator=generator,
            output_type="latent",
            callback_on_step_end=callback if on_step is not None else None,
            max_sequence_length=max_sequence_length,
        ).images
    latents = vae_latent_from_packed(pipe, packed, layout.height, layout.width)
    images = decode_vae_latent(pipe, latents)
    return images, latents.float().cpu()
