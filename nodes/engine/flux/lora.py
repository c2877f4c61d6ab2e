"""FLUX LoRAs on a diffusers pipeline through peft, checked so that none is silently a no-op.

A file is read in one of three ways:

- diffusers / peft keys (`transformer.<module>.lora_A.weight` / `lora_B.weight`,
  optional alphas and adapter metadata): diffusers loads the file itself, after
  its modules and shapes are checked here against the transformer.
- BFL-named keys, as kohya's sd-scripts (`lora_unet_double_blocks_0_img_attn_qkv.
  lora_down.weight` / `lora_up` / `.alpha`) and ComfyUI's trainer
  (`diffusion_model.double_blocks.0.img_attn.qkv.lora_down.weight`) write them:
  converted here with the transformer's own key table (fused qkv / linear1 split
  by the model's real sizes; alpha / rank folded into lora_A), then loaded.
  Text-encoder parts of these files are left out, as ComfyUI's
  LoraLoaderModelOnly does.
- anything else diffusers knows (XLabs, ...): converted by diffusers'
  `FluxPipeline.lora_state_dict`, and the result checked the same way.

Unchecked, diffusers/peft load a LoRA whose keys match nothing in the model
without an error (only a log line), and one that matches part of it
partially. Here both are a DrawAVideoError naming the file.

Adapters stay unfused, so a strength change costs nothing, and each sampler
call activates exactly its own stack (`activate_loras`): adapters not in it are
deleted, and an empty stack unloads every LoRA layer, so the cached base
pipeline is bit-for-bit the base again.

>>> apply_lora_stack(pipe, [("loras/grid_video.safetensors", 1.0), ("loras/style.safetensors", 0.6)])
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from dataclasses import dataclass, field

import torch

from ..errors import DrawAVideoError
from ..files import require_safetensors
from .imports import flux_pipeline_class
from .keys import module_table, strip_bfl_key

log = logging.getLogger("draw_a_video.flux")

ADAPTER_PREFIX = "dav_"
TEXT_ENCODER_PREFIXES = ("lora_te_", "lora_te1_", "lora_te2_", "text_encoder.", "text_encoder_2.", "text_encoders.")
BFL_KEY_PREFIXES = ("lora_unet_", "diffusion_model.", "model.diffusion_model.")
DOWN = (".lora_down.weight", ".lora_A.weight")
UP = (".lora_up.weight", ".lora_B.weight")
ALPHA = ".alpha"
BIAS_DIFFS = (".diff", ".diff_b")  # ComfyUI's trainer also learns bias / norm offsets
LYCORIS = ("dora_scale", "lora_mid", "hada_", "lokr_")

FORMAT_DIFFUSERS, FORMAT_BFL, FORMAT_OTHER = "diffusers", "kohya/ComfyUI (BFL names)", "other (diffusers converts)"


@dataclass(frozen=True)
class LoraFile:
    """A checked LoRA file, ready to load: `state` is the converted state dict, or None to let diffusers read `path`."""

    path: str
    adapter_name: str
    state: dict | None = field(default=None, compare=False, repr=False)
    ignored: tuple[str, ...] = ()  # what of the file is not applied, in words

    @property
    def label(self) -> str:
        return os.path.basename(self.path)


def adapter_name_for(path: str) -> str:
    """One adapter name per file version: a re-saved file (new mtime/size) is loaded afresh."""
    stat = os.stat(path)
    key = f"{os.path.realpath(path)}|{stat.st_mtime_ns}|{stat.st_size}"
    return ADAPTER_PREFIX + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def _linear_modules(transformer) -> dict[str, tuple[int, int]]:
    """(in_features, out_features) of every linear layer, by module path (peft wrappers see through)."""
    found = {}
    for name, module in transformer.named_modules():
        if "base_layer" in name or ".lora_" in name:  # peft's wrapped original and its LoRA matrices
            continue
        if hasattr(module, "in_features") and hasattr(module, "out_features"):
            found[name] = (int(module.in_features), int(module.out_features))
    return found


_SUFFIX_KINDS = [(s, "down") for s in DOWN] + [(s, "up") for s in UP] + [(ALPHA, "alpha")]


def _split_key(key: str):
    """(module, 'down' | 'up' | 'alpha' | None) of a LoRA key."""
    for suffix, kind in _SUFFIX_KINDS:
        if key.endswith(suffix):
            return key[: -len(suffix)], kind
    return key, None


def _detect_format(keys) -> str:
    model_keys = [k for k in keys if not k.startswith(TEXT_ENCODER_PREFIXES)]
    if any(".processor." in k or k.startswith("lora_transformer_") for k in model_keys):
        return FORMAT_OTHER  # XLabs (double_blocks.N.processor.*) and other layouts diffusers converts
    if any(k.startswith("transformer.") for k in model_keys):
        return FORMAT_DIFFUSERS
    if any(k.startswith(BFL_KEY_PREFIXES) or k.split(".", 1)[0] in ("double_blocks", "single_blocks") for k in model_keys):
        return FORMAT_BFL
    return FORMAT_OTHER


def _mismatch_error(label: str, unmatched: list[str], total: int, why: str) -> DrawAVideoError:
    shown = ", ".join(unmatched[:3]) + (" ..." if len(unmatched) > 3 else "")
    if len(unmatched) >= total:
        head = f"lora_name {label!r} matches no layer of this FLUX.1 transformer"
    else:
        head = f"lora_name {label!r} fits only part of this FLUX.1 transformer: {len(unmatched)} of its {total} layers don't"
    return DrawAVideoError(
        f"{head} ({why}: {shown}). It was made for a different model (SD1.5, SDXL, SD3, FLUX.2, ...) or a "
        "different FLUX size; pick a FLUX.1 LoRA."
    )


def _check_layers(label: str, layers: dict[str, tuple], linear: dict[str, tuple[int, int]]) -> None:
    """layers: module -> (down shape, up shape). Every one must be a linear layer of matching size."""
    if not layers:
        raise DrawAVideoError(
            f"lora_name {label!r} matches no layer of this FLUX.1 transformer (it holds no transformer "
            "lora_A/lora_B or lora_down/lora_up weights); it was made for a different model: pick a FLUX.1 LoRA."
        )
    unknown = sorted(m for m in layers if m not in linear)
    if unknown:
        raise _mismatch_error(label, unknown, len(layers), "no such module")
    wrong = []
    for module, (down, up) in layers.items():
        in_f, out_f = linear[module]
        if down is None or up is None:
            wrong.append(f"{module} (lora_{'down' if down is None else 'up'} weight missing)")
        elif len(down) != 2 or len(up) != 2 or down[1] != in_f or up[0] != out_f or down[0] != up[1]:
            wrong.append(f"{module} (LoRA {tuple(up)}x{tuple(down)} vs layer {out_f}x{in_f})")
    if wrong:
        raise _mismatch_error(label, wrong, len(layers), "wrong shapes")


def _read_header(path: str):
    from safetensors import safe_open

    require_safetensors(path, "lora_name")
    with safe_open(path, framework="pt") as f:
        return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}


def _prepare_diffusers(path: str, shapes: dict, linear: dict) -> LoraFile:
    layers: dict[str, list] = {}
    for key, shape in shapes.items():
        if not key.startswith("transformer."):
            continue
        module, kind = _split_key(key[len("transformer."):])
        if kind in ("down", "up"):
            layers.setdefault(module, [None, None])[0 if kind == "down" else 1] = shape
    _check_layers(os.path.basename(path), {m: tuple(v) for m, v in layers.items()}, linear)
    return LoraFile(path, adapter_name_for(path))


def _file_source(path: str) -> tuple[str, dict]:
    """(folder, {"weight_name": file}): how diffusers' LoRA loaders read one local file in every release.

    Given the file's own path, diffusers up to 0.39 (the newest beside transformers 4.x) refuses it
    when HF_HUB_OFFLINE is set ("you must specify a `weight_name`"); a folder plus its file name is
    read the same way by all, keeping the file's adapter metadata (a state dict would drop it).
    """
    return os.path.dirname(os.path.abspath(path)), {"weight_name": os.path.basename(path)}


def _prepare_other(path: str, linear: dict) -> LoraFile:
    """Formats only diffusers knows (XLabs, ...): let it convert, then check what it made."""
    FluxPipeline = flux_pipeline_class()
    try:
        folder, name = _file_source(path)
        state = FluxPipeline.lora_state_dict(folder, **name)
    except Exception as exc:  # diffusers raises bare ValueError/KeyError/AssertionError for foreign files
        raise DrawAVideoError(
            f"lora_name {os.path.basename(path)!r} is in no LoRA format known for FLUX.1 ({type(exc).__name__}: {exc}); "
            "pick a FLUX.1 LoRA (diffusers, kohya or ComfyUI keys)."
        ) from exc
    state = state[0] if isinstance(state, tuple) else state
    return _prepare_diffusers(path, {k: tuple(v.shape) for k, v in state.items()}, linear)


def _prepare_bfl(path: str, transformer, linear: dict) -> LoraFile:
    """Convert kohya / ComfyUI keys to peft keys with the transformer's own key table."""
    from safetensors.torch import load_file

    label = os.path.basename(path)
    table = module_table(transformer.config)
    kohya = {"lora_unet_" + name.replace(".", "_"): name for name in table}
    raw = load_file(path)
    parts: dict[str, dict[str, torch.Tensor]] = {}
    unmatched, ignored, diffs = [], [], []
    text_encoder = 0
    for key, tensor in raw.items():
        if key.startswith(TEXT_ENCODER_PREFIXES):
            text_encoder += 1
            continue
        if any(tag in key for tag in LYCORIS):
            raise DrawAVideoError(
                f"lora_name {label!r} is a LyCORIS / DoRA file ({key}); this loader applies plain LoRA only. "
                "Load it with ComfyUI's LoraLoaderModelOnly and sample with KSampler."
            )
        if key.endswith(BIAS_DIFFS):
            if torch.count_nonzero(tensor):
                diffs.append(key)
            continue
        module, kind = _split_key(key)
        if kind is None:
            unmatched.append(key)
            continue
        name = kohya.get(module) if module.startswith("lora_unet_") else strip_bfl_key(module)
        if name not in table:
            unmatched.append(module)
            continue
        parts.setdefault(name, {})[kind] = tensor
    if unmatched:
        raise _mismatch_error(label, sorted(set(unmatched)), len(set(unmatched)) + len(parts), "no such layer")
    if text_encoder:
        ignored.append(f"{text_encoder} text-encoder tensors (transformer-only, like LoraLoaderModelOnly)")
    if diffs:
        ignored.append(f"{len(diffs)} bias/norm offsets ({diffs[0]} ...), which peft LoRA cannot apply")

    state, layers = {}, {}
    for name, got in parts.items():
        down, up = got.get("down"), got.get("up")
        if down is None or up is None:
            layers[table[name].targets[0].module] = (None if down is None else down.shape, None if up is None else up.shape)
            continue
        rank = down.shape[0]
        alpha = float(got["alpha"]) if "alpha" in got else float(rank)
        down = down * (alpha / rank)  # kohya scales by alpha/rank at run time; peft here runs at scale 1
        for target, up_part in zip(table[name].targets, table[name].split(up)):
            layers[target.module] = (tuple(down.shape), tuple(up_part.shape))
            state[f"transformer.{target.module}.lora_A.weight"] = down.clone()
            state[f"transformer.{target.module}.lora_B.weight"] = up_part.contiguous()
    _check_layers(label, layers, linear)
    return LoraFile(path, adapter_name_for(path), state, tuple(ignored))


def prepare_lora(transformer, path: str) -> LoraFile:
    """Read and check one LoRA file against `transformer`; raises DrawAVideoError naming the file if it doesn't fit."""
    shapes = _read_header(path)
    linear = _linear_modules(transformer)
    fmt = _detect_format(shapes)
    if fmt == FORMAT_DIFFUSERS:
        lora = _prepare_diffusers(path, shapes, linear)
    elif fmt == FORMAT_BFL:
        lora = _prepare_bfl(path, transformer, linear)
    else:
        lora = _prepare_other(path, linear)
    for note in lora.ignored:
        log.warning("LoRA %s: not applied: %s", lora.label, note)
    return lora


def _our_adapters(pipe) -> set[str]:
    return {name for names in pipe.get_list_adapters().values() for name in names if name.startswith(ADAPTER_PREFIX)}


def _load(pipe, lora: LoraFile) -> None:
    source, options = (dict(lora.state), {}) if lora.state is not None else _file_source(lora.path)
    try:
        with warnings.catch_warnings():  # peft's note that a second adapter joins the first: that's the point
            warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
            pipe.load_lora_weights(source, adapter_name=lora.adapter_name, **options)
    except (ValueError, RuntimeError, KeyError) as exc:
        raise DrawAVideoError(f"lora_name {lora.label!r} could not be applied to this FLUX.1 pipeline: {exc}") from exc
    if lora.adapter_name not in pipe.get_list_adapters().get("transformer", []):
        if lora.adapter_name in _our_adapters(pipe):
            pipe.delete_adapters([lora.adapter_name])
        raise DrawAVideoError(
            f"lora_name {lora.label!r} loaded nothing into the FLUX transformer (its keys match none of its "
            "layers); pick a FLUX.1 LoRA."
        )


def activate_loras(pipe, stack) -> dict[str, float]:
    """Make `stack` ([(LoraFile, strength), ...]) the pipeline's only active LoRAs.

    Strength-0 entries are left out, one file listed twice adds its strengths, and an empty
    stack unloads every LoRA layer. Returns {adapter name: strength} as applied.
    """
    wanted: dict[str, float] = {}
    files: dict[str, LoraFile] = {}
    for lora, strength in stack:
        files[lora.adapter_name] = lora
        wanted[lora.adapter_name] = wanted.get(lora.adapter_name, 0.0) + float(strength)
    wanted = {name: s for name, s in wanted.items() if s != 0.0}
    loaded = _our_adapters(pipe)
    if not wanted:
        if pipe.get_list_adapters():
            pipe.unload_lora_weights()  # removes the peft layers: the base model, exactly
        return {}
    stale = sorted(loaded - set(wanted))
    if stale:
        pipe.delete_adapters(stale)
    for name in wanted:
        if name not in loaded:
            _load(pipe, files[name])
    pipe.set_adapters(list(wanted), list(wanted.values()))
    return wanted


def apply_lora_stack(pipe, loras) -> dict[str, float]:
    """Apply [(path, strength), ...] to `pipe`, replacing any LoRAs applied before."""
    return activate_loras(pipe, [(prepare_lora(pipe.transformer, path), strength) for path, strength in loras])
