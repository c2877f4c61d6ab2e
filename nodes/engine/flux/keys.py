"""FLUX.1 weight names: Black Forest Labs' original layout <-> diffusers' `FluxTransformer2DModel`.

Single-file transformers (models/diffusion_models, what ComfyUI's UNETLoader
reads) and kohya / ComfyUI LoRAs use BFL's names, where one linear layer holds
several of diffusers' (img_attn.qkv = to_q + to_k + to_v; a single block's
linear1 = to_q + to_k + to_v + proj_mlp). The table here is built from the
transformer's config, not from FLUX.1's fixed sizes, so it fits any width and
depth -- the tiny test model included (diffusers' own converters assume 3072).

>>> table = module_table({"num_layers": 19, "num_single_layers": 38, "num_attention_heads": 24,
...                       "attention_head_dim": 128, "guidance_embeds": True})
>>> [(t.module, t.rows) for t in table["single_blocks.0.linear1"].targets]
[('single_transformer_blocks.0.attn.to_q', 3072), ('single_transformer_blocks.0.attn.to_k', 3072), ('single_transformer_blocks.0.attn.to_v', 3072), ('single_transformer_blocks.0.proj_mlp', 12288)]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import DrawAVideoError

# Prefixes a BFL-named file may carry: a full ComfyUI checkpoint, or ComfyUI's model-only LoRA keys.
BFL_PREFIXES = ("model.diffusion_model.", "diffusion_model.")
MLP_RATIO = 4  # FluxTransformer2DModel's fixed mlp_ratio


@dataclass(frozen=True)
class Target:
    module: str  # diffusers module path
    rows: int | None  # output rows this module takes from the fused BFL layer (None: all of them)


@dataclass(frozen=True)
class BflModule:
    """One BFL linear layer and the diffusers linear layer(s) its output rows are split into."""

    name: str
    targets: tuple[Target, ...]
    # BFL's final modulation outputs (shift, scale); diffusers' AdaLayerNormContinuous expects (scale, shift).
    swap_halves: bool = False

    def split(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Rows of a weight/bias (or a LoRA up matrix) cut per target."""
        if self.swap_halves:
            shift, scale = tensor.chunk(2, dim=0)
            tensor = torch.cat([scale, shift], dim=0)
        if len(self.targets) == 1:
            return [tensor]
        sizes = [t.rows for t in self.targets]
        if sum(sizes) != tensor.shape[0]:
            raise DrawAVideoError(
                f"{self.name} has {tensor.shape[0]} output rows but this FLUX transformer needs {sum(sizes)} "
                f"({' + '.join(map(str, sizes))}); the file was made for a different model size."
            )
        return list(torch.split(tensor, sizes, dim=0))


def _config(config) -> dict:
    return dict(config) if not isinstance(config, dict) else config


def module_table(config) -> dict[str, BflModule]:
    """Every BFL linear layer of a FLUX transformer with this diffusers `config`, by BFL module name."""
    c = _config(config)
    dim = c["num_attention_heads"] * c["attention_head_dim"]
    mlp = dim * MLP_RATIO
    one = lambda name, module: BflModule(name, (Target(module, None),))  # noqa: E731
    table = [
        one("img_in", "x_embedder"),
        one("txt_in", "context_embedder"),
        one("time_in.in_layer", "time_text_embed.timestep_embedder.linear_1"),
        one("time_in.out_layer", "time_text_embed.timestep_embedder.linear_2"),
        one("vector_in.in_layer", "time_text_embed.text_embedder.linear_1"),
        one("vector_in.out_layer", "time_text_embed.text_embedder.linear_2"),
        one("final_layer.linear", "proj_out"),
        BflModule("final_layer.adaLN_modulation.1", (Target("norm_out.linear", None),), swap_halves=True),
    ]
    if c.get("guidance_embeds", False):
        table += [
            one("guidance_in.in_layer", "time_text_embed.guidance_embedder.linear_1"),
            one("guidance_in.out_layer", "time_text_embed.guidance_embedder.linear_2"),
        ]
    for i in range(c["num_layers"]):
        b, d = f"double_blocks.{i}", f"transformer_blocks.{i}"
        table += [
            BflModule(f"{b}.img_attn.qkv", tuple(Target(f"{d}.attn.to_{x}", dim) for x in "qkv")),
            BflModule(f"{b}.txt_attn.qkv", tuple(Target(f"{d}.attn.add_{x}_proj", dim) for x in "qkv")),
            one(f"{b}.img_attn.proj", f"{d}.attn.to_out.0"),
            one(f"{b}.txt_attn.proj", f"{d}.attn.to_add_out"),
            one(f"{b}.img_mlp.0", f"{d}.ff.net.0.proj"),
            one(f"{b}.img_mlp.2", f"{d}.ff.net.2"),
            one(f"{b}.txt_mlp.0", f"{d}.ff_context.net.0.proj"),
            one(f"{b}.txt_mlp.2", f"{d}.ff_context.net.2"),
            one(f"{b}.img_mod.lin", f"{d}.norm1.linear"),
            one(f"{b}.txt_mod.lin", f"{d}.norm1_context.linear"),
        ]
    for i in range(c["num_single_layers"]):
        b, d = f"single_blocks.{i}", f"single_transformer_blocks.{i}"
        table += [
            BflModule(
                f"{b}.linear1",
                (Target(f"{d}.attn.to_q", dim), Target(f"{d}.attn.to_k", dim), Target(f"{d}.attn.to_v", dim), Target(f"{d}.proj_mlp", mlp)),
            ),
            one(f"{b}.linear2", f"{d}.proj_out"),
            one(f"{b}.modulation.lin", f"{d}.norm.linear"),
        ]
    return {m.name: m for m in table}


def norm_renames(config) -> dict[str, str]:
    """BFL RMSNorm scale names -> diffusers weight names (plain renames, no reshaping)."""
    c = _config(config)
    names = {}
    for i in range(c["num_layers"]):
        b, d = f"double_blocks.{i}", f"transformer_blocks.{i}.attn"
        names.update({
            f"{b}.img_attn.norm.query_norm.scale": f"{d}.norm_q.weight",
            f"{b}.img_attn.norm.key_norm.scale": f"{d}.norm_k.weight",
            f"{b}.txt_attn.norm.query_norm.scale": f"{d}.norm_added_q.weight",
            f"{b}.txt_attn.norm.key_norm.scale": f"{d}.norm_added_k.weight",
        })
    for i in range(c["num_single_layers"]):
        b, d = f"single_blocks.{i}.norm", f"single_transformer_blocks.{i}.attn"
        names.update({f"{b}.query_norm.scale": f"{d}.norm_q.weight", f"{b}.key_norm.scale": f"{d}.norm_k.weight"})
    return names


def strip_bfl_key(key: str) -> str:
    """Drop ComfyUI's `model.diffusion_model.` / `diffusion_model.` prefix from one key, if it has it."""
    for prefix in BFL_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def strip_bfl_prefix(state_dict: dict) -> dict:
    """`strip_bfl_key` on every key of a state dict."""
    return {strip_bfl_key(key): value for key, value in state_dict.items()}


def is_bfl_layout(keys) -> bool:
    """True when transformer weights use BFL's names (double_blocks.*, single_blocks.*)."""
    return any(strip_bfl_key(k).split(".", 1)[0] in ("double_blocks", "single_blocks") for k in keys)


def bfl_to_diffusers(state_dict: dict, config) -> tuple[dict, list[str]]:
    """A BFL-named transformer state dict in diffusers' names; also the keys nothing maps to."""
    state = strip_bfl_prefix(state_dict)
    out = {}
    for module in module_table(config).values():
        for param in ("weight", "bias"):
            key = f"{module.name}.{param}"
            if key in state:
                for target, part in zip(module.targets, module.split(state.pop(key))):
                    out[f"{target.module}.{param}"] = part
    for old, new in norm_renames(config).items():
        if old in state:
            out[new] = state.pop(old)
    return out, sorted(state)
