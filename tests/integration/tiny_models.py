"""Tiny FLUX.1 model files that a real ComfyUI server accepts, built in code.

Nothing is downloaded: every tensor is drawn from a seeded torch generator (or
is a constant), so the same tensors come out on every machine (checked: torch
2.9.1 and 2.13.0 give identical values). The files land in
ComfyUI-style sub-folders of one cache folder:

    diffusion_models/tiny_flux_dit.safetensors   (UNETLoader)
    diffusion_models/tiny_flux_fill_dit.safetensors  (UNETLoader: a FLUX.1 Fill)
    text_encoders/tiny_clip_l.safetensors         (DualCLIPLoader, type "flux")
    text_encoders/tiny_t5xxl.safetensors
    vae/tiny_flux_vae.safetensors                 (VAELoader)
    vae/tiny_taef1_vae.safetensors                (VAELoader, optional faster VAE)
    loras/tiny_flux_lora.safetensors              (LoraLoaderModelOnly)

Why each size is what it is -- ComfyUI 0.8.0 decides most shapes itself:

* DiT (BFL/ComfyUI key layout). comfy/model_detection.py hard-codes FLUX's
  24 heads and the rope axes [16, 56, 56] (head size 128), so the hidden size
  must be 24 * 128 = 3072. Depth is counted from the keys, so one double block
  and no single blocks is the smallest FLUX it builds: ~404M parameters,
  stored as float8_e4m3fn (~385 MiB; biases and norm scales in bf16). The
  context width is T5-XXL's 4096, the pooled vector CLIP-L's 768, and
  `guidance_in` is present so it is detected as FLUX.1-dev (FluxGuidance
  matters). ComfyUI upcasts the fp8 weights to its CPU compute dtype on load.
* Fill DiT (role "dit_fill"). ComfyUI tells FLUX.1 Fill from FLUX.1-dev by
  the width of `img_in` alone: model_detection reads in_channels =
  img_in.weight.shape[1] / (2 * 2), and supported_models.FluxInpaint matches
  in_channels 96 (16 noisy latent + 16 masked-picture latent + 64 mask values
  per 2x2 patch, what InpaintModelConditioning supplies). So it is the DiT
  above with `img_in` taking 384 features instead of 64.
* CLIP-L. Its shape comes from ComfyUI's own config file (12 layers, 768
  wide); DualCLIPLoader routes the file by the key
  `text_model.encoder.layers.1.mlp.fc1.weight`. The whole model is stored
  (123M parameters, fp16, ~236 MiB) so that no weight is left uninitialised.
* T5-XXL. Its shape also comes from ComfyUI's config file (24 blocks, 4096
  wide, 4.7B parameters): far too big to store. The file holds only the small
  tensors -- every RMSNorm scale and the relative attention bias (~0.4 MiB).
  ComfyUI warns "clip missing: [...]" and leaves the 169 large weights (96 of
  32 MiB, 72 of 80 MiB, the 251 MiB embedding) as never-written `torch.empty`
  allocations. Those are NOT reliably zero: once glibc has freed an mmapped
  block its mmap threshold rises to 32 MiB, and a 32 MiB request is then served
  from any freed heap hole big enough -- memory that held earlier latents,
  activations or weights. A few garbage weights make the whole T5 output NaN,
  so the conditioning, the loss and the trained LoRA are NaN (this was the NaN
  LoRA of issue 12; `nan_repro.py` makes it happen on purpose). The test server
  therefore loads the extension in `comfy_fixture/` (tests only): after
  ComfyUI's own text-encoder load it points every weight the file left out at
  fresh anonymous zero pages (`zero_unwritten`), so the T5 output is exactly
  zero, as designed, and costs no RAM until written. Encoding one prompt still
  multiplies through 4.7B (zero) weights: the slowest step of a tiny run, from
  ~30 s to a few minutes on 2 CPU cores depending on load. ComfyUI caches the
  result, so tests should reuse prompt texts.
* VAE. comfy/sd.py recognises the FLUX "ae" layout by `decoder.conv_in.weight`
  and reads only the latent channels (16) from it; the widths (128, ch_mult
  1,2,4,4, two res blocks per level) are hard-coded there, so a narrower VAE is
  not accepted in this layout. It is therefore the real FLUX ae shape (84M
  parameters, 8x downsample, no quant convs) with random weights, in bf16
  (~160 MiB). Every conv is preceded by a GroupNorm, so activations stay
  bounded.
* Fast VAE (optional role "vae_fast"). The full-width ae above is slow on a
  CPU: decoding a 1280x768 grid takes minutes. ComfyUI also accepts the
  "tiny autoencoder" layout (comfy/taesd, keys `taesd_encoder.*`,
  `taesd_decoder.*`) and reads its latent channels from
  `taesd_decoder.1.weight`: with 16 channels it is FLUX's taef1 (8x down,
  64 wide, 2.5M parameters, fp16, ~5 MiB), about 6x faster to decode. It
  speaks the same 16-channel latent, so tests that only need pixels of the
  right size can use it.
* LoRA. diffusers/PEFT key format for the tiny DiT, which ComfyUI maps
  through comfy.utils.flux_to_diffusers: `transformer.<module>.lora_A.weight`,
  `.lora_B.weight` and an `.alpha` scalar, for the attention and MLP layers
  of transformer_blocks.0 plus x_embedder, context_embedder and proj_out.
  Rank 4, alpha 4 (scale 1), B small but non-zero so that it really changes
  the output.

Weights use std = gain / sqrt(fan_in) with gains below 1 where the output feeds
a modulation or a residual; biases start at 0 and norm scales at 1. A 2-step
sampling run and both VAE decodes then stay finite and not flat (ComfyUI
computes in fp32 on a CPU; that is what the integration tests check).

The module needs only torch and safetensors (it runs in the test
interpreter and in ComfyUI's venv alike). Run it directly to fill a folder:

    python tests/integration/tiny_models.py ~/.cache/draw-a-video-tests
"""

from __future__ import annotations

import math
import mmap
import os
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

# Bump when a recipe below changes: cached files with another version are rebuilt.
TINY_MODELS_VERSION = "1"

# role -> (ComfyUI model folder, file name)
MODEL_FILES = {
    "dit": ("diffusion_models", "tiny_flux_dit.safetensors"),
    "clip_l": ("text_encoders", "tiny_clip_l.safetensors"),
    "t5xxl": ("text_encoders", "tiny_t5xxl.safetensors"),
    "vae": ("vae", "tiny_flux_vae.safetensors"),
    "lora": ("loras", "tiny_flux_lora.safetensors"),
    "vae_fast": ("vae", "tiny_taef1_vae.safetensors"),
    "dit_fill": ("diffusion_models", "tiny_flux_fill_dit.safetensors"),
}

# FLUX.1 dimensions that ComfyUI fixes (see module docstring).
HIDDEN = 3072          # 24 heads x 128
MLP_HIDDEN = 4 * HIDDEN
LATENT_CHANNELS = 16
PATCH = 2              # 2x2 latent patches -> 16 * 4 = 64 input features
FILL_CHANNELS = 96     # FLUX.1 Fill: latent 16 + masked picture 16 + mask 64 (8x8 pixels per latent pixel)
T5_DIM = 4096
T5_BLOCKS = 24
T5_HEADS = 64
T5_BUCKETS = 32
CLIP_DIM = 768
CLIP_LAYERS = 12
CLIP_MLP = 3072
CLIP_VOCAB = 49408
CLIP_POSITIONS = 77
TIME_DIM = 256         # sinusoidal timestep / guidance embedding width
LORA_RANK = 4


class _Builder:
    """Collects tensors for one file, drawing random ones from a seeded generator."""

    def __init__(self, seed: int, weight_dtype: torch.dtype, small_dtype: torch.dtype):
        self.gen = torch.Generator().manual_seed(seed)
        self.weight_dtype = weight_dtype   # matrices and conv kernels
        self.small_dtype = small_dtype     # biases, norm scales
        self.tensors: dict[str, torch.Tensor] = {}

    def random(self, name, shape, std, dtype=None):
        t = torch.randn(shape, generator=self.gen, dtype=torch.float32).mul_(std)
        self.tensors[name] = t.to(dtype or self.weight_dtype)

    def const(self, name, shape, value, dtype=None):
        self.tensors[name] = torch.full(shape, float(value), dtype=dtype or self.small_dtype)

    def linear(self, name, out_f, in_f, gain=1.0, bias=True):
        self.random(f"{name}.weight", (out_f, in_f), gain / math.sqrt(in_f))
        if bias:
            self.const(f"{name}.bias", (out_f,), 0.0)

    def conv(self, name, out_c, in_c, k, gain=1.0):
        self.random(f"{name}.weight", (out_c, in_c, k, k), gain / math.sqrt(in_c * k * k))
        self.const(f"{name}.bias", (out_c,), 0.0)

    def norm(self, name, dim, bias=True, key="weight"):
        self.const(f"{name}.{key}", (dim,), 1.0)
        if bias:
            self.const(f"{name}.bias", (dim,), 0.0)


# --------------------------------------------------------------------------- DiT
def build_dit(in_channels: int = LATENT_CHANNELS, seed: int = 1001) -> dict[str, torch.Tensor]:
    """FLUX.1-dev transformer, ComfyUI layout: 1 double block, 0 single blocks."""
    b = _Builder(seed=seed, weight_dtype=torch.float8_e4m3fn, small_dtype=torch.bfloat16)
    b.linear("img_in", HIDDEN, in_channels * PATCH * PATCH)
    for embedder, in_dim in (("time_in", TIME_DIM), ("vector_in", CLIP_DIM), ("guidance_in", TIME_DIM)):
        b.linear(f"{embedder}.in_layer", HIDDEN, in_dim)
        b.linear(f"{embedder}.out_layer", HIDDEN, HIDDEN, gain=0.5)
    b.linear("txt_in", HIDDEN, T5_DIM)
    block = "double_blocks.0"
    for stream in ("img", "txt"):
        b.linear(f"{block}.{stream}_mod.lin", 6 * HIDDEN, HIDDEN, gain=0.5)
        b.linear(f"{block}.{stream}_attn.qkv", 3 * HIDDEN, HIDDEN)
        b.norm(f"{block}.{stream}_attn.norm.query_norm", HIDDEN // 24, bias=False, key="scale")
        b.norm(f"{block}.{stream}_attn.norm.key_norm", HIDDEN // 24, bias=False, key="scale")
        b.linear(f"{block}.{stream}_attn.proj", HIDDEN, HIDDEN, gain=0.5)
        b.linear(f"{block}.{stream}_mlp.0", MLP_HIDDEN, HIDDEN)
        b.linear(f"{block}.{stream}_mlp.2", HIDDEN, MLP_HIDDEN, gain=0.5)
    b.linear("final_layer.linear", LATENT_CHANNELS * PATCH * PATCH, HIDDEN)
    b.linear("final_layer.adaLN_modulation.1", 2 * HIDDEN, HIDDEN, gain=0.5)
    return b.tensors


# ------------------------------------------------------------------ text encoders
def build_clip_l() -> dict[str, torch.Tensor]:
    """Full-size CLIP-L text model (HF layout, as ComfyUI's clip_l.safetensors)."""
    b = _Builder(seed=1002, weight_dtype=torch.float16, small_dtype=torch.float16)
    b.random("text_model.embeddings.token_embedding.weight", (CLIP_VOCAB, CLIP_DIM), 0.02)
    b.random("text_model.embeddings.position_embedding.weight", (CLIP_POSITIONS, CLIP_DIM), 0.01)
    for i in range(CLIP_LAYERS):
        layer = f"text_model.encoder.layers.{i}"
        b.norm(f"{layer}.layer_norm1", CLIP_DIM)
        for proj in ("q_proj", "k_proj", "v_proj"):
            b.linear(f"{layer}.self_attn.{proj}", CLIP_DIM, CLIP_DIM)
        b.linear(f"{layer}.self_attn.out_proj", CLIP_DIM, CLIP_DIM, gain=0.5)
        b.norm(f"{layer}.layer_norm2", CLIP_DIM)
        b.linear(f"{layer}.mlp.fc1", CLIP_MLP, CLIP_DIM)
        b.linear(f"{layer}.mlp.fc2", CLIP_DIM, CLIP_MLP, gain=0.5)
    b.norm("text_model.final_layer_norm", CLIP_DIM)
    b.linear("text_projection", CLIP_DIM, CLIP_DIM, bias=False)
    return b.tensors


def build_t5xxl() -> dict[str, torch.Tensor]:
    """Only T5-XXL's small tensors: RMSNorm scales and the relative attention bias."""
    b = _Builder(seed=1003, weight_dtype=torch.float16, small_dtype=torch.float16)
    b.random("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", (T5_BUCKETS, T5_HEADS), 0.1)
    for i in range(T5_BLOCKS):
        for sub in (0, 1):
            b.norm(f"encoder.block.{i}.layer.{sub}.layer_norm", T5_DIM, bias=False)
    b.norm("encoder.final_layer_norm", T5_DIM, bias=False)
    return b.tensors


# --------------------------------------------------------------------------- VAE
VAE_CH = 128
VAE_CH_MULT = (1, 2, 4, 4)
VAE_RES_BLOCKS = 2


def _vae_resnet(b: _Builder, name, in_c, out_c):
    b.norm(f"{name}.norm1", in_c)
    b.conv(f"{name}.conv1", out_c, in_c, 3)
    b.norm(f"{name}.norm2", out_c)
    b.conv(f"{name}.conv2", out_c, out_c, 3, gain=0.5)
    if in_c != out_c:
        b.conv(f"{name}.nin_shortcut", out_c, in_c, 1)


def _vae_mid(b: _Builder, name, c):
    _vae_resnet(b, f"{name}.block_1", c, c)
    b.norm(f"{name}.attn_1.norm", c)
    for proj in ("q", "k", "v"):
        b.conv(f"{name}.attn_1.{proj}", c, c, 1)
    b.conv(f"{name}.attn_1.proj_out", c, c, 1, gain=0.5)
    _vae_resnet(b, f"{name}.block_2", c, c)


def build_vae() -> dict[str, torch.Tensor]:
    """FLUX ae layout (comfy.ldm.modules.diffusionmodules.model Encoder/Decoder), z=16."""
    b = _Builder(seed=1004, weight_dtype=torch.bfloat16, small_dtype=torch.bfloat16)
    widths = [VAE_CH * m for m in VAE_CH_MULT]
    top = widths[-1]

    b.conv("encoder.conv_in", VAE_CH, 3, 3)
    c = VAE_CH
    for level, width in enumerate(widths):
        for i in range(VAE_RES_BLOCKS):
            _vae_resnet(b, f"encoder.down.{level}.block.{i}", c, width)
            c = width
        if level != len(widths) - 1:
            b.conv(f"encoder.down.{level}.downsample.conv", c, c, 3)
    _vae_mid(b, "encoder.mid", top)
    b.norm("encoder.norm_out", top)
    b.conv("encoder.conv_out", 2 * LATENT_CHANNELS, top, 3)  # mean and log-variance

    b.conv("decoder.conv_in", top, LATENT_CHANNELS, 3)
    _vae_mid(b, "decoder.mid", top)
    c = top
    for level in reversed(range(len(widths))):
        for i in range(VAE_RES_BLOCKS + 1):
            _vae_resnet(b, f"decoder.up.{level}.block.{i}", c, widths[level])
            c = widths[level]
        if level != 0:
            b.conv(f"decoder.up.{level}.upsample.conv", c, c, 3)
    b.norm("decoder.norm_out", VAE_CH)
    b.conv("decoder.conv_out", 3, VAE_CH, 3)
    return b.tensors


# ------------------------------------------------------------------ fast VAE
TAESD_CH = 64


def _taesd_block(b: _Builder, name):
    """comfy.taesd.taesd.Block(64, 64): conv, ReLU, conv, ReLU, conv (+ identity skip)."""
    b.conv(f"{name}.conv.0", TAESD_CH, TAESD_CH, 3, gain=math.sqrt(2))
    b.conv(f"{name}.conv.2", TAESD_CH, TAESD_CH, 3, gain=math.sqrt(2))
    b.conv(f"{name}.conv.4", TAESD_CH, TAESD_CH, 3, gain=0.5)


def _taesd_plain_conv(b: _Builder, name):
    """The bias-free 3x3 convs after each down/upsampling step."""
    b.random(f"{name}.weight", (TAESD_CH, TAESD_CH, 3, 3), 1.0 / math.sqrt(TAESD_CH * 9))


def build_taef1_vae() -> dict[str, torch.Tensor]:
    """TAESD layout with 16 latent channels (taef1), nn.Sequential indices as in comfy/taesd/taesd.py."""
    b = _Builder(seed=1006, weight_dtype=torch.float16, small_dtype=torch.float16)
    enc = "taesd_encoder"
    b.conv(f"{enc}.0", TAESD_CH, 3, 3)
    _taesd_block(b, f"{enc}.1")
    for stage in range(3):                       # stride-2 conv, then 3 blocks; 3 times = 8x down
        first = 2 + 4 * stage
        _taesd_plain_conv(b, f"{enc}.{first}")
        for i in range(1, 4):
            _taesd_block(b, f"{enc}.{first + i}")
    b.conv(f"{enc}.14", LATENT_CHANNELS, TAESD_CH, 3)

    dec = "taesd_decoder"                        # 0 is a tanh clamp, 2 a ReLU
    b.conv(f"{dec}.1", TAESD_CH, LATENT_CHANNELS, 3)
    for stage in range(3):                       # 3 blocks, upsample, conv; 3 times = 8x up
        first = 3 + 5 * stage
        for i in range(3):
            _taesd_block(b, f"{dec}.{first + i}")
        _taesd_plain_conv(b, f"{dec}.{first + 4}")
    _taesd_block(b, f"{dec}.18")
    b.conv(f"{dec}.19", 3, TAESD_CH, 3)
    b.const("vae_scale", (), 1.0, dtype=torch.float32)
    b.const("vae_shift", (), 0.0, dtype=torch.float32)
    return b.tensors


# -------------------------------------------------------------------------- LoRA
def _lora_targets() -> dict[str, tuple[int, int]]:
    """diffusers module name -> (out_features, in_features) of the tiny DiT."""
    block = "transformer_blocks.0"
    targets = {f"{block}.attn.{p}": (HIDDEN, HIDDEN)
               for p in ("to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out")}
    for ff in ("ff", "ff_context"):
        targets[f"{block}.{ff}.net.0.proj"] = (MLP_HIDDEN, HIDDEN)
        targets[f"{block}.{ff}.net.2"] = (HIDDEN, MLP_HIDDEN)
    targets["x_embedder"] = (HIDDEN, LATENT_CHANNELS * PATCH * PATCH)
    targets["context_embedder"] = (HIDDEN, T5_DIM)
    targets["proj_out"] = (LATENT_CHANNELS * PATCH * PATCH, HIDDEN)
    return targets


def build_lora() -> dict[str, torch.Tensor]:
    """Rank-4 LoRA for the tiny DiT, diffusers/PEFT keys with kohya-style alphas."""
    b = _Builder(seed=1005, weight_dtype=torch.bfloat16, small_dtype=torch.float32)
    for module, (out_f, in_f) in _lora_targets().items():
        key = f"transformer.{module}"
        b.random(f"{key}.lora_A.weight", (LORA_RANK, in_f), 1.0 / math.sqrt(in_f))
        b.random(f"{key}.lora_B.weight", (out_f, LORA_RANK), 0.02 / math.sqrt(LORA_RANK))
        b.const(f"{key}.alpha", (), float(LORA_RANK))
    return b.tensors


def build_fill_dit() -> dict[str, torch.Tensor]:
    """FLUX.1 Fill transformer: the tiny DiT with a 96-channel (384-feature) img_in."""
    return build_dit(in_channels=FILL_CHANNELS, seed=1008)


BUILDERS = {"dit": build_dit, "dit_fill": build_fill_dit, "clip_l": build_clip_l, "t5xxl": build_t5xxl, "vae": build_vae, "lora": build_lora,
            "vae_fast": build_taef1_vae}


# ------------------------------------------------- weights the files leave out
def zero_pages(shape, dtype: torch.dtype) -> torch.Tensor:
    """A CPU tensor of exact zeros on fresh anonymous pages (the kernel's zero page until written).

    Unlike `torch.zeros`, it costs no resident memory while only read; unlike `torch.empty`, it can
    never hand back a reused heap block holding old floats.
    """
    shape = tuple(shape)
    numel = math.prod(shape)
    if numel == 0:
        return torch.zeros(shape, dtype=dtype)
    # Anonymous and PRIVATE (Python's default is MAP_SHARED, whose pages are shmem: every page read is
    # allocated, and two loads of the T5 then held ~18 GB): a read maps the kernel's one zero page.
    pages = mmap.mmap(-1, numel * dtype.itemsize, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return torch.frombuffer(pages, dtype=dtype, count=numel).view(shape)  # the tensor keeps `pages` alive


def zero_unwritten(module: torch.nn.Module, names) -> int:
    """Point the parameters/buffers `names` of `module` (what load_state_dict left missing) at zero pages.

    Returns how many were replaced. Tensors not on the CPU are zeroed in place.
    """
    tensors = dict(module.named_parameters())
    tensors.update(module.named_buffers())
    count = 0
    for name in names:
        tensor = tensors.get(name)
        if tensor is None or not tensor.is_floating_point():
            continue
        if tensor.device.type == "cpu":
            tensor.data = zero_pages(tensor.shape, tensor.dtype)
        else:
            tensor.data.zero_()
        count += 1
    return count


def install_zeroed_text_encoder_weights(sd1_clip) -> bool:
    """Make ComfyUI's text-encoder loads zero what a file leaves out (call with comfy.sd1_clip).

    Wraps `SDClipModel.load_sd` (the load every CLIP-L/T5 file of DualCLIPLoader goes through): ComfyUI
    loads as usual, logs its "clip missing" line as usual, then the missing weights become exact zeros.
    For the test server only (comfy_fixture/); returns False if it was already installed.
    """
    model = sd1_clip.SDClipModel
    if getattr(model.load_sd, "zeroes_unwritten", False):
        return False
    original = model.load_sd

    def load_sd(self, sd):
        result = original(self, sd)
        missing = getattr(result, "missing_keys", None)
        if missing is None:  # a plain (missing, unexpected) pair
            missing = result[0]
        count = zero_unwritten(self.transformer, missing)
        if count:
            print(f"[draw-a-video tests] {count} text-encoder weights the file leaves out set to zero "
                  "(fresh pages, not reused memory)", flush=True)
        return result

    load_sd.zeroes_unwritten = True
    model.load_sd = load_sd
    return True


# ----------------------------------------------------------------------- writing
def _is_current(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        with safe_open(str(path), framework="pt") as f:
            return (f.metadata() or {}).get("tiny_models_version") == TINY_MODELS_VERSION
    except Exception:  # truncated or foreign file: rebuild it
        return False


def _write_atomically(tensors: dict[str, torch.Tensor], path: Path, role: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    metadata = {"format": "pt", "tiny_models_version": TINY_MODELS_VERSION,
                "description": f"Draw-a-Video test model ({role}), random weights"}
    try:
        save_file(tensors, str(tmp), metadata=metadata)
        os.chmod(tmp, 0o644)  # safetensors creates it owner-only; the cache may be shared
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def ensure_tiny_models(models_dir: Path) -> dict[str, str]:
    """Write any missing tiny model file under `models_dir`; return file names by role.

    Roles: "dit", "dit_fill", "clip_l", "t5xxl", "vae", "lora", "vae_fast". Each name is what the
    matching ComfyUI loader lists (the file name inside its model folder).
    Files already present with the current recipe version are left alone;
    new ones are written under a temp name and renamed into place, so
    concurrent runs never see half a file.
    """
    models_dir = Path(models_dir).expanduser()
    names = {}
    for role, (folder, filename) in MODEL_FILES.items():
        path = models_dir / folder / filename
        if not _is_current(path):
            _write_atomically(BUILDERS[role](), path, role)
        names[role] = filename
    return names


def model_paths(models_dir: Path) -> dict[str, Path]:
    """Full path of each tiny model file by role."""
    return {role: Path(models_dir) / folder / name for role, (folder, name) in MODEL_FILES.items()}


if __name__ == "__main__":
    import time

    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} MODELS_DIR")
    start = time.perf_counter()
    names = ensure_tiny_models(Path(sys.argv[1]))
    print(f"ready in {time.perf_counter() - start:.1f} s")
    for role, path in model_paths(Path(sys.argv[1])).items():
        print(f"{role:7s} {path}  {path.stat().st_size / 2**20:.1f} MiB")
