"""Every node the pack registers: a sound classic-API declaration, and it runs on ComfyUI-shaped data.

A node added without an entry in RUNS below fails `test_every_node_has_a_run`:
each node must be exercised here at least once.
"""

import inspect

import pytest
import torch
from draw_a_video import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS, WEB_DIRECTORY
from draw_a_video.nodes.engine.layout import GridLayout

KNOWN_TYPES = {
    # ComfyUI's own
    "IMAGE", "LATENT", "MASK", "STRING", "INT", "FLOAT", "BOOLEAN", "NOISE", "CONDITIONING", "VAE", "CLIP", "MODEL",
    "COMBO", "*", "LORA_MODEL", "LOSS_MAP",
    # the pack's
    "GRID_LAYOUT", "DAV_FLUX_PIPELINE",
}
SMALL = GridLayout(rows=2, cols=2, cell_width=32, cell_height=16)


def image(b, h, w, c=3, seed=0):
    return torch.rand(b, h, w, c, generator=torch.Generator().manual_seed(seed))


def diffusers_models(ctx):
    """The tiny FLUX folder and a one-layer diffusers LoRA for it, in this test's models folder."""
    from safetensors.torch import save_file

    models = ctx["folders"]["models"]
    (models / "diffusers").mkdir()
    (models / "diffusers" / "tiny-flux").symlink_to(ctx["tiny_flux_folder"], target_is_directory=True)
    (models / "loras").mkdir()
    inner = 16  # the tiny transformer's width: 2 heads x 8
    save_file({"transformer.x_embedder.lora_A.weight": torch.ones(2, 64), "transformer.x_embedder.lora_B.weight": torch.ones(inner, 2) * 0.01},
              str(models / "loras" / "tiny.safetensors"))
    loader = NODE_CLASS_MAPPINGS["DrawAVideo_DiffusersFluxLoader"]()
    return loader.load("tiny-flux", "(from folder)", "fp32", "all on device", False, False)[0]


def sampler_inputs(ctx):
    return dict(pipeline=diffusers_models(ctx), layout=SMALL, prompt="a grid", steps=1, guidance=3.5, seed=0, batch_size=1)


def clip_in_input(ctx, folder: str = "", frames: int = 12):
    """A small clip in this test's ComfyUI input folder; returns its name relative to that folder."""
    import imageio.v2 as imageio
    import numpy as np

    where = ctx["folders"]["input"] / folder
    where.mkdir(parents=True, exist_ok=True)
    with imageio.get_writer(where / "clip.mp4", fps=10, codec="libx264", macro_block_size=16) as writer:
        for i in range(frames):
            writer.append_data(np.full((48, 64, 3), i * 12 % 256, np.uint8))
    return f"{folder}/clip.mp4" if folder else "clip.mp4"


class FakeVAE:
    def encode(self, image):  # ComfyUI's VAE.encode: IMAGE [B,H,W,3] -> [B,16,H/8,W/8]
        return torch.zeros(image.shape[0], 16, image.shape[1] // 8, image.shape[2] // 8)


class FakeCLIP:
    def tokenize(self, text):
        return {"t5xxl": [[(1, 1.0)]]}

    def encode_from_tokens_scheduled(self, tokens):
        return [[torch.zeros(1, 4, 8), {"pooled_output": torch.zeros(1, 8)}]]


def moving_grids(count: int = 2):
    """Grids of a square moving cell to cell, the cleanest video a grid can hold."""
    grids = torch.zeros(count, 32, 64, 3)
    for b in range(count):
        for f in range(4):
            row, col = SMALL.cell_of_frame(f)
            grids[b, row * 16 + 4 : row * 16 + 12, col * 32 + 4 + 2 * f : col * 32 + 12 + 2 * f] = 1.0
    return grids


# node id -> (keyword inputs, or a function of the test's folders making them; check of the returned tuple)
RUNS = {
    "DrawAVideo_GridLayout": (
        dict(rows=4, cols=4, cell_width=320, cell_height=192, gutter=0, order="row-major"),
        lambda out: out[1:] == (1280, 768, 16) and out[0] == GridLayout(),
    ),
    "DrawAVideo_GridPrompt": (
        dict(layout=GridLayout(), subject="driving down the Las Vegas Strip", template="{frames} frames, {rows}x{cols}: {subject}"),
        lambda out: out == ("16 frames, 4x4: driving down the Las Vegas Strip",),
    ),
    "DrawAVideo_SplitImageGrid": (
        dict(image=image(2, 32, 64), layout=SMALL),
        lambda out: out[0].shape == (8, 16, 32, 3),
    ),
    "DrawAVideo_SplitLatentGrid": (
        dict(latent={"samples": torch.randn(1, 16, 4, 8)}, layout=SMALL),
        lambda out: out[0]["samples"].shape == (4, 16, 2, 4),
    ),
    "DrawAVideo_FramesToGrid": (
        dict(images=image(5, 16, 32), layout=SMALL, pad="black"),
        lambda out: out[0].shape == (2, 32, 64, 3),
    ),
    "DrawAVideo_GridNoise": (
        dict(noise_seed=3, layout=SMALL, shared=0.5),
        lambda out: out[0].seed == 3 and out[0].generate_noise({"samples": torch.zeros(1, 16, 4, 8)}).shape == (1, 16, 4, 8),
    ),
    "DrawAVideo_KeyframeGrid": (
        dict(frames=image(5, 16, 32), layout=SMALL, mode="continue", overlap=2, cells="0,3"),
        lambda out: out[0].shape == (1, 32, 64, 3) and out[1].shape == (1, 32, 64) and out[2:] == (2, 2),
    ),
    "DrawAVideo_FitImageToCell": (
        dict(image=image(2, 40, 100), layout=SMALL, fit="pad (keep all, add bands)", pad_color="white"),
        lambda out: out[0].shape == (2, 16, 32, 3) and bool((out[0][:, 0] == 1.0).all()),
    ),
    "DrawAVideo_AssembleInbetweens": (
        dict(frames=image(4, 16, 32), layout=SMALL, keyframe_count=2),
        lambda out: out[0].shape == (3, 16, 32, 3) and out[1] == 3,
    ),
    "DrawAVideo_DiffusersFluxLoader": (
        lambda ctx: (diffusers_models(ctx), dict(model_folder="tiny-flux", transformer_file="(from folder)", dtype="fp32",
                                                 memory_mode="all on device", vae_tiling=False, vae_slicing=False))[1],
        lambda out: type(out[0]).__name__ == "FluxPipelineHandle",
    ),
    "DrawAVideo_DiffusersLora": (
        lambda ctx: dict(pipeline=diffusers_models(ctx), lora_name="tiny.safetensors", strength=1.0),
        lambda out: len(out[0].loras) == 1,
    ),
    "DrawAVideo_DiffusersGridSampler": (
        sampler_inputs,
        lambda out: out[0].shape == (1, 32, 64, 3) and out[1]["samples"].shape == (1, 16, 4, 8),
    ),
    "DrawAVideo_SaveVideo": (
        dict(images=image(4, 16, 32), fps=8.0, format="mp4 (h264)", quality=80, loop_count=0, pingpong=False,
             filename_prefix="contract/clip", save_output=True, layout=SMALL),
        lambda out: out[0].endswith("clip_00001_.mp4"),
    ),
    "DrawAVideo_LoadVideoFrames": (
        lambda ctx: dict(video=clip_in_input(ctx), stride=5, skip_first=0, frame_cap=0),
        lambda out: out[0].shape == (3, 48, 64, 3) and out[1:] == (2.0, 3),
    ),
    "DrawAVideo_VideosToGridDataset": (
        lambda ctx: (clip_in_input(ctx, "clips", frames=20), dict(
            video_folder="clips", layout=SMALL, stride=5, hop=0, subject="a test", dataset_name="grids",
            max_grids_per_video=0, cut_threshold=0.0, output_images=True))[1],
        lambda out: len(out[0]) == 1 and out[0][0].shape == (1, 32, 64, 3) and out[1][0].startswith("Generate a 4-frame")
        and out[3] == "grids",
    ),
    "DrawAVideo_EncodeGridDataset": (
        lambda ctx: (clip_in_input(ctx, "clips", frames=20), NODE_CLASS_MAPPINGS["DrawAVideo_VideosToGridDataset"]().build(
            video_folder="clips", layout=SMALL, stride=5, hop=0, subject="a test", dataset_name="grids",
            max_grids_per_video=0, cut_threshold=0.0, output_images=False), dict(
            dataset_name="grids", vae=FakeVAE(), clip=FakeCLIP(), folder_name="latents", shard_size=10))[2],
        lambda out: out[0] == "latents" and out[1].startswith("1 grids in 1 shards"),
    ),
    "DrawAVideo_CheckTrainedLora": (
        dict(lora={"a.lora_up.weight": torch.zeros(4, 2), "a.lora_down.weight": torch.ones(2, 4)}, loss_map={"loss": [0.5, 0.25]}, steps=2),
        lambda out: set(out[0]) == {"a.lora_up.weight", "a.lora_down.weight"} and "last loss 0.2500" in out[1],
    ),
    "DrawAVideo_RegisterGrid": (
        dict(image=moving_grids(1), layout=SMALL, search_px=4),
        lambda out: out[0].shape == (4, 16, 32, 3) and out[3].shape == (1, 32, 64, 3),
    ),
    "DrawAVideo_GridQuality": (
        dict(images=moving_grids(2), layout=SMALL),
        lambda out: isinstance(out[0], str) and out[1] in (0, 1) and out[2].shape == (1, 32, 64, 3),
    ),
    "DrawAVideo_MatchColors": (
        dict(images=image(4, 16, 32), strength=0.0, reference_mode="first frame"),
        lambda out: out[0].shape == (4, 16, 32, 3),
    ),
    "DrawAVideo_TrainableFlux": (
        dict(model="a MODEL"),
        lambda out: out == ("a MODEL",),
    ),
    "DrawAVideo_JoinClips": (
        dict(clip_a=image(4, 16, 32), clip_b=image(4, 16, 32, seed=1), overlap=1, crossfade=1),
        lambda out: out[0].shape == (6, 16, 32, 3) and out[1] == 6,
    ),
}


def input_entries(cls):
    types = cls.INPUT_TYPES()
    assert set(types) <= {"required", "optional", "hidden"}, types.keys()
    for section in ("required", "optional"):
        for name, entry in types.get(section, {}).items():
            yield section, name, entry


@pytest.mark.parametrize("node_id", sorted(NODE_CLASS_MAPPINGS))
def test_declaration_is_complete(node_id):
    cls = NODE_CLASS_MAPPINGS[node_id]
    assert node_id.startswith("DrawAVideo_")
    assert NODE_DISPLAY_NAME_MAPPINGS[node_id].endswith("(Draw-a-Video)")
    assert cls.CATEGORY.startswith("Draw-a-Video/")
    assert len(cls.DESCRIPTION) > 40
    assert callable(getattr(cls, cls.FUNCTION))
    for _section, name, entry in input_entries(cls):
        kind, options = entry[0], entry[1] if len(entry) > 1 else {}
        assert isinstance(kind, list) or kind in KNOWN_TYPES, f"{name}: unknown type {kind}"
        assert options.get("tooltip"), f"input {name} has no tooltip"
        if "default" in options and isinstance(kind, list) and kind:
            assert options["default"] in kind, f"{name}: default not among its choices"
    for kind in cls.RETURN_TYPES:
        assert kind in KNOWN_TYPES, kind
    assert len(getattr(cls, "RETURN_NAMES", cls.RETURN_TYPES)) == len(cls.RETURN_TYPES)
    assert len(cls.OUTPUT_TOOLTIPS) == len(cls.RETURN_TYPES) and all(cls.OUTPUT_TOOLTIPS)
    assert len(getattr(cls, "OUTPUT_IS_LIST", cls.RETURN_TYPES)) == len(cls.RETURN_TYPES)
    signature = inspect.signature(getattr(cls, cls.FUNCTION))
    declared = {name for _, name, _ in input_entries(cls)} | set(cls.INPUT_TYPES().get("hidden", {}))
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    assert accepts_any or declared <= set(signature.parameters), f"{cls.FUNCTION} misses inputs"
    if hasattr(cls, "IS_CHANGED"):
        params = inspect.signature(cls.IS_CHANGED).parameters.values()
        assert any(p.kind is p.VAR_KEYWORD for p in params), "IS_CHANGED must accept **kwargs"


def test_every_node_has_a_run():
    assert set(NODE_CLASS_MAPPINGS) <= set(RUNS), f"add a run for {sorted(set(NODE_CLASS_MAPPINGS) - set(RUNS))}"


@pytest.mark.parametrize("node_id", sorted(RUNS))
def test_node_runs_on_comfyui_shaped_data(node_id, request, pack_folders):
    cls = NODE_CLASS_MAPPINGS[node_id]
    kwargs, check = RUNS[node_id]
    if callable(kwargs):
        kwargs = kwargs({"folders": pack_folders, "tiny_flux_folder": request.getfixturevalue("tiny_flux_folder")})
    result = getattr(cls(), cls.FUNCTION)(**kwargs)
    if isinstance(result, dict):  # {"ui": ..., "result": ...}
        assert set(result) <= {"ui", "result"}
        result = result["result"]
    assert isinstance(result, tuple) and len(result) == len(cls.RETURN_TYPES)
    assert check(result)


def test_web_directory_exists(pack):
    import os

    assert WEB_DIRECTORY == "./js"
    assert os.path.isdir(os.path.join(os.path.dirname(pack.__file__), "js"))


def test_pack_imports_without_comfyui():
    import sys

    assert "folder_paths" not in sys.modules and "comfy" not in sys.modules


def test_engine_never_touches_comfyui(pack):
    """The engine is pure: only nodes/host.py may reach ComfyUI's runtime."""
    from pathlib import Path

    engine = Path(pack.__file__).parent / "nodes" / "engine"
    for path in engine.rglob("*.py"):
        text = path.read_text()
        for forbidden in ("import folder_paths", "import comfy", "from comfy", "from ..host", "from ...host", "import server"):
            assert forbidden not in text, f"{path.name} has '{forbidden}'"


def test_root_init_survives_a_lone_import(pack):
    """pytest (9.2+, importlib mode) imports the repo root's __init__.py on its own: it must not fail."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("lone_init", Path(pack.__file__), submodule_search_locations=None)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.NODE_CLASS_MAPPINGS == {} and module.WEB_DIRECTORY == "./js"
