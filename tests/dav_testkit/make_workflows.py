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
    "flux1-fill-dev.safetensors": ("diffusion_models", f"{HF}/black-forest-labs/FLUX.1-Fill-dev/resolve/main/flux1-fill-dev.safetensors"),
}
I2V_PICTURE = "draw_a_video_i2v_input.png"
DRIVING_LORA = "draw_a_video_driving.safetensors"
SEED = 42


def model_entry(name: str) -> list[dict]:
    directory, url = MODELS[name]
    return [{"name": name, "url": url, "directory": directory}]


def flux_models(wf: WorkflowBuilder, lora: str | None = DRIVING_LORA, unet_name: str = "flux1-dev.safetensors"):
    """Native FLUX.1-dev loaders (+ the driving LoRA): returns (model, clip, vae)."""
    unet = wf.add("UNETLoader", unet_name=unet_name, weight_dtype="default", models=model_entry(unet_name))
    clip = wf.add(
        "DualCLIPLoader", clip_name1="clip_l.safetensors", clip_name2="t5xxl_fp16.safetensors", type="flux",
        models=model_entry("clip_l.safetensors") + model_entry("t5xxl_fp16.safetensors"),
    )
    vae = wf.add("VAELoader", vae_name="ae.safetensors", models=model_entry("ae.safetensors"))
    model = unet.out("MODEL")
    if lora:
        model = wf.add("LoraLoaderModelOnly", title="Driving LoRA (draws video as a grid)", model=model, lora_name=lora, strength_model=1.0).out("MODEL")
    return model, clip.out("CLIP"), vae.out("VAE")


def method_layout(wf):
    """The method's grid: 4x4 cells of 320x192 (1280x768), every 10th source frame."""
    return wf.add("DrawAVideo_GridLayout", rows=4, cols=4, cell_width=320, cell_height=192, gutter=0, order="row-major", frame_stride=10)


def grid_prompt_conditioning(wf, clip, layout, subject: str, guidance: float = 3.5, negative: bool = True):
    """Grid Prompt -> CLIPTextEncode -> FluxGuidance; KSampler also wants a negative (ignored at cfg 1)."""
    prompt = wf.add("DrawAVideo_GridPrompt", layout=layout.out("layout"), subject=subject)
    text = wf.add("CLIPTextEncode", text=prompt.out("prompt"), clip=clip)
    positive = wf.add("FluxGuidance", conditioning=text.out("CONDITIONING"), guidance=guidance).out("CONDITIONING")
    if not negative:
        return positive, None
    zero = wf.add("ConditioningZeroOut", title="Negative (unused at cfg 1)", conditioning=text.out("CONDITIONING"))
    return positive, zero.out("CONDITIONING")


def t2v(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    _, _, vae, layout, latents = text_to_grids(wf, "continuous scenes of driving down the Las Vegas Strip")
    grid = wf.add("VAEDecode", samples=latents, vae=vae)
    wf.add("PreviewImage", title="The drawn grid", images=grid.out("IMAGE"))
    frames = wf.add("DrawAVideo_SplitImageGrid", image=grid.out("IMAGE"), layout=layout.out("layout"))
    save_video(wf, frames.out("frames"), "DrawAVideo/t2v", layout.out("layout"))
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


def custom_sampling(wf, model, steps: int = 20):
    """The native SamplerCustomAdvanced parts two grids can share: (sampler, sigmas)."""
    sampler = wf.add("KSamplerSelect", sampler_name="euler")
    sigmas = wf.add("BasicScheduler", model=model, scheduler="simple", steps=steps, denoise=1.0)
    return sampler.out("SAMPLER"), sigmas.out("SIGMAS")


def sample_grid(wf, model, positive, latent, noise, sampling, title=None):
    guider = wf.add("BasicGuider", model=model, conditioning=positive)
    sampler, sigmas = sampling
    out = wf.add("SamplerCustomAdvanced", title=title, noise=noise, guider=guider.out("GUIDER"), sampler=sampler, sigmas=sigmas, latent_image=latent)
    return out.out("output")


def first_grid(wf, subject: str, seed: int = SEED, shared: float = 0.3):
    """Models, layout, prompt and one grid drawn with Grid Noise: the start of the sequence workflows."""
    model, clip, vae = flux_models(wf)
    layout = method_layout(wf)
    positive, _ = grid_prompt_conditioning(wf, clip, layout, subject, negative=False)
    sampling = custom_sampling(wf, model)
    latent = wf.add("EmptySD3LatentImage", width=layout.out("width"), height=layout.out("height"), batch_size=1)
    noise = wf.add("DrawAVideo_GridNoise", noise_seed=seed, layout=layout.out("layout"), shared=shared)
    sampled = sample_grid(wf, model, positive, latent.out("LATENT"), noise.out("noise"), sampling, title="Sample the first grid")
    grid = wf.add("VAEDecode", samples=sampled, vae=vae)
    frames = wf.add("DrawAVideo_SplitImageGrid", image=grid.out("IMAGE"), layout=layout.out("layout"))
    return model, vae, layout, positive, sampling, frames


def masked_grids(wf, vae, keyframe_grid):
    """Encode known cells and let the sampler draw only where the mask is 1."""
    pixels = wf.add("VAEEncode", pixels=keyframe_grid.out("image"), vae=vae)
    return wf.add("SetLatentNoiseMask", samples=pixels.out("LATENT"), mask=keyframe_grid.out("mask")).out("LATENT")


def save_video(wf, frames, prefix: str, layout=None, fps=8.0):
    return wf.add(
        "DrawAVideo_SaveVideo", images=frames, fps=fps, format="mp4 (h264)", quality=85, loop_count=0,
        pingpong=False, filename_prefix=prefix, save_output=True, **({"layout": layout} if layout else {}),
    )


def long_video(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    model, vae, layout, positive, sampling, frames_a = first_grid(wf, "continuous scenes of driving down the Las Vegas Strip at night")
    keys = wf.add("DrawAVideo_KeyframeGrid", title="Grid B opens with A's last 4 frames", frames=frames_a.out("frames"),
                  layout=layout.out("layout"), mode="continue", overlap=4, cells="0,5,10,15")
    noise_b = wf.add("DrawAVideo_GridNoise", noise_seed=SEED + 1, layout=layout.out("layout"), shared=0.3)
    sampled = sample_grid(wf, model, positive, masked_grids(wf, vae, keys), noise_b.out("noise"), sampling, title="Sample the second grid")
    grid_b = wf.add("VAEDecode", samples=sampled, vae=vae)
    frames_b = wf.add("DrawAVideo_SplitImageGrid", image=grid_b.out("IMAGE"), layout=layout.out("layout"))
    joined = wf.add("DrawAVideo_JoinClips", clip_a=frames_a.out("frames"), clip_b=frames_b.out("frames"), overlap=4, crossfade=0)
    steady = wf.add("DrawAVideo_MatchColors", images=joined.out("frames"), strength=0.5, reference_mode="first frame")
    save_video(wf, steady.out("images"), "DrawAVideo/long_video", layout.out("layout"))
    wf.note(
        "## A longer clip from two chained grids: 16 + 16 - 4 = 28 frames\n"
        "The first grid is drawn as in the text-to-video workflow (with **Grid Noise**, which shares part of the "
        "noise between cells so frames stay alike). **Keyframe Grid** (continue) puts its last 4 frames into the "
        "first 4 cells of a new grid and masks the other 12; VAEEncode + SetLatentNoiseMask make the sampler draw "
        "only those, so the second grid carries on from the first. **Join Clips** drops the 4 repeated frames and "
        "**Match Colors** pulls every frame halfway to the first frame's colours, so the join doesn't drift.\n\n"
        "Models: as in draw_a_video_t2v. Raise `overlap` for smoother joins, lower it for more new frames.",
        title="Read me",
    )
    return wf


def inbetween(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    model, vae, layout, positive, sampling, keys = first_grid(wf, "continuous scenes of driving down the Las Vegas Strip")
    plan = wf.add("DrawAVideo_KeyframeGrid", title="Keyframes in every other cell", frames=keys.out("frames"),
                  layout=layout.out("layout"), mode="in-between", overlap=4, cells="0,5,10,15")
    noise = wf.add("RandomNoise", noise_seed=SEED + 2)
    sampled = sample_grid(wf, model, positive, masked_grids(wf, vae, plan), noise.out("NOISE"), sampling, title="Draw the in-between frames")
    grids = wf.add("VAEDecode", samples=sampled, vae=vae)
    cells = wf.add("DrawAVideo_SplitImageGrid", image=grids.out("IMAGE"), layout=layout.out("layout"))
    frames = wf.add("DrawAVideo_AssembleInbetweens", frames=cells.out("frames"), layout=layout.out("layout"),
                    keyframe_count=plan.out("keyframes"), keyframes=keys.out("frames"))
    save_video(wf, frames.out("frames"), "DrawAVideo/inbetween", layout.out("layout"), fps=16.0)
    wf.note(
        "## Twice the frame rate from the same model: 16 keyframes -> 31 frames\n"
        "The first grid's 16 frames become keyframes. **Keyframe Grid** (in-between) lays them into every other "
        "cell of 3 grids (8 per grid, neighbouring grids share one) and masks the cells between; the sampler "
        "draws each missing frame while seeing the keyframes on both sides (GridDiff's idea, no extra weights). "
        "**Assemble In-between Frames** reads k0 g k1 g ... k15 back out: 31 frames, saved at twice the fps.",
        title="Read me",
    )
    return wf


def text_to_grids(wf, subject: str, batch_size: int = 1, lora=DRIVING_LORA):
    """The text-to-video path up to the sampled grid latents: (model, clip, vae, layout, latents)."""
    model, clip, vae = flux_models(wf, lora)
    layout = method_layout(wf)
    positive, negative = grid_prompt_conditioning(wf, clip, layout, subject)
    latent = wf.add("EmptySD3LatentImage", width=layout.out("width"), height=layout.out("height"), batch_size=batch_size)
    sampled = wf.add(
        "KSampler", model=model, seed=SEED, steps=20, cfg=1.0, sampler_name="euler", scheduler="simple",
        positive=positive, negative=negative, latent_image=latent.out("LATENT"), denoise=1.0,
    )
    return model, clip, vae, layout, sampled.out("LATENT")


def best_of_4(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    _, _, vae, layout, latents = text_to_grids(wf, "continuous scenes of driving down the Las Vegas Strip", batch_size=4)
    grids = wf.add("VAEDecode", samples=latents, vae=vae)
    quality = wf.add("DrawAVideo_GridQuality", images=grids.out("IMAGE"), layout=layout.out("layout"))
    wf.add("PreviewAny", title="Quality report (JSON)", source=quality.out("report"))
    wf.add("PreviewImage", title="The best grid", images=quality.out("best_grid"))
    frames = wf.add("DrawAVideo_SplitImageGrid", image=quality.out("best_grid"), layout=layout.out("layout"))
    save_video(wf, frames.out("frames"), "DrawAVideo/best_of_4", layout.out("layout"))
    wf.note(
        "## Draw 4 grids, keep the best\n"
        "Some grids ignore the layout (cells drift or merge) or flicker. The sampler draws a batch of 4; "
        "**Grid Quality** scores each: *adherence* (do cell borders stand where the layout puts them), "
        "*smoothness* (are neighbouring frames alike) and *steadiness* (no brightness flicker), and passes the best "
        "grid on. The JSON report shows every grid's numbers.",
        title="Read me",
    )
    return wf


def v2v(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    model, clip, vae = flux_models(wf)
    layout = method_layout(wf)
    clip_in = wf.add("DrawAVideo_LoadVideoFrames", video="draw_a_video_input.mp4", stride=10, skip_first=0, frame_cap=16, layout=layout.out("layout"))
    grid = wf.add("DrawAVideo_FramesToGrid", images=clip_in.out("frames"), layout=layout.out("layout"), pad="repeat last frame")
    encoded = wf.add("VAEEncode", pixels=grid.out("grids"), vae=vae)
    positive, negative = grid_prompt_conditioning(wf, clip, layout, "continuous scenes of driving through a snowy mountain village")
    sampled = wf.add(
        "KSampler", model=model, seed=SEED, steps=20, cfg=1.0, sampler_name="euler", scheduler="simple",
        positive=positive, negative=negative, latent_image=encoded.out("LATENT"), denoise=0.6,
    )
    decoded = wf.add("VAEDecode", samples=sampled.out("LATENT"), vae=vae)
    frames = wf.add("DrawAVideo_SplitImageGrid", image=decoded.out("IMAGE"), layout=layout.out("layout"))
    save_video(wf, frames.out("frames"), "DrawAVideo/v2v", layout.out("layout"), fps=clip_in.out("fps"))
    wf.note(
        "## Video to video\n"
        "**Load Video Frames** takes every 10th frame of `input/draw_a_video_input.mp4` (16 of them), fitted to the "
        "cells; **Frames to Grid** tiles them into one 1280x768 grid; FLUX redraws the grid at denoise 0.6 with a "
        "new prompt, keeping the motion; the grid is cut back into frames and saved at the source's sampled fps.\n\n"
        "Upload your clip with Load Video Frames' upload button. Lower denoise keeps more of the source.",
        title="Read me",
    )
    return wf


def hires(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    model, clip, vae, layout, latents = text_to_grids(wf, "continuous scenes of driving down the Las Vegas Strip")
    frame_latents = wf.add("DrawAVideo_SplitLatentGrid", latent=latents, layout=layout.out("layout"))
    bigger = wf.add("LatentUpscaleBy", samples=frame_latents.out("frames"), upscale_method="bislerp", scale_by=2.0)
    frame_prompt = wf.add("DrawAVideo_GridPrompt", title="Prompt for one frame", layout=layout.out("layout"),
                          subject="driving down the Las Vegas Strip", template="A video frame of {subject}, sharp and detailed.")
    text = wf.add("CLIPTextEncode", text=frame_prompt.out("prompt"), clip=clip)
    positive = wf.add("FluxGuidance", conditioning=text.out("CONDITIONING"), guidance=3.5)
    negative = wf.add("ConditioningZeroOut", title="Negative (unused at cfg 1)", conditioning=text.out("CONDITIONING"))
    refined = wf.add(
        "KSampler", title="Hi-res pass over the 16 frames", model=model, seed=SEED, steps=12, cfg=1.0, sampler_name="euler",
        scheduler="simple", positive=positive.out("CONDITIONING"), negative=negative.out("CONDITIONING"),
        latent_image=bigger.out("LATENT"), denoise=0.35,
    )
    frames = wf.add("VAEDecode", samples=refined.out("LATENT"), vae=vae)
    save_video(wf, frames.out("IMAGE"), "DrawAVideo/hires")
    wf.note(
        "## Per-frame hi-res: 16 frames at 640x384\n"
        "The grid is drawn as usual, then **Split Latent Grid** cuts its latent into 16 frame latents without "
        "resampling (cells sit on latent borders). Each is upscaled 2x in latent space and refined by a low-denoise "
        "pass over the whole frame batch, with a single-frame prompt; VAEDecode gives the frames directly.\n\n"
        "Raise denoise for more detail, lower it for steadier frames.",
        title="Read me",
    )
    return wf


def train_driving_lora(specs) -> WorkflowBuilder:
    import_pack()
    from draw_a_video.nodes.engine.prompt import DEFAULT_SUBJECT
    from draw_a_video.nodes.engine.shots import DEFAULT_CUT_THRESHOLD

    wf = WorkflowBuilder(specs)
    model, clip, vae = flux_models(wf, lora=None)
    layout = method_layout(wf)
    dataset = wf.add(
        "DrawAVideo_VideosToGridDataset", video_folder="driving_videos", layout=layout.out("layout"), stride=10, hop=0,
        subject=DEFAULT_SUBJECT, dataset_name="draw_a_video_grids", max_grids_per_video=0,
        cut_threshold=DEFAULT_CUT_THRESHOLD, output_images=False,
    )
    wf.add("PreviewAny", title="Dataset summary", source=dataset.out("summary"))
    encoded = wf.add("DrawAVideo_EncodeGridDataset", dataset_name=dataset.out("dataset_name"), vae=vae, clip=clip,
                     folder_name="draw_a_video_latents", shard_size=100)
    wf.add("PreviewAny", title="Encoding summary", source=encoded.out("summary"))
    loaded = wf.add("LoadTrainingDataset", folder_name=encoded.out("folder_name"))
    trainable = wf.add("DrawAVideo_TrainableFlux", model=model)
    trained = wf.add(
        "TrainLoraNode", model=trainable.out("model"), latents=loaded.out("latents"), positive=loaded.out("conditioning"),
        batch_size=1, grad_accumulation_steps=1, steps=2500, learning_rate=0.0001, rank=16, optimizer="AdamW",
        loss_function="MSE", seed=SEED, training_dtype="bf16", lora_dtype="bf16", algorithm="LoRA",
        gradient_checkpointing=True, existing_lora="[None]", bucket_mode=False,
    )
    checked = wf.add("DrawAVideo_CheckTrainedLora", lora=trained.out("lora"), loss_map=trained.out("loss_map"),
                     steps=trained.out("steps"))
    wf.add("SaveLoRA", lora=checked.out("lora"), prefix="loras/draw_a_video_driving", steps=trained.out("steps"))
    wf.note(
        "## Train the driving LoRA (the source recipe)\n"
        "Put driving clips in `input/driving_videos/` (a `<clip>.txt` beside a clip overrides the subject). "
        "**Videos to Grid Dataset** takes every 10th frame, 16 frames per grid, each fitted to a 320x192 cell and "
        "tiled 4x4 into a 1280x768 grid, captioned with the Grid Prompt wording, and writes them as files to "
        "`input/draw_a_video_grids/` (resumes if re-run). It checks every source frame for cuts and fades and "
        "skips grids over them: the summary says which video, which frames, and why.\n\n"
        "**Encode Grid Dataset to Shards** VAE-encodes one grid at a time and each distinct caption once, into "
        "`output/draw_a_video_latents/` (ComfyUI's training-shard format); **Load Training Dataset** reads it. "
        "Memory stays flat at any dataset size (the source used about 2,800 grids). For a few dozen grids you "
        "can instead turn `output_images` on and feed images + captions to *MakeTrainingDataset*.\n\n"
        "**Train LoRA**: 2,500 steps at batch 1 as in the source, gradient checkpointing on. Rank 16 and learning "
        "rate 1e-4 (AdamW) are our choice, not the source's: the LoRA learns one layout rule and motion across "
        "cells, not a new concept, so a mid rank is enough; 1e-4 is the usual FLUX LoRA rate at batch 1 and, "
        "over 2,500 steps on ~2,800 grids (each seen about once), neither overfits nor crawls. "
        "**VRAM**: a 1280x768 grid is 160x96 latents = 3,840 image tokens (+512 T5 tokens); with an fp8 FLUX "
        "base (~12 GB), bf16 LoRA and gradient checkpointing, expect about 20-24 GB (a 24 GB card); ComfyUI "
        "0.8 trains fully loaded, it cannot offload during training. "
        "**Make FLUX Trainable** lets ComfyUI 0.8.0's Train LoRA backpropagate through FLUX (its fused RoPE has no "
        "backward); sampling is unaffected. **Check Trained LoRA** stops the run, naming the step, if a loss or a LoRA "
        "tensor is NaN or infinite, so a broken LoRA is never saved.\n\n"
        "SaveLoRA writes `output/loras/draw_a_video_driving_..._.safetensors`: move it to `models/loras/` as "
        f"`{DRIVING_LORA}` for the text-to-video workflow.",
        title="Read me",
    )
    return wf


def diffusers_t2v(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    pipe = wf.add("DrawAVideo_DiffusersFluxLoader", model_folder="FLUX.1-dev", transformer_file="(from folder)", dtype="bf16",
                  memory_mode="model CPU offload", vae_tiling=False, vae_slicing=False)
    lora = wf.add("DrawAVideo_DiffusersLora", pipeline=pipe.out("pipeline"), lora_name=DRIVING_LORA, strength=1.0)
    layout = method_layout(wf)
    prompt = wf.add("DrawAVideo_GridPrompt", layout=layout.out("layout"), subject="continuous scenes of driving down the Las Vegas Strip")
    grids = wf.add("DrawAVideo_DiffusersGridSampler", pipeline=lora.out("pipeline"), layout=layout.out("layout"),
                   prompt=prompt.out("prompt"), steps=28, guidance=3.5, seed=SEED, batch_size=1)
    wf.add("PreviewImage", title="The drawn grid", images=grids.out("grids"))
    frames = wf.add("DrawAVideo_SplitImageGrid", image=grids.out("grids"), layout=layout.out("layout"))
    save_video(wf, frames.out("frames"), "DrawAVideo/diffusers", layout.out("layout"))
    wf.note(
        "## The same clip through diffusers\n"
        "For a FLUX.1-dev kept as a diffusers folder (`models/diffusers/FLUX.1-dev/`, with model_index.json: a "
        "local copy of black-forest-labs/FLUX.1-dev), or a single-file transformer in models/diffusion_models "
        "with that folder for the rest. Nothing is downloaded. The LoRA node takes diffusers- or kohya-keyed "
        "FLUX LoRAs and chains; the sampler outputs the grid image and its latent (ComfyUI's FLUX latent space).",
        title="Read me",
    )
    return wf


def default_subject() -> str:
    """Grid Prompt's default subject (nodes/engine/prompt.py), read from the pack as imported."""
    return import_pack().nodes.engine.prompt.DEFAULT_SUBJECT


def picture_in_grid(wf, vae, layout):
    """Load Image -> Fit Image to Cell -> Keyframe Grid with the picture in cell 0 (the first frame)."""
    picture = wf.add("LoadImage", title="Your picture", image=I2V_PICTURE)
    fitted = wf.add("DrawAVideo_FitImageToCell", image=picture.out("IMAGE"), layout=layout.out("layout"),
                    fit="cover (crop the centre)", pad_color="black")
    return wf.add("DrawAVideo_KeyframeGrid", title="The picture opens the clip", frames=fitted.out("image"),
                  layout=layout.out("layout"), mode="custom", overlap=4, cells="0")


def known_cells_back(wf, vae, samples, keys, layout, prefix: str):
    """Decode, paste the picture's own pixels back over its cell(s), cut into frames, save."""
    decoded = wf.add("VAEDecode", samples=samples, vae=vae)
    keep = wf.add("InvertMask", title="Cells to keep", mask=keys.out("mask"))
    pasted = wf.add("ImageCompositeMasked", title="The picture's own pixels back in its cell", destination=decoded.out("IMAGE"),
                    source=keys.out("image"), x=0, y=0, resize_source=False, mask=keep.out("MASK"))
    wf.add("PreviewImage", title="The drawn grid", images=pasted.out("IMAGE"))
    frames = wf.add("DrawAVideo_SplitImageGrid", image=pasted.out("IMAGE"), layout=layout.out("layout"))
    save_video(wf, frames.out("frames"), prefix, layout.out("layout"))


I2V_WHERE = (
    "**Where the picture goes**: Keyframe Grid's `cells` (frame order, 0-based). `0`: the picture is the first "
    "frame and the clip moves on from it. `-1`: it is the last frame and the clip leads up to it. `0,-1`: the first "
    "and the last frame (the model draws what lies between): add a second Load Image -> Fit Image to Cell and join "
    "the two with Batch Images (first picture in image1) before Keyframe Grid.\n\n"
    "**Fit**: `cover` fills the cell and crops the centre; `pad` keeps the whole picture with bands. The picture "
    "must be at least the cell's size (320x192 here) and RGB. The decoded grid goes through the VAE, so the "
    "picture's cell comes back slightly changed; **ImageCompositeMasked** (with the inverted mask) pastes the "
    "picture's own pixels back, so frame 1 of the video is your picture exactly (up to the video codec)."
)


def i2v(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    model, clip, vae = flux_models(wf)
    layout = method_layout(wf)
    keys = picture_in_grid(wf, vae, layout)
    positive, negative = grid_prompt_conditioning(wf, clip, layout, default_subject())
    sampled = wf.add(
        "KSampler", title="Draw the other 15 frames", model=model, seed=SEED, steps=20, cfg=1.0, sampler_name="euler",
        scheduler="simple", positive=positive, negative=negative, latent_image=masked_grids(wf, vae, keys), denoise=1.0,
    )
    known_cells_back(wf, vae, sampled.out("LATENT"), keys, layout, "DrawAVideo/i2v")
    wf.note(
        "## Image to video: your picture moves\n"
        "**Load Image** (upload a photo or a FLUX still) -> **Fit Image to Cell** -> **Keyframe Grid** (custom) puts "
        "it into a cell of a 4x4 grid and masks the 15 others; VAEEncode + SetLatentNoiseMask make the sampler draw "
        "only those, at full denoise, seeing the picture: FLUX draws the rest of the clip as one image that "
        "continues it. Describe the motion in **Grid Prompt**'s subject.\n\n" + I2V_WHERE + "\n\n"
        "Models: as in draw_a_video_t2v. For FLUX's own inpainting model see *i2v_fill*.",
        title="Read me",
    )
    return wf


def i2v_fill(specs) -> WorkflowBuilder:
    wf = WorkflowBuilder(specs)
    model, clip, vae = flux_models(wf, lora=None, unet_name="flux1-fill-dev.safetensors")
    layout = method_layout(wf)
    keys = picture_in_grid(wf, vae, layout)
    positive, negative = grid_prompt_conditioning(wf, clip, layout, default_subject(), guidance=30.0)
    inpaint = wf.add("InpaintModelConditioning", positive=positive, negative=negative, vae=vae,
                     pixels=keys.out("image"), mask=keys.out("mask"), noise_mask=True)
    sampled = wf.add(
        "KSampler", title="Draw the other 15 frames", model=model, seed=SEED, steps=20, cfg=1.0, sampler_name="euler",
        scheduler="simple", positive=inpaint.out(0), negative=inpaint.out(1), latent_image=inpaint.out("latent"), denoise=1.0,
    )
    known_cells_back(wf, vae, sampled.out("LATENT"), keys, layout, "DrawAVideo/i2v_fill")
    wf.note(
        "## Image to video with FLUX.1 Fill\n"
        "The same graph as *i2v*, drawn by **FLUX.1 Fill** (`flux1-fill-dev`), the FLUX model made for masked "
        "drawing: **InpaintModelConditioning** hands it the grid with your picture and the mask of the cells to "
        "draw, so it fills them knowing what surrounds them. FLUX.1 Fill is run at guidance 30 (its makers' "
        "setting).\n\n" + I2V_WHERE + "\n\n"
        "**Models**: models/diffusion_models/flux1-fill-dev.safetensors ([FLUX.1-Fill-dev](https://huggingface.co/"
        "black-forest-labs/FLUX.1-Fill-dev), gated: accept the licence first; ComfyUI offers the download), the text "
        "encoders and VAE of draw_a_video_t2v. The driving LoRA was trained on FLUX.1-dev; add a LoraLoaderModelOnly "
        "after the UNETLoader to try it here.",
        title="Read me",
    )
    return wf


WORKFLOWS = {
    "draw_a_video_t2v": t2v,
    "long_video": long_video,
    "inbetween": inbetween,
    "best_of_4": best_of_4,
    "v2v": v2v,
    "hires": hires,
    "train_driving_lora": train_driving_lora,
    "draw_a_video_diffusers": diffusers_t2v,
    "i2v": i2v,
    "i2v_fill": i2v_fill,
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
