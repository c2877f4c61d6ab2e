"""The diffusers backend: tiny FLUX built in code, loader (folder / single file / scaled fp8), LoRA stack, sampler."""

import json
import logging
import os
import socket

import pytest
import torch
from draw_a_video.nodes import host
from draw_a_video.nodes.diffusers_nodes import (
    FROM_FOLDER,
    DiffusersFluxLoaderNode,
    DiffusersGridSamplerNode,
    DiffusersLoraNode,
    FluxPipelineHandle,
)
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.flux import keys as flux_keys
from draw_a_video.nodes.engine.flux.fp8 import SCALED_FP8, inspect_checkpoint, load_transformer_state_dict
from draw_a_video.nodes.engine.flux.loading import load_flux_pipeline, place_pipeline
from draw_a_video.nodes.engine.flux.lora import prepare_lora
from draw_a_video.nodes.engine.flux.sampling import decode_vae_latent
from draw_a_video.nodes.engine.flux.tiny import (
    FLUX_SCALING_FACTOR,
    FLUX_SHIFT_FACTOR,
    build_tiny_flux_pipeline,
    parameter_counts,
    save_tiny_flux,
)
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.grid_nodes import GridLayoutNode, SplitImageGridNode, SplitLatentGridNode
from safetensors.torch import save_file

FOLDER = "tiny-flux"
SMALL = GridLayout(rows=2, cols=2, cell_width=32, cell_height=32)  # 64x64: fast, for comparisons
PROMPT = "Generate a 4-frame video arranged in a 2x2 grid, where the blocks represent continuous scenes of a blue car."
# ComfyUI's comfy/latent_formats.py, class Flux: process_in(x) = (x - shift_factor) * scale_factor.
COMFY_FLUX_SCALE, COMFY_FLUX_SHIFT = 0.3611, 0.1159


# -- building test files ---------------------------------------------------------

def bfl_state_dict(transformer) -> dict:
    """The tiny transformer's weights under BFL's names, as a ComfyUI single file holds them (fused qkv/linear1)."""
    state = transformer.state_dict()
    out = {}
    for module in flux_keys.module_table(transformer.config).values():
        for param in ("weight", "bias"):
            parts = [state[f"{t.module}.{param}"] for t in module.targets]
            fused = torch.cat(parts, dim=0)
            if module.swap_halves:  # diffusers keeps (scale, shift); BFL writes (shift, scale)
                scale, shift = fused.chunk(2, dim=0)
                fused = torch.cat([shift, scale], dim=0)
            out[f"{module.name}.{param}"] = fused.clone()
    for old, new in flux_keys.norm_renames(transformer.config).items():
        out[old] = state[new].clone()
    assert len(out) == len(state) - sum(len(m.targets) - 1 for m in flux_keys.module_table(transformer.config).values()) * 2
    return out


def scaled_fp8(state: dict) -> tuple[dict, dict]:
    """ComfyUI's older scaled-fp8 layout of `state`, and the weights it really stands for (weight * scale)."""
    out, real = {"scaled_fp8": torch.empty(0, dtype=torch.float8_e4m3fn)}, {}
    for key, tensor in state.items():
        if key.endswith(".weight") and tensor.dim() == 2:
            scale = tensor.abs().max().float() / 448.0
            stored = (tensor / scale).to(torch.float8_e4m3fn)
            out[key], out[key[: -len("weight")] + "scale_weight"] = stored, scale.reshape(())
            out[key[: -len("weight")] + "scale_input"] = torch.tensor(1.0)
            real[key] = stored.float() * scale
        else:
            out[key] = real[key] = tensor.to(torch.bfloat16)
    return out, real


def lora_weights(transformer, rank=2, seed=1, gain=0.5) -> dict:
    """Random LoRA factors per BFL layer: {bfl module: (down [r,in], up [out,r], alpha)}; fused and swapped layers included."""
    gen = torch.Generator().manual_seed(seed)
    table = flux_keys.module_table(transformer.config)
    chosen = ["double_blocks.0.img_attn.qkv", "double_blocks.0.txt_attn.proj", "double_blocks.0.img_mlp.0",
              "single_blocks.0.linear1", "single_blocks.0.linear2", "final_layer.adaLN_modulation.1", "img_in"]
    out = {}
    for name in chosen:
        targets = [transformer.get_submodule(t.module) for t in table[name].targets]
        in_f, out_f = targets[0].in_features, sum(t.out_features for t in targets)
        out[name] = (torch.randn(rank, in_f, generator=gen) * gain, torch.randn(out_f, rank, generator=gen) * gain, float(rank * 2))
    return out


def kohya_file(weights: dict) -> dict:
    sd = {}
    for name, (down, up, alpha) in weights.items():
        key = "lora_unet_" + name.replace(".", "_")
        sd[f"{key}.lora_down.weight"], sd[f"{key}.lora_up.weight"], sd[f"{key}.alpha"] = down, up, torch.tensor(alpha)
    return sd


def comfyui_file(weights: dict) -> dict:
    """As ComfyUI's TrainLoraNode/SaveLoRA writes it: BFL names under diffusion_model., plus zero bias diffs."""
    sd = {}
    for name, (down, up, alpha) in weights.items():
        key = f"diffusion_model.{name}"
        sd[f"{key}.lora_down.weight"], sd[f"{key}.lora_up.weight"], sd[f"{key}.alpha"] = down, up, torch.tensor(alpha)
        sd[f"{key}.diff_b"] = torch.zeros(up.shape[0])
    return sd


def diffusers_file(weights: dict, transformer) -> dict:
    """The same LoRA in diffusers/peft keys, worked out from the module sizes (not from the engine's table)."""
    names = {  # BFL layer -> diffusers modules, in row order
        "double_blocks.0.img_attn.qkv": ["transformer_blocks.0.attn.to_q", "transformer_blocks.0.attn.to_k", "transformer_blocks.0.attn.to_v"],
        "double_blocks.0.txt_attn.proj": ["transformer_blocks.0.attn.to_add_out"],
        "double_blocks.0.img_mlp.0": ["transformer_blocks.0.ff.net.0.proj"],
        "single_blocks.0.linear1": ["single_transformer_blocks.0.attn.to_q", "single_transformer_blocks.0.attn.to_k",
                                    "single_transformer_blocks.0.attn.to_v", "single_transformer_blocks.0.proj_mlp"],
        "single_blocks.0.linear2": ["single_transformer_blocks.0.proj_out"],
        "final_layer.adaLN_modulation.1": ["norm_out.linear"],
        "img_in": ["x_embedder"],
    }
    sd = {}
    for name, (down, up, alpha) in weights.items():
        if name == "final_layer.adaLN_modulation.1":
            shift, scale = up.chunk(2, dim=0)
            up = torch.cat([scale, shift], dim=0)
        row = 0
        for module in names[name]:
            rows = transformer.get_submodule(module).out_features
            sd[f"transformer.{module}.lora_A.weight"] = down * (alpha / down.shape[0])
            sd[f"transformer.{module}.lora_B.weight"] = up[row: row + rows].clone()
            row += rows
        assert row == up.shape[0]
    return sd


# -- fixtures -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The tiny FLUX folder and the test files made from it, built once for this module."""
    root = tmp_path_factory.mktemp("flux_store")
    folder = root / FOLDER
    save_tiny_flux(str(folder))
    from diffusers import FluxTransformer2DModel

    transformer = FluxTransformer2DModel.from_pretrained(str(folder), subfolder="transformer", local_files_only=True)
    files = {}
    bfl = bfl_state_dict(transformer)
    files["bfl"] = root / "tiny_flux_bfl.safetensors"
    save_file({f"model.diffusion_model.{k}": v for k, v in bfl.items()}, files["bfl"])
    scaled, real = scaled_fp8(bfl)
    files["fp8"] = root / "tiny_flux_fp8_scaled.safetensors"
    save_file(scaled, files["fp8"])
    files["fp8_real"] = root / "tiny_flux_fp8_real.safetensors"
    save_file({k: v.float() for k, v in real.items()}, files["fp8_real"])
    weights = lora_weights(transformer)
    for kind, sd in (("kohya", kohya_file(weights)), ("comfyui", comfyui_file(weights)),
                     ("diffusers", diffusers_file(weights, transformer)),
                     ("second", diffusers_file(lora_weights(transformer, seed=2), transformer))):
        files[kind] = root / f"lora_{kind}.safetensors"
        save_file(sd, files[kind])
    return {"root": root, "folder": folder, "files": files, "transformer": transformer, "weights": weights}


@pytest.fixture
def models(store, pack_folders):
    """This test's models folder, holding the tiny FLUX folder (linked), its transformer files and LoRAs."""
    root = pack_folders["models"]
    for kind in ("diffusers", "diffusion_models", "loras"):
        (root / kind).mkdir()
    (root / "diffusers" / FOLDER).symlink_to(store["folder"], target_is_directory=True)
    for name in ("bfl", "fp8", "fp8_real"):
        (root / "diffusion_models" / store["files"][name].name).symlink_to(store["files"][name])
    for name in ("kohya", "comfyui", "diffusers", "second"):
        (root / "loras" / store["files"][name].name).symlink_to(store["files"][name])
    return root



# Two separately loaded pipelines hold the same weights in different memory (a view into a safetensors
# buffer at some byte offset, a fresh aligned copy ...). BLAS kernels (MKL, OpenBLAS) round by CPU kind and
# by alignment, so their outputs may differ in the last bits: seen 1.07e-6 on an AVX-512 EPYC. Outputs of
# two instances are compared to this tolerance (pixels are 0..1; an 8-bit grey level is 3.9e-3); outputs of
# one instance run twice, loaded weights and round trips stay exact.
CROSS_INSTANCE_ATOL = 1e-5


def assert_same_output(got, expected):
    torch.testing.assert_close(got, expected, rtol=0, atol=CROSS_INSTANCE_ATOL)


def load(transformer_file=FROM_FOLDER, dtype="fp32", memory_mode="all on device"):
    (handle,) = DiffusersFluxLoaderNode().load(FOLDER, transformer_file, dtype, memory_mode, False, False)
    return handle


def sample(handle, layout=SMALL, seed=0, steps=2, batch_size=1):
    return DiffusersGridSamplerNode().sample(handle, layout, PROMPT, steps, 3.5, seed, batch_size)


def with_loras(handle, *loras):
    for name, strength in loras:
        (handle,) = DiffusersLoraNode().add(handle, name, strength)
    return handle


# -- the tiny model -----------------------------------------------------------------

def test_tiny_flux_is_a_small_real_flux_pipeline(store, models):
    index = json.loads((store["folder"] / "model_index.json").read_text())
    assert index["_class_name"] == "FluxPipeline" and index["transformer"] == ["diffusers", "FluxTransformer2DModel"]
    vae = json.loads((store["folder"] / "vae" / "config.json").read_text())
    assert (vae["latent_channels"], vae["scaling_factor"], vae["shift_factor"]) == (16, FLUX_SCALING_FACTOR, FLUX_SHIFT_FACTOR)
    assert len(vae["block_out_channels"]) == 4  # three halvings: 8x
    scheduler = json.loads((store["folder"] / "scheduler" / "scheduler_config.json").read_text())
    assert scheduler["use_dynamic_shifting"] is True
    handle = load()
    counts = parameter_counts(handle.pipe)
    assert 10_000 < counts["transformer"] < 200_000
    ids = handle.pipe.tokenizer(PROMPT).input_ids
    assert ids[0] == handle.pipe.tokenizer.bos_token_id and ids[-1] == handle.pipe.tokenizer.eos_token_id
    assert handle.pipe.tokenizer_2(PROMPT).input_ids[-1] == handle.pipe.tokenizer_2.eos_token_id
    # Built by rule: a rebuild with the same seed has the same vocabularies and weights as the saved folder.
    again = build_tiny_flux_pipeline(seed=0)
    assert again.tokenizer.get_vocab() == handle.pipe.tokenizer.get_vocab()
    assert again.tokenizer_2.get_vocab() == handle.pipe.tokenizer_2.get_vocab()
    saved = handle.pipe.transformer.state_dict()
    assert all(torch.equal(v, saved[k]) for k, v in again.transformer.state_dict().items())


# -- loader ---------------------------------------------------------------------------

def test_loader_lists_folders_and_transformer_files(models):
    (models / "diffusers" / "not-a-pipeline").mkdir()
    spec = DiffusersFluxLoaderNode.INPUT_TYPES()["required"]
    assert spec["model_folder"][0] == [FOLDER]
    assert spec["transformer_file"][0] == [FROM_FOLDER, "tiny_flux_bfl.safetensors", "tiny_flux_fp8_real.safetensors", "tiny_flux_fp8_scaled.safetensors"]


def test_loader_caches_the_pipeline_per_inputs(models, monkeypatch):
    freed = []
    monkeypatch.setattr(host, "free_comfy_models", lambda: freed.append(1))
    first = load(dtype="fp32")
    assert load(dtype="fp32") is first  # re-queue: no reload
    other = load(dtype="bf16")
    assert other is not first and other.pipe.transformer.dtype == torch.bfloat16
    assert freed  # ComfyUI's models were unloaded before loading


def test_loader_refuses_folders_that_are_not_flux(models, tmp_path):
    with pytest.raises(DrawAVideoError, match="not in models/diffusers"):
        DiffusersFluxLoaderNode().load("missing", FROM_FOLDER, "fp32", "all on device", False, False)
    other = tmp_path / "sd"
    other.mkdir()
    (other / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"]}))
    with pytest.raises(DrawAVideoError, match="not FLUX.1's FluxTransformer2DModel"):
        load_flux_pipeline(str(other))
    with pytest.raises(DrawAVideoError, match="dtype"):
        load_flux_pipeline(str(models / "diffusers" / FOLDER), dtype="int8")


def test_offload_modes_degrade_to_ram_on_a_cpu_machine(models, caplog):
    base = sample(load())[0]
    with caplog.at_level(logging.WARNING, logger="draw_a_video.flux"):
        offloaded = load(memory_mode="model CPU offload")
    assert "'model CPU offload' needs a GPU" in caplog.text
    assert_same_output(sample(offloaded)[0], base)  # another instance of the same weights
    assert "needs a GPU" in place_pipeline(offloaded.pipe, "sequential CPU offload", "cpu")
    assert_same_output(sample(offloaded)[0], base)
    with pytest.raises(DrawAVideoError, match="memory_mode"):
        place_pipeline(offloaded.pipe, "on the moon", "cpu")


def test_single_file_transformer_loads_offline_and_matches_the_folder(models, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the loader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    folder = load()
    folder_out = sample(folder)[0]
    folder_weights = {k: v.clone() for k, v in folder.pipe.transformer.state_dict().items()}
    single = load("tiny_flux_bfl.safetensors")
    assert all(torch.equal(v, folder_weights[k]) for k, v in single.pipe.transformer.state_dict().items())
    assert single.name == f"{FOLDER} + tiny_flux_bfl.safetensors"
    # BFL names (fused qkv / linear1, swapped final modulation) map back exactly: the same weights (checked
    # bit for bit just above), so the same grid up to the BLAS rounding of another instance.
    assert_same_output(sample(single)[0], folder_out)


def test_key_table_agrees_with_diffusers_own_converter_at_flux_size():
    from diffusers.loaders.single_file_utils import convert_flux_transformer_checkpoint_to_diffusers

    config = {"num_layers": 1, "num_single_layers": 1, "num_attention_heads": 24, "attention_head_dim": 128, "guidance_embeds": True}
    gen = torch.Generator().manual_seed(0)
    checkpoint = {}
    for module in flux_keys.module_table(config).values():  # FLUX.1's real row counts; one column keeps it small
        rows = sum(t.rows or 6 for t in module.targets)
        checkpoint[f"{module.name}.weight"] = torch.randn(rows, 1, generator=gen)
        checkpoint[f"{module.name}.bias"] = torch.randn(rows, generator=gen)
    for old in flux_keys.norm_renames(config):
        checkpoint[old] = torch.randn(128, generator=gen)
    ours, leftover = flux_keys.bfl_to_diffusers(dict(checkpoint), config)
    theirs = convert_flux_transformer_checkpoint_to_diffusers(dict(checkpoint))
    assert leftover == [] and ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_scaled_fp8_file_is_dequantized(models, store):
    path = str(store["files"]["fp8"])
    info = inspect_checkpoint(path)
    assert info.kind == SCALED_FP8 and "F8_E4M3" in info.dtypes
    state = load_transformer_state_dict(path, torch.float32)
    assert not any(k.endswith((".scale_weight", ".scale_input")) or k == "scaled_fp8" for k in state)
    from safetensors.torch import load_file

    raw, real = load_file(path), load_file(str(store["files"]["fp8_real"]))
    key = "double_blocks.0.img_attn.qkv.weight"
    assert torch.equal(state[key], real[key])
    assert (raw[key].float() - real[key]).abs().max() > 10  # what a loader that ignores the scales would use

    fp8_out = sample(load("tiny_flux_fp8_scaled.safetensors"))[0]
    assert_same_output(fp8_out, sample(load("tiny_flux_fp8_real.safetensors"))[0])  # weights equal exactly (above)
    base = sample(load())[0]
    assert (fp8_out - base).abs().mean() < 0.02  # fp8 rounding only


def test_newer_comfy_quant_files_fp8_dequantized_nvfp4_refused(models, tmp_path):
    def quant_file(fmt, scale):
        conf = torch.tensor(list(json.dumps({"format": fmt}).encode()), dtype=torch.uint8)
        weight = torch.tensor([[1.0, -2.0], [0.5, 4.0]])
        path = tmp_path / f"{fmt}.safetensors"
        save_file({"img_in.weight": (weight / scale).to(torch.float8_e4m3fn), "img_in.weight_scale": torch.tensor(scale),
                   "img_in.comfy_quant": conf, "img_in.bias": torch.zeros(2)}, path)
        return str(path), weight

    path, weight = quant_file("float8_e4m3fn", 0.5)
    assert inspect_checkpoint(path).formats == {"img_in": "float8_e4m3fn"}
    state = load_transformer_state_dict(path, torch.float32)
    assert set(state) == {"img_in.weight", "img_in.bias"} and torch.equal(state["img_in.weight"], weight)
    path, _ = quant_file("nvfp4", 0.5)
    with pytest.raises(DrawAVideoError, match="nvfp4.*UNETLoader"):
        load_transformer_state_dict(path, torch.float32)


def test_single_file_that_does_not_fit_the_folder_is_refused(models, store):
    bfl = bfl_state_dict(store["transformer"])
    save_file({k: v for k, v in bfl.items() if not k.startswith("single_blocks.")}, models / "diffusion_models" / "cut.safetensors")
    with pytest.raises(DrawAVideoError, match="cut.safetensors.*does not fit.*missing"):
        load("cut.safetensors")
    (models / "diffusion_models" / "flux.gguf").write_bytes(b"GGUF")
    with pytest.raises(DrawAVideoError, match="not a .safetensors"):
        load_flux_pipeline(str(models / "diffusers" / FOLDER), str(models / "diffusion_models" / "flux.gguf"))


# -- sampler ----------------------------------------------------------------------------

def test_sampler_draws_the_layout_and_its_latent_is_comfyui_flux_latent(models, monkeypatch):
    updates = []

    class Recorder(host.Progress):
        def update(self, steps=1, preview=None):
            updates.append(steps)
            super().update(steps, preview)

    monkeypatch.setattr(host, "Progress", Recorder)
    layout = GridLayoutNode().build(4, 4, 320, 192, 0, "row-major")[0]
    handle = load()
    images, latent = sample(handle, layout, steps=3)
    assert updates == [1, 1, 1]
    assert images.shape == (1, 768, 1280, 3) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 1
    assert latent["samples"].shape == (1, 16, 96, 160)

    frames = SplitLatentGridNode().split(latent, layout)["result"][0]["samples"]
    assert frames.shape == (16, 16, 24, 40)
    assert SplitImageGridNode().split(images, layout)["result"][0].shape == (16, 192, 320, 3)
    # Decoding the LATENT with the pipeline's VAE gives the IMAGE.
    assert torch.allclose(decode_vae_latent(handle.pipe, latent["samples"]), images, atol=1e-6)


def test_latent_is_the_raw_vae_latent_comfyui_expects(models):
    """ComfyUI's Flux.process_in of the LATENT is diffusers' normalised latent, and diffusers' own
    decode path (output_type="pt") draws the same picture from the same seed."""
    handle = load()
    images, latent = sample(handle, steps=2)
    pipe, size = handle.pipe, {"height": SMALL.height, "width": SMALL.width}
    packed = pipe(PROMPT, **size, num_inference_steps=2, generator=torch.Generator().manual_seed(0), output_type="latent").images
    unpacked = pipe._unpack_latents(packed, SMALL.height, SMALL.width, pipe.vae_scale_factor)
    assert torch.allclose((latent["samples"] - COMFY_FLUX_SHIFT) * COMFY_FLUX_SCALE, unpacked, atol=1e-5)
    reference = pipe(PROMPT, **size, num_inference_steps=2, generator=torch.Generator().manual_seed(0), output_type="pt").images
    assert torch.allclose(reference.permute(0, 2, 3, 1), images, atol=1e-5)


def test_same_seed_same_grid_and_batches_differ(models):
    handle = load()
    first, latent = sample(handle, seed=7, batch_size=2)
    again, latent_again = sample(handle, seed=7, batch_size=2)
    assert torch.equal(first, again) and torch.equal(latent["samples"], latent_again["samples"])
    assert not torch.equal(first[0], first[1])
    assert not torch.equal(sample(handle, seed=8)[0][0], first[0])


def test_cancel_stops_between_steps_and_the_next_run_works(models, monkeypatch):
    handle = load()
    clean = sample(handle, steps=4)[0]
    steps_done = []

    class CancelAtTwo(host.Progress):
        def update(self, steps=1, preview=None):
            steps_done.append(steps)
            if len(steps_done) == 2:
                host.request_interrupt()

    monkeypatch.setattr(host, "Progress", CancelAtTwo)
    with pytest.raises(host.Interrupted):
        sample(handle, steps=4)
    assert len(steps_done) == 2
    monkeypatch.undo()
    host.clear_interrupt()
    assert torch.equal(sample(handle, steps=4)[0], clean)


def test_sampler_refuses_bad_inputs(models):
    handle = load()
    with pytest.raises(DrawAVideoError, match="prompt is empty"):
        DiffusersGridSamplerNode().sample(handle, SMALL, "  ", 2, 3.5, 0, 1)
    with pytest.raises(DrawAVideoError, match="Load FLUX"):
        DiffusersGridSamplerNode().sample("not a pipeline", SMALL, PROMPT, 2, 3.5, 0, 1)


# -- LoRA -------------------------------------------------------------------------------

def test_lora_changes_the_grid_and_strength_zero_or_removal_restores_it(models):
    base_handle = load()
    base = sample(base_handle)[0]
    lora_handle = with_loras(base_handle, ("lora_diffusers.safetensors", 1.0))
    assert base_handle.loras == () and lora_handle.pipe is base_handle.pipe  # the cached pipeline is shared, not changed
    changed = sample(lora_handle)[0]
    assert (changed - base).abs().max() > 0.05
    assert torch.equal(sample(with_loras(base_handle, ("lora_diffusers.safetensors", 0.0)))[0], base)
    assert torch.equal(sample(base_handle)[0], base)  # the LoRA node removed from the graph: base output again
    assert torch.equal(sample(lora_handle)[0], changed)


def test_kohya_comfyui_and_diffusers_copies_give_the_same_grid(models, store):
    base = load()
    want = sample(with_loras(base, ("lora_diffusers.safetensors", 0.8)))[0]
    for name in ("lora_kohya.safetensors", "lora_comfyui.safetensors"):
        got = sample(with_loras(base, (name, 0.8)))[0]
        assert torch.allclose(got, want, atol=1e-4), name
    lora = prepare_lora(base.pipe.transformer, str(store["files"]["comfyui"]))
    assert lora.ignored == ()  # all-zero bias diffs are dropped silently


def test_kohya_conversion_agrees_with_diffusers_converter(store):
    from diffusers.loaders.lora_conversion_utils import _convert_kohya_flux_lora_to_diffusers

    # diffusers' converter hard-codes FLUX.1's single-block sizes, so compare on the double-block layers it handles for any size.
    double = {k: v for k, v in store["weights"].items() if k.startswith("double_blocks")}
    theirs = _convert_kohya_flux_lora_to_diffusers(kohya_file(double))
    path = store["root"] / "double_only.safetensors"
    save_file(kohya_file(double), path)
    ours = prepare_lora(store["transformer"], str(path)).state
    assert ours.keys() == theirs.keys()
    assert all(torch.allclose(ours[k], theirs[k], atol=1e-6) for k in ours)


def test_two_loras_stack_in_any_order(models):
    base = load()
    a = sample(with_loras(base, ("lora_diffusers.safetensors", 0.7)))[0]
    b = sample(with_loras(base, ("lora_second.safetensors", 0.9)))[0]
    ab = sample(with_loras(base, ("lora_diffusers.safetensors", 0.7), ("lora_second.safetensors", 0.9)))[0]
    ba = sample(with_loras(base, ("lora_second.safetensors", 0.9), ("lora_diffusers.safetensors", 0.7)))[0]
    assert (ab - a).abs().max() > 0.05 and (ab - b).abs().max() > 0.05
    assert torch.allclose(ab, ba, atol=1e-5)
    # the same file twice adds up: 0.35 + 0.35 is 0.7
    assert torch.allclose(sample(with_loras(base, ("lora_diffusers.safetensors", 0.35), ("lora_diffusers.safetensors", 0.35)))[0], a, atol=1e-5)


@pytest.mark.parametrize("keys, message", [
    ({"transformer.down_blocks.0.attn.to_q.lora_A.weight": (4, 32), "transformer.down_blocks.0.attn.to_q.lora_B.weight": (32, 4)}, "matches no layer"),
    ({"unet.down_blocks.0.attentions.0.proj_in.lora_A.weight": (4, 32), "unet.down_blocks.0.attentions.0.proj_in.lora_B.weight": (32, 4)}, "matches no layer"),
    ({"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": (4, 32), "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": (32, 4)}, "no LoRA format known|matches no layer"),
    ({"lora_unet_double_blocks_0_img_attn_proj.lora_down.weight": (4, 3072), "lora_unet_double_blocks_0_img_attn_proj.lora_up.weight": (3072, 4)}, "wrong shapes"),
    ({"transformer.transformer_blocks.0.attn.to_q.lora_A.weight": (4, 32), "transformer.transformer_blocks.0.attn.to_q.lora_B.weight": (32, 4),
      "transformer.transformer_blocks.7.attn.to_q.lora_A.weight": (4, 32), "transformer.transformer_blocks.7.attn.to_q.lora_B.weight": (32, 4)}, "fits only part"),
])
def test_a_lora_that_does_not_fit_is_an_error_naming_the_file(models, keys, message):
    save_file({k: torch.randn(*shape) for k, shape in keys.items()}, models / "loras" / "foreign.safetensors")
    base = load()
    base.pipe.unload_lora_weights()
    with pytest.raises(DrawAVideoError, match=f"foreign.safetensors.*({message})"):
        with_loras(base, ("foreign.safetensors", 1.0))
    assert base.pipe.get_list_adapters() == {}  # checked before anything touched the pipeline


def test_lora_handle_type_is_checked(models):
    with pytest.raises(DrawAVideoError, match="Load FLUX"):
        DiffusersLoraNode().add(object(), "lora_diffusers.safetensors", 1.0)
    assert isinstance(load(), FluxPipelineHandle)


def test_a_lora_file_that_is_missing_or_not_safetensors_is_refused_by_name(models):
    (models / "loras" / "pickled.pt").write_bytes(b"not read")
    base = load()
    with pytest.raises(DrawAVideoError, match="lora_name 'pickled.pt' is not a .safetensors file"):
        with_loras(base, ("pickled.pt", 1.0))
    with pytest.raises(DrawAVideoError, match="lora_name .gone.safetensors. is not in models/loras"):
        with_loras(base, ("gone.safetensors", 1.0))
