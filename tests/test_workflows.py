"""Every shipped workflow, checked statically against real node specs (ComfyUI 0.8.0's and the pack's)."""

import copy
import json

import pytest
from dav_testkit import ROOT
from dav_testkit.workflows import (
    UI_ONLY_NODES,
    all_specs,
    check_api_prompt,
    check_ui_workflow,
    compare_graphs,
    graph_from_api,
    graph_from_ui,
    widget_values_by_name,
)

UI_WORKFLOWS = sorted((ROOT / "workflows").glob("*.json"))
API_WORKFLOWS = sorted((ROOT / "workflows" / "api").glob("*.json"))
MODEL_LOADERS = {"UNETLoader": ["unet_name"], "DualCLIPLoader": ["clip_name1", "clip_name2"], "VAELoader": ["vae_name"]}


@pytest.fixture(scope="module")
def specs(pack):
    return all_specs(pack)


def load(path):
    return json.loads(path.read_text())


def test_the_text_to_video_workflow_ships():
    assert ROOT / "workflows" / "draw_a_video_t2v.json" in UI_WORKFLOWS
    assert {p.name for p in UI_WORKFLOWS} == {p.name for p in API_WORKFLOWS}, "every UI workflow needs its API twin and back"


@pytest.mark.parametrize("path", UI_WORKFLOWS, ids=lambda p: p.stem)
def test_ui_workflow_is_sound(path, specs):
    assert check_ui_workflow(load(path), specs) == []


@pytest.mark.parametrize("path", API_WORKFLOWS, ids=lambda p: p.stem)
def test_api_workflow_is_sound(path, specs):
    assert check_api_prompt(load(path), specs) == []


@pytest.mark.parametrize("path", UI_WORKFLOWS, ids=lambda p: p.stem)
def test_ui_and_api_twins_describe_the_same_graph(path, specs):
    ui = graph_from_ui(load(path), specs)
    api = graph_from_api(load(ROOT / "workflows" / "api" / path.name))
    assert compare_graphs(ui, api) == []


@pytest.mark.parametrize("path", UI_WORKFLOWS, ids=lambda p: p.stem)
def test_model_loaders_say_where_to_get_their_files(path, specs):
    for node in load(path)["nodes"]:
        if node["type"] not in MODEL_LOADERS:
            continue
        values = widget_values_by_name(specs[node["type"]], node["widgets_values"])
        entries = {m["name"]: m for m in node["properties"].get("models", [])}
        for widget in MODEL_LOADERS[node["type"]]:
            entry = entries.get(values[widget])
            assert entry, f"{node['type']} {values[widget]} has no properties.models entry"
            assert entry["url"].startswith("https://huggingface.co/") and entry["url"].endswith(values[widget])
            assert entry["directory"] in {"diffusion_models", "text_encoders", "vae", "loras"}


@pytest.mark.parametrize("path", UI_WORKFLOWS, ids=lambda p: p.stem)
def test_ui_workflow_explains_itself(path):
    notes = [n for n in load(path)["nodes"] if n["type"] in UI_ONLY_NODES]
    assert notes and all(len(n["widgets_values"][0]) > 100 for n in notes)


def test_every_template_has_a_thumbnail_and_every_thumbnail_a_template():
    """ComfyUI's template browser shows workflows/<name>.jpg beside each workflow: one small JPEG per
    UI workflow (tests/integration/make_thumbnails.py), none left over from a removed one."""
    from PIL import Image

    thumbs = sorted((ROOT / "workflows").glob("*.jpg"))
    assert [t.stem for t in thumbs] == [p.stem for p in UI_WORKFLOWS]
    for thumb in thumbs:
        with Image.open(thumb) as image:
            assert image.format == "JPEG" and 320 <= image.width <= 640, (thumb.name, image.format, image.size)
        assert thumb.stat().st_size < 100_000, thumb.name


def test_t2v_is_the_issue_graph():
    api = load(ROOT / "workflows" / "api" / "draw_a_video_t2v.json")
    types = sorted(node["class_type"] for node in api.values())
    for needed in ["UNETLoader", "LoraLoaderModelOnly", "DualCLIPLoader", "VAELoader", "DrawAVideo_GridLayout",
                   "DrawAVideo_GridPrompt", "CLIPTextEncode", "FluxGuidance", "EmptySD3LatentImage", "KSampler",
                   "VAEDecode", "DrawAVideo_SplitImageGrid", "DrawAVideo_SaveVideo"]:
        assert needed in types
    by_type = {node["class_type"]: (nid, node) for nid, node in api.items()}
    layout_id = by_type["DrawAVideo_GridLayout"][0]
    empty = by_type["EmptySD3LatentImage"][1]["inputs"]
    assert empty["width"] == [layout_id, 1] and empty["height"] == [layout_id, 2]
    assert by_type["DualCLIPLoader"][1]["inputs"]["type"] == "flux"
    assert by_type["DrawAVideo_SaveVideo"][1]["inputs"]["format"].startswith("mp4")


# -- the checker itself must catch what it is there to catch ---------------------------------

def t2v():
    return load(ROOT / "workflows" / "draw_a_video_t2v.json")


def node_of(workflow, type_):
    return next(n for n in workflow["nodes"] if n["type"] == type_)


def test_checker_catches_an_unknown_node(specs):
    wf = t2v()
    node_of(wf, "VAEDecode")["type"] = "VAEDecodeTurbo"
    assert any("not a core node" in p for p in check_ui_workflow(wf, specs))


def test_checker_catches_a_link_of_the_wrong_type(specs):
    wf = t2v()
    split = node_of(wf, "DrawAVideo_SplitImageGrid")
    link = next(lk for lk in wf["links"] if lk[0] == split["inputs"][0]["link"])
    vae = node_of(wf, "VAELoader")
    link[1], link[2] = vae["id"], 0
    assert any("output VAE into DrawAVideo_SplitImageGrid.image" in p for p in check_ui_workflow(wf, specs))


def test_checker_catches_bad_widget_values(specs):
    wf = t2v()
    node_of(wf, "KSampler")["widgets_values"][4] = "warp_drive"  # sampler_name
    node_of(wf, "DrawAVideo_GridLayout")["widgets_values"][0] = 0  # rows below min
    problems = check_ui_workflow(wf, specs)
    assert any("sampler_name" in p for p in problems) and any("widget rows" in p for p in problems)
    short = t2v()
    node_of(short, "KSampler")["widgets_values"].pop()
    assert any("widget values but the node has" in p for p in check_ui_workflow(short, specs))


def test_checker_catches_twins_that_drift(specs):
    api = load(ROOT / "workflows" / "api" / "draw_a_video_t2v.json")
    drifted = copy.deepcopy(api)
    next(n for n in drifted.values() if n["class_type"] == "KSampler")["inputs"]["steps"] = 3
    assert compare_graphs(graph_from_ui(t2v(), specs), graph_from_api(drifted))
    del next(n for n in drifted.values() if n["class_type"] == "KSampler")["inputs"]["model"]
    assert any("required input model missing" in p for p in check_api_prompt(drifted, specs))


@pytest.mark.parametrize("name", ["i2v", "i2v_fill"])
def test_image_to_video_workflows_keep_the_picture(name):
    """LoadImage -> Fit Image to Cell -> Keyframe Grid (custom, cell 0) -> ... -> VAEDecode, and the picture's own
    pixels pasted back (ImageCompositeMasked: the Keyframe Grid image over the decoded grid through the inverted mask)
    before Split Image Grid -> Save Video; the sampler draws at full denoise."""
    api = load(ROOT / "workflows" / "api" / f"{name}.json")
    by_type = {}
    for nid, node in api.items():
        by_type.setdefault(node["class_type"], []).append((nid, node["inputs"]))
    [(load_id, _)] = by_type["LoadImage"]
    [(fit_id, fit)] = by_type["DrawAVideo_FitImageToCell"]
    [(keys_id, keys)] = by_type["DrawAVideo_KeyframeGrid"]
    [(decode_id, _)] = by_type["VAEDecode"]
    [(invert_id, invert)] = by_type["InvertMask"]
    [(paste_id, paste)] = by_type["ImageCompositeMasked"]
    [(_, split)] = by_type["DrawAVideo_SplitImageGrid"]
    [(_, save)] = by_type["DrawAVideo_SaveVideo"]
    [(_, sampler)] = by_type["KSampler"]
    assert fit["image"] == [load_id, 0] and fit["fit"].startswith("cover")
    assert keys["frames"] == [fit_id, 0] and keys["mode"] == "custom" and keys["cells"] == "0"
    assert invert["mask"] == [keys_id, 1]
    assert paste["destination"] == [decode_id, 0] and paste["source"] == [keys_id, 0] and paste["mask"] == [invert_id, 0]
    assert (paste["x"], paste["y"], paste["resize_source"]) == (0, 0, False)
    assert split["image"] == [paste_id, 0] and save["images"][0] in {nid for nid, _ in by_type["DrawAVideo_SplitImageGrid"]}
    assert sampler["denoise"] == 1.0
    if name == "i2v":
        [(noise_mask_id, noise_mask)] = by_type["SetLatentNoiseMask"]
        assert noise_mask["mask"] == [keys_id, 1] and sampler["latent_image"] == [noise_mask_id, 0]
    else:
        [(inpaint_id, inpaint)] = by_type["InpaintModelConditioning"]
        assert inpaint["pixels"] == [keys_id, 0] and inpaint["mask"] == [keys_id, 1] and inpaint["noise_mask"] is True
        assert sampler["latent_image"] == [inpaint_id, 2] and sampler["positive"] == [inpaint_id, 0]
        [(_, unet)] = by_type["UNETLoader"]
        assert unet["unet_name"] == "flux1-fill-dev.safetensors"
        ui = load(ROOT / "workflows" / f"{name}.json")
        [loader] = [n for n in ui["nodes"] if n["type"] == "UNETLoader"]
        assert loader["properties"]["models"][0]["url"].endswith("FLUX.1-Fill-dev/resolve/main/flux1-fill-dev.safetensors")
