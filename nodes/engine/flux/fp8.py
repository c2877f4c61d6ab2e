"""Read a single-file FLUX transformer, undoing ComfyUI's fp8 weight scaling.

ComfyUI writes two kinds of scaled fp8 files that diffusers loads *silently
wrong* (it casts the fp8 numbers and never applies their scales):

- "scaled fp8" (older): a `scaled_fp8` marker key, float8_e4m3fn weights and a
  per-layer `<layer>.scale_weight`; the real weight is weight * scale_weight
  (comfy/utils.py convert_old_quants).
- mixed "comfy_quant" (newer): a `<layer>.comfy_quant` JSON tensor (or the
  `_quantization_metadata` header entry) naming each layer's format, with
  `<layer>.weight_scale`; float8_e4m3fn / float8_e5m2 layers are weight *
  weight_scale too (comfy/quant_ops.py), nvfp4 layers are block-scaled 4-bit.

Both fp8 kinds are dequantized here into the chosen dtype; nvfp4 and unknown
formats are refused with a message. Plain fp8 files (no scales) need nothing:
their numbers are the weights.

>>> info = inspect_checkpoint("flux1-dev-fp8-scaled.safetensors")   # reads the header only
>>> info.kind
'scaled fp8'
>>> state = load_transformer_state_dict("flux1-dev-fp8-scaled.safetensors", torch.bfloat16)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import torch

from ..errors import DrawAVideoError
from ..files import require_safetensors

SCALED_FP8 = "scaled fp8"
COMFY_QUANT = "comfy quant"
PLAIN = "plain"
FP8_FORMATS = {"float8_e4m3fn", "float8_e5m2"}
QUANT_METADATA_KEY = "_quantization_metadata"


@dataclass
class CheckpointInfo:
    """What a .safetensors transformer holds, from its header alone."""

    path: str
    keys: list[str]
    kind: str = PLAIN  # PLAIN, SCALED_FP8 or COMFY_QUANT
    formats: dict[str, str] = field(default_factory=dict)  # layer -> quant format (COMFY_QUANT)
    dtypes: set[str] = field(default_factory=set)


def inspect_checkpoint(path: str) -> CheckpointInfo:
    """Classify a transformer file by its keys and header metadata, without reading the weights."""
    from safetensors import safe_open

    require_safetensors(path, "transformer_file")
    with safe_open(path, framework="pt") as f:
        keys = list(f.keys())
        metadata = f.metadata() or {}
        dtypes = {f.get_slice(k).get_dtype() for k in keys}
        info = CheckpointInfo(path, keys, dtypes=dtypes)
        if any(k == "scaled_fp8" or k.endswith(".scaled_fp8") for k in keys):
            info.kind = SCALED_FP8
        elif QUANT_METADATA_KEY in metadata or any(k.endswith(".comfy_quant") for k in keys):
            info.kind = COMFY_QUANT
            if QUANT_METADATA_KEY in metadata:
                layers = json.loads(metadata[QUANT_METADATA_KEY]).get("layers", {})
                info.formats.update({layer: conf.get("format", "?") for layer, conf in layers.items()})
            for k in keys:
                if k.endswith(".comfy_quant"):
                    conf = json.loads(bytes(f.get_tensor(k).tolist()).decode("utf-8"))
                    info.formats[k[: -len(".comfy_quant")]] = conf.get("format", "?")
    return info


def _dequantize(weight: torch.Tensor, scale: torch.Tensor, dtype: torch.dtype, name: str) -> torch.Tensor:
    if scale.numel() != 1:
        raise DrawAVideoError(
            f"{name} has a {tuple(scale.shape)} scale, not the per-tensor scale ComfyUI's fp8 files use; "
            "this file's quantization is not supported here: use a bf16/fp16 FLUX file, or ComfyUI's UNETLoader."
        )
    return (weight.to(torch.float32) * scale.to(torch.float32)).to(dtype)


def load_transformer_state_dict(path: str, dtype: torch.dtype, info: CheckpointInfo | None = None) -> dict[str, torch.Tensor]:
    """All tensors of a transformer file, scaled fp8 weights dequantized into `dtype`, scale keys dropped.

    `info`: the file's `inspect_checkpoint` result, if the caller has it already (saves a second header read).
    """
    from safetensors.torch import load_file

    info = info or inspect_checkpoint(path)
    name = os.path.basename(path)
    if info.kind == COMFY_QUANT:
        unsupported = sorted({fmt for fmt in info.formats.values() if fmt not in FP8_FORMATS})
        if unsupported:
            raise DrawAVideoError(
                f"transformer_file {name!r} is quantized by ComfyUI as {', '.join(unsupported)}, which diffusers "
                "cannot run; use a bf16/fp16 or fp8 FLUX file here, or load this one with ComfyUI's own "
                "UNETLoader and sample with KSampler."
            )
    state = load_file(path)
    if info.kind == PLAIN:
        return {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}

    if info.kind == SCALED_FP8:  # scales and the scaled_fp8 marker(s) are dropped
        scale_suffix, drop_suffixes = ".scale_weight", (".scale_weight", ".scale_input", ".scaled_fp8")
    else:
        scale_suffix, drop_suffixes = ".weight_scale", (".weight_scale", ".input_scale", ".weight_scale_2", ".comfy_quant")
    out = {}
    for key in list(state):
        if key == "scaled_fp8" or key.endswith(drop_suffixes):
            continue
        tensor = state.pop(key)
        scale_key = key[: -len(".weight")] + scale_suffix if key.endswith(".weight") else None
        if scale_key is not None and scale_key in state:
            out[key] = _dequantize(tensor, state[scale_key], dtype, key)
        elif tensor.dtype in (torch.float8_e4m3fn, torch.float8_e5m2) and info.kind == SCALED_FP8 and key.endswith(".weight"):
            raise DrawAVideoError(f"transformer_file {name!r}: {key} is fp8 but has no {scale_suffix}; the file is damaged.")
        else:
            out[key] = tensor.to(dtype) if tensor.is_floating_point() else tensor
    return out
