"""Author the example workflows: each is described once here and written in both formats.

    python tests/dav_testkit/make_workflows.py          # rewrites workflows/*.json and workflows/api/*.json

The JSON files are the product; tests/test_workflows.py checks them on their
own (against real node specs, and UI against API twin), so a workflow edited in
the graph editor and saved back stays valid without this script.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dav_testkit import ROOT, import_pack  # noqa: E402
from dav_testkit.workflows import WorkflowBuilder, all_specs  # noqa: E402

HF = "https://huggingface.co"
MODELS = {
    "flux1-dev.safetensors": ("diffusion_models", f"{HF}/black-forest-labs/FLUX.1-dev/resolve/main/flux1-dev.safetensors"),
    "clip_l.safetensors": ("text_encoders", f"{HF}/comfyanonymous/flux_text_encoders/resolve/main/clip_l.safetensors"),
    "t5xxl_fp16.safetensors": ("text_encoders", f"{HF}/comfyanonymous/flux_text_encoders/resolve/main/t5xxl_fp16.safetensors"),
    "ae.safetensors": ("vae", f"{HF}/black-forest-labs/FLUX.1-dev/resolve/main/ae.safetensors"),
}
DRIVING_LORA = "draw_a_video_driving.safetensors"
SEED = 42


def model_entry(name: str) -> list[dict]:
    directory, url = MODELS[name]
    return [{"name": name, "url": url, "directory": directory}]


def flux_models(wf: WorkflowBuilder, lora: str | None = DRIVING_LORA):
    """Native FLUX.1-dev loaders (+ the driving LoRA): returns (model, clip, vae)."""
    unet = wf.add("UNETLoader", unet_name="flux1-dev.safetensors", weight_dtype="default", models=model_entry("flux1-dev.safetensors"))
    clip = wf.add(
        "DualCLIPLoader", clip_name1="clip_l.safetensors", clip_name2="t5xxl_fp16.safetensors", type="flux",
        models=model_entry("clip_l.safetensors") + model_entry("t5xxl_fp16.safetensors"),
    )
    vae = wf.add("VAELoader", vae_name="ae.safetensors", models=model_entry("ae.safetensors"))
    model = unet.out("MODEL")
    if lora:
        model = wf.add("LoraLoaderModelOnly", title="Driving LoRA (draws video as a grid)", model=model, lora_name=lora, strength_model=1.0).out("MODEL")
    return model, clip.out("CLIP"), vae.out("VAE")


def grid_prompt_conditioning(wf, clip, layout, subject: str, guidance: float = 3.5):
    prompt = wf.add("DrawAVideo_GridPrompt", layout=layout.out("layout"), subject=subject)
    text = wf.add("CLIPTextEncode", text=prompt.out("prompt"), clip=clip)
    positive = wf.add("FluxGuidance", conditioning=text.out("CONDITIONING"), guidance=guidance)
    negative = wf.add("ConditioningZeroOut", title="Negative (unused at cfg 1)", conditioning=text.out("CONDITIONING"))
    return positive.out("CONDITIONING"), negative.out("CONDITIONING")


def t2v(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    model, clip, vae = flux_models(wf)
    layout = wf.add("DrawAVideo_GridLayout", rows=4, cols=4, cell_width=320, cell_height=192, gutter=0, order="row-major", frame_stride=10)
    positive, negative = grid_prompt_conditioning(wf, clip, layout, "driving down the Las Vegas Strip")
    latent = wf.add("EmptySD3LatentImage", width=layout.out("width"), height=layout.out("height"), batch_size=1)
    sampled = wf.add(
        "KSampler", model=model, seed=SEED, steps=20, cfg=1.0, sampler_name="euler", scheduler="simple",
        positive=positive, negative=negative, latent_image=latent.out("LATENT"), denoise=1.0,
    )
    grid = wf.add("VAEDecode", samples=sampled.out("LATENT"), vae=vae)
    wf.add("PreviewImage", title="The drawn grid", images=grid.out("IMAGE"))
    frames = wf.add("DrawAVideo_SplitImageGrid", image=grid.out("IMAGE"), layout=layout.out("layout"))
    wf.add(
        "DrawAVideo_SaveVideo", images=frames.out("frames"), fps=8.0, format="mp4 (h264)", quality=85, loop_count=0,
        pingpong=False, filename_prefix="DrawAVideo/t2v", save_output=True, layout=layout.out("layout"),
    )
    wf.note(
        "## Draw a video as one image\n"
        "FLUX.1-dev with the driving LoRA draws 16 frames as a 4x4 grid of 320x192 cells (one 1280x768 image); "
        "Split Image Grid cuts it into frames and Save Video writes the mp4.\n\n"
        "**Models** (ComfyUI offers to download the first four):\n"
        "- models/diffusion_models/flux1-dev.safetensors\n- models/text_encoders/clip_l.safetensors, t5xxl_fp16.safetensors\n"
        "- models/vae/ae.safetensors\n"
        f"- models/loras/{DRIVING_LORA}: train it with the *train_driving_lora* workflow, or bypass the LoRA node "
        "(FLUX alone follows the grid prompt only roughly).\n\n"
        "Change the grid in **Grid Layout**: 6x4 and 8x4 work zero-shot with a 4x4-trained LoRA.",
        title="Read me",
    )
    return wf


WORKFLOWS = {
    "draw_a_video_t2v": t2v,
}


def main(names: list[str]) -> None:
    pack = import_pack()
    specs = all_specs(pack)
    for name, build in WORKFLOWS.items():
        if names and name not in names:
            continue
        wf = build(specs)
        (ROOT / "workflows" / "api").mkdir(parents=True, exist_ok=True)
        (ROOT / "workflows" / f"{name}.json").write_text(json.dumps(wf.ui(), indent=2) + "\n")
        (ROOT / "workflows" / "api" / f"{name}.json").write_text(json.dumps(wf.api(), indent=2) + "\n")
        print(f"wrote workflows/{name}.json and workflows/api/{name}.json")


if __name__ == "__main__":
    main(sys.argv[1:])
