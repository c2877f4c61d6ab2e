"""FLUX.1 LoRA training pieces: the flow-matching objective, the peft LoRA, and the file ComfyUI loads.

The objective is the one diffusers' FLUX.1-dev LoRA example trains with
(examples/dreambooth/train_dreambooth_lora_flux.py, diffusers 0.3x-0.4x):

- latents are normalised as the FLUX VAE's config says, z = (x - shift_factor) * scaling_factor;
- a timestep per sample: u ~ `compute_density_for_timestep_sampling(weighting_scheme, ...)`
  (diffusers.training_utils; "none" = uniform, "logit_normal" / "mode" from the SD3 paper,
  arXiv 2403.03206 sec. 3.1), index = int(u * 1000) into the FlowMatchEulerDiscreteScheduler's
  table of the model folder. FLUX.1-dev's scheduler config has `use_dynamic_shifting`, so that
  table is *unshifted* (sigma = t / 1000): the example trains on uniform sigmas. `timestep_shift`
  adds the shift the sampler applies at inference: "flux" = FLUX's resolution-dependent
  exponential shift (mu = diffusers' `calculate_shift(image tokens)` from the scheduler's
  base/max_shift, sigma' = e^mu / (e^mu + 1/sigma - 1), as FlowMatchEulerDiscreteScheduler.time_shift
  and kohya sd-scripts' `--timestep_sampling flux_shift`), or a number s = SD3's static shift
  s*sigma / (1 + (s-1)*sigma);
- noisy = (1 - sigma) * z + sigma * noise, the target is the velocity noise - z;
- latents go in packed (2x2 patches -> tokens, `FluxPipeline._pack_latents`) with image ids
  (`_prepare_latent_image_ids`, one (0, row, col) per token) and zero text ids; the transformer gets
  timestep = t / 1000 and, FLUX.1-dev being guidance-distilled, a guidance embedding of
  `guidance_scale` (the example's default 3.5);
- loss = mean over pixels of weighting(sigma) * (pred - target)^2 (`compute_loss_weighting_for_sd3`),
  averaged over the batch.

Every random draw of one training sample -- the latent sample, the noise, the timestep -- comes from
its own CPU generator seeded by (seed, sample slot), never from a process's global RNG: a run on
one process with batch 2, on two processes with batch 1, or resumed half-way draws the same numbers
for the same sample, on any device.

The LoRA file uses diffusers' keys with kohya-style alphas: `transformer.<module>.lora_A.weight`
(rank x in), `.lora_B.weight` (out x rank) and `.alpha` (a scalar). ComfyUI's LoraLoaderModelOnly maps
these through comfy.utils.flux_to_diffusers (q/k/v into the fused qkv / linear1 rows) and scales by
alpha / rank, as peft does with lora_alpha / r: strength 1 in ComfyUI is the trained LoRA exactly.
The pack's FLUX LoRA (diffusers) node loads the same file (diffusers reads `.alpha` as network alphas).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch

from ..errors import DrawAVideoError

# The transformer's attention and MLP linears (diffusers' FluxTransformer2DModel names). Modulation
# (norm*.linear), the embedders and the final projection are left as they are, as in most FLUX LoRAs.
DOUBLE_TARGETS = (
    "attn.to_q", "attn.to_k", "attn.to_v", "attn.to_out.0",
    "attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj", "attn.to_add_out",
    "ff.net.0.proj", "ff.net.2", "ff_context.net.0.proj", "ff_context.net.2",
)
SINGLE_TARGETS = ("attn.to_q", "attn.to_k", "attn.to_v", "proj_mlp", "proj_out")
WEIGHTING_SCHEMES = ("none", "logit_normal", "mode", "sigma_sqrt", "cosmap")


def lora_target_modules(transformer) -> list[str]:
    """Full module paths of the attention and MLP linears that get a LoRA."""
    pattern = re.compile(
        r"^(transformer_blocks\.\d+\.(" + "|".join(map(re.escape, DOUBLE_TARGETS)) + r")"
        r"|single_transformer_blocks\.\d+\.(" + "|".join(map(re.escape, SINGLE_TARGETS)) + r"))$"
    )
    found = [name for name, module in transformer.named_modules() if pattern.match(name) and isinstance(module, torch.nn.Linear)]
    config = transformer.config
    if config.num_single_layers == 0 and config.num_layers > 0:
        # With no single-stream blocks after it, the last double block's text-stream output is thrown away
        # (FluxTransformer2DModel returns the image stream only), and with it what only feeds it: the text
        # queries, the text attention output and the text MLP. A LoRA there would never get a gradient, and
        # DDP refuses parameters without one. FLUX.1 has 38 single blocks; small test models may have none.
        dead = [f"transformer_blocks.{config.num_layers - 1}.{m}"
                for m in ("attn.add_q_proj", "attn.to_add_out", "ff_context.net.0.proj", "ff_context.net.2")]
        found = [name for name in found if name not in dead]
    if not found:
        raise DrawAVideoError("the transformer has none of FLUX.1's attention/MLP layers; --model_folder must hold a FLUX.1 model.")
    return found


def add_lora(transformer, rank: int, alpha: float) -> list[str]:
    """Freeze `transformer` and give its attention/MLP linears a peft LoRA (A gaussian, B zero); returns their names.

    Seed torch's global RNG first (the trainer does) so that A's draw is the same on every process and run.
    """
    from peft import LoraConfig

    if rank < 1:
        raise DrawAVideoError(f"--rank is {rank}; a LoRA needs a rank of at least 1 (16 is a common FLUX choice).")
    if alpha <= 0:
        raise DrawAVideoError(f"--alpha is {alpha}; it must be positive (alpha = rank gives scale 1).")
    targets = lora_target_modules(transformer)
    transformer.requires_grad_(False)
    transformer.add_adapter(LoraConfig(r=rank, lora_alpha=alpha, init_lora_weights="gaussian", target_modules=targets))
    for param in transformer.parameters():
        if param.requires_grad:
            param.data = param.data.float()  # LoRA weights train in fp32 (diffusers' cast_training_params)
    return targets


def lora_state_for_comfy(transformer, alpha: float, dtype=torch.float32) -> dict[str, torch.Tensor]:
    """The trained LoRA as ComfyUI and the pack's diffusers node load it (see the module docstring)."""
    from peft.utils import get_peft_model_state_dict

    state = get_peft_model_state_dict(transformer)
    out = {}
    for key, tensor in sorted(state.items()):
        if not key.endswith((".lora_A.weight", ".lora_B.weight")):
            raise DrawAVideoError(f"unexpected LoRA tensor {key}; only plain LoRA (lora_A / lora_B) is written.")
        out[f"transformer.{key}"] = tensor.detach().to("cpu", dtype).contiguous()
        if key.endswith(".lora_A.weight"):
            out[f"transformer.{key[: -len('.lora_A.weight')]}.alpha"] = torch.tensor(float(alpha))
    return out


# -- the objective -------------------------------------------------------------

@dataclass(frozen=True)
class Objective:
    """How timesteps are drawn and the loss weighted (defaults: diffusers' FLUX.1-dev LoRA example)."""

    weighting_scheme: str = "none"
    logit_mean: float = 0.0
    logit_std: float = 1.0
    mode_scale: float = 1.29
    timestep_shift: str = "none"  # "none" | "flux" | a number
    guidance_scale: float = 3.5

    def __post_init__(self):
        if self.weighting_scheme not in WEIGHTING_SCHEMES:
            raise DrawAVideoError(f"--weighting_scheme is {self.weighting_scheme!r}; choose one of {', '.join(WEIGHTING_SCHEMES)}.")
        if self.timestep_shift not in ("none", "flux"):
            try:
                if float(self.timestep_shift) <= 0:
                    raise ValueError
            except ValueError:
                raise DrawAVideoError(f"--timestep_shift is {self.timestep_shift!r}; use none, flux, or a positive number such as 3.") from None


def sample_generator(seed: int, slot: int) -> torch.Generator:
    """The CPU generator of one training sample: slot k of the run's sample stream (see the module docstring)."""
    return torch.Generator("cpu").manual_seed((int(seed) * 1_000_003 + int(slot) * 7_919 + 17) % (2**63 - 1))


def shift_sigmas(sigmas: torch.Tensor, objective: Objective, image_tokens: int, scheduler_config) -> torch.Tensor:
    if objective.timestep_shift == "none":
        return sigmas
    if objective.timestep_shift == "flux":
        from .imports import flux_pipeline_class

        flux_pipeline_class()  # the quiet import of diffusers' FLUX pipeline module
        from diffusers.pipelines.flux.pipeline_flux import calculate_shift

        c = scheduler_config
        mu = calculate_shift(image_tokens, c.get("base_image_seq_len", 256), c.get("max_image_seq_len", 4096),
                             c.get("base_shift", 0.5), c.get("max_shift", 1.15))
        return math.exp(mu) / (math.exp(mu) + (1 / sigmas - 1))
    s = float(objective.timestep_shift)
    return s * sigmas / (1 + (s - 1) * sigmas)


def draw_sample(parameters: torch.Tensor, generator: torch.Generator, objective: Objective, scheduler, image_tokens: int):
    """(normalised latent z [C,h,w], noise [C,h,w], sigma scalar) for one sample, all from `generator` on the CPU."""
    from diffusers.training_utils import compute_density_for_timestep_sampling

    mean, logvar = parameters.float().chunk(2, dim=0)
    std = torch.exp(0.5 * logvar.clamp(-30.0, 20.0))  # DiagonalGaussianDistribution's clamp
    latent = mean + std * torch.randn(mean.shape, generator=generator)
    noise = torch.randn(mean.shape, generator=generator)
    u = compute_density_for_timestep_sampling(
        objective.weighting_scheme, 1, objective.logit_mean, objective.logit_std, objective.mode_scale, generator=generator
    )
    n = scheduler.config.num_train_timesteps
    index = (u * n).long().clamp(0, n - 1)
    sigma = scheduler.sigmas[index].float()
    sigma = shift_sigmas(sigma, objective, image_tokens, scheduler.config)
    return latent, noise, sigma[0]


def flow_matching_loss(model, batch: dict, objective: Objective, vae_config, guidance_embeds: bool, dtype, device):
    """The loss of one micro-batch. batch: "latents" [B,C,h,w] (VAE-raw samples), "noise", "sigmas" [B],
    "prompt_embeds" [B,seq,D], "pooled_prompt_embeds" [B,Dp]."""
    from diffusers.training_utils import compute_loss_weighting_for_sd3

    from .imports import flux_pipeline_class

    FluxPipeline = flux_pipeline_class()

    z = ((batch["latents"] - vae_config.shift_factor) * vae_config.scaling_factor).to(device)
    noise, sigmas = batch["noise"].to(device), batch["sigmas"].to(device).view(-1, 1, 1, 1)
    b, c, h, w = z.shape
    noisy = ((1.0 - sigmas) * z + sigmas * noise).to(dtype)
    packed = FluxPipeline._pack_latents(noisy, b, c, h, w)
    image_ids = FluxPipeline._prepare_latent_image_ids(b, h // 2, w // 2, device, dtype)
    embeds = batch["prompt_embeds"].to(device, dtype)
    text_ids = torch.zeros(embeds.shape[1], 3, device=device, dtype=dtype)
    guidance = torch.full((b,), objective.guidance_scale, device=device, dtype=torch.float32) if guidance_embeds else None
    pred = model(
        hidden_states=packed,
        timestep=sigmas.view(-1).to(dtype),  # the scheduler's t = 1000 * sigma, passed as t / 1000 (as the example)
        guidance=guidance,
        pooled_projections=batch["pooled_prompt_embeds"].to(device, dtype),
        encoder_hidden_states=embeds,
        txt_ids=text_ids,
        img_ids=image_ids,
        return_dict=False,
    )[0]
    pred = FluxPipeline._unpack_latents(pred, h * 8, w * 8, 8)
    weighting = compute_loss_weighting_for_sd3(objective.weighting_scheme, sigmas)
    target = noise - z
    return torch.mean((weighting.float() * (pred.float() - target.float()) ** 2).reshape(b, -1), 1).mean()
