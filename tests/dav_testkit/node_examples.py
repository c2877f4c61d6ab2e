"""A short example wiring per node, in English and Chinese, for the docs pages make_locales.py writes.

Keys are node ids (NODE_CLASS_MAPPINGS). A new node needs an entry here (both languages).
"""

EXAMPLES = {
    "DrawAVideo_GridLayout": {
        "en": "Grid Layout (4x4, 320x192) → `width`/`height` into EmptySD3LatentImage, `layout` into Grid Prompt and "
              "Split Image Grid into Frames. The node draws the grid it plans (frame numbers, reading path) and "
              "shows the image size, FLUX tokens and a rough VRAM estimate. Example workflow: `workflows/draw_a_video_t2v.json`.",
        "zh": "网格布局（4x4，每格 320x192）→ `width`/`height` 接 EmptySD3LatentImage，`layout` 接网格提示词和"
              "“拆分网格图像为帧”。节点会画出它规划的网格（帧序号、阅读路径），并显示图像尺寸、FLUX token 数和粗略的显存估算。"
              "示例工作流：`workflows/draw_a_video_t2v.json`。",
    },
    "DrawAVideo_GridPrompt": {
        "en": "Grid Layout → `layout`; subject `continuous scenes of driving down the Las Vegas Strip` → `prompt` into "
              "CLIPTextEncode (text) → FluxGuidance → KSampler.",
        "zh": "网格布局 → `layout`；主题填 `continuous scenes of driving down the Las Vegas Strip` → `prompt` 接 "
              "CLIPTextEncode 的 text → FluxGuidance → KSampler。FLUX 的 T5 编码器读英文提示词，主题请用英文写。",
    },
    "DrawAVideo_SplitImageGrid": {
        "en": "KSampler → VAEDecode → Split Image Grid into Frames (image; layout from Grid Layout) → Save Video. "
              "After a run the node shows e.g. `16 frames, 320x192`.",
        "zh": "KSampler → VAEDecode → 拆分网格图像为帧（image；layout 来自网格布局）→ 保存视频。运行后节点上会显示 "
              "`16 frames, 320x192` 这样的帧数与尺寸。",
    },
    "DrawAVideo_SplitLatentGrid": {
        "en": "KSampler → Split Latent Grid into Frames (layout from Grid Layout) → a per-frame latent pass "
              "(e.g. LatentUpscale + KSampler at low denoise) → VAEDecode → Save Video.",
        "zh": "KSampler → 拆分潜空间网格为帧（layout 来自网格布局）→ 逐帧潜空间处理（如 LatentUpscale + 低去噪 KSampler）"
              "→ VAEDecode → 保存视频。",
    },
    "DrawAVideo_FramesToGrid": {
        "en": "Load Video Frames (layout connected, stride 10) → Frames to Grid Image → VAEEncode → KSampler "
              "(denoise 0.6) for video-to-video; or → Preview Image to see a clip as one picture.",
        "zh": "加载视频帧（接上 layout，步长 10）→ 帧拼成网格图像 → VAEEncode → KSampler（去噪 0.6）做视频转视频；"
              "或接预览图像，把一段视频当一张图来看。",
    },
    "DrawAVideo_GridNoise": {
        "en": "Grid Noise (layout from Grid Layout, shared 0.3) → SamplerCustomAdvanced `noise`, together with "
              "BasicGuider, KSamplerSelect, BasicScheduler and the EmptySD3LatentImage made from the same layout.",
        "zh": "网格噪声（layout 来自网格布局，shared 0.3）→ SamplerCustomAdvanced 的 `noise`；同时接 BasicGuider、"
              "KSamplerSelect、BasicScheduler，以及用同一布局尺寸创建的 EmptySD3LatentImage。",
    },
    "DrawAVideo_FitImageToCell": {
        "en": "Load Image → Fit Image to Cell (layout from Grid Layout, fit `cover`) → Keyframe Grid (mode `custom`, "
              "cells `0`; `-1` = the last frame, `0,-1` with two pictures = first and last) → VAEEncode + "
              "SetLatentNoiseMask → KSampler (denoise 1) → VAEDecode → ImageCompositeMasked (source = Keyframe Grid "
              "image, mask = InvertMask of its mask: the picture's own pixels back) → Split Image Grid → Save Video. "
              "Example workflows: `workflows/i2v.json`, `workflows/i2v_fill.json` (FLUX.1 Fill).",
        "zh": "加载图像 → 适配图片到单元格（layout 来自网格布局，fit 选 `cover`）→ 关键帧网格（模式 `custom`，cells `0`；"
              "`-1` 表示最后一帧，两张图片配合 `0,-1` 表示第一帧和最后一帧）→ VAEEncode + SetLatentNoiseMask → "
              "KSampler（denoise 1）→ VAEDecode → ImageCompositeMasked（source 为关键帧网格的 image，mask 为其 mask 经 "
              "InvertMask 反转：贴回图片的原始像素）→ 拆分网格图像为帧 → 保存视频。示例工作流：`workflows/i2v.json`、"
              "`workflows/i2v_fill.json`（FLUX.1 Fill）。",
    },
    "DrawAVideo_KeyframeGrid": {
        "en": "Load Video Frames → Keyframe Grid (mode `continue`, overlap 4) → `image`/`mask` into "
              "InpaintModelConditioning → KSampler → VAEDecode → Split Image Grid → Join Clips (clip_a = the "
              "original clip, overlap 4) → Save Video. Example workflow: `workflows/long_video.json`.",
        "zh": "加载视频帧 → 关键帧网格（模式 `continue`，overlap 4）→ `image`/`mask` 接 InpaintModelConditioning → "
              "KSampler → VAEDecode → 拆分网格图像为帧 → 拼接片段（clip_a 为原片段，overlap 4）→ 保存视频。",
    },
    "DrawAVideo_AssembleInbetweens": {
        "en": "Keyframe Grid (mode `in-between`) → sampler → VAEDecode → Split Image Grid → Assemble In-between "
              "Frames (`keyframe_count` from Keyframe Grid's `keyframes`, `keyframes` = the original frames) → "
              "Save Video at twice the frame rate.",
        "zh": "关键帧网格（模式 `in-between`）→ 采样 → VAEDecode → 拆分网格图像为帧 → 组装中间帧（`keyframe_count` "
              "接关键帧网格的 `keyframes` 输出，`keyframes` 接原始关键帧）→ 以两倍帧率保存视频。",
    },
    "DrawAVideo_JoinClips": {
        "en": "Split Image Grid (first clip) → `clip_a`; the continued clip (Keyframe Grid `continue`, overlap 4, "
              "sampled and split) → `clip_b`; overlap 4, crossfade 0 → Save Video. Two 4x4 grids give 28 frames.",
        "zh": "拆分网格图像为帧（第一段）→ `clip_a`；续写的片段（关键帧网格 `continue`，overlap 4，采样并拆分后）→ "
              "`clip_b`；overlap 4，crossfade 0 → 保存视频。两个 4x4 网格得到 28 帧。",
    },
    "DrawAVideo_SaveVideo": {
        "en": "Split Image Grid into Frames → Save Video (fps 8, format `mp4 (h264)`, layout from Grid Layout to "
              "embed it). The saved clip plays in the node, looped and muted; gif and webp show as animated images.",
        "zh": "拆分网格图像为帧 → 保存视频（fps 8，格式 `mp4 (h264)`，接上网格布局的 layout 以嵌入布局信息）。"
              "保存的视频会在节点中静音循环播放；gif 和 webp 以动图显示。",
    },
    "DrawAVideo_LoadVideoFrames": {
        "en": "Load Video Frames (stride 10, frame_cap 16, layout from Grid Layout) → Frames to Grid Image → "
              "Preview Image, or → Keyframe Grid to continue the clip.",
        "zh": "加载视频帧（步长 10，frame_cap 16，layout 来自网格布局）→ 帧拼成网格图像 → 预览图像；"
              "或接关键帧网格来续写这段视频。",
    },
    "DrawAVideo_MatchColors": {
        "en": "Split Image Grid (several grids in a row) → Match Colors (strength 1, reference_mode `first frame`) → "
              "Save Video.",
        "zh": "拆分网格图像为帧（多张网格连续）→ 匹配颜色（strength 1，reference_mode 选 `first frame`）→ 保存视频。",
    },
    "DrawAVideo_RegisterGrid": {
        "en": "VAEDecode → Find Grid Cells (layout from Grid Layout, search_px 16) → `frames` into Save Video, "
              "`overlay` into Preview Image, `adherence` into a display node.",
        "zh": "VAEDecode → 查找网格单元（layout 来自网格布局，search_px 16）→ `frames` 接保存视频，`overlay` 接预览图像，"
              "`adherence` 接显示节点。",
    },
    "DrawAVideo_GridQuality": {
        "en": "EmptySD3LatentImage (batch_size 4) → KSampler → VAEDecode → Grid Quality / Best of Batch → "
              "`best_grid` into Split Image Grid into Frames → Save Video; `report` into a text display.",
        "zh": "EmptySD3LatentImage（batch_size 4）→ KSampler → VAEDecode → 网格质量 / 批次最佳 → `best_grid` 接"
              "拆分网格图像为帧 → 保存视频；`report` 接文本显示。",
    },
    "DrawAVideo_VideosToGridDataset": {
        "en": "Grid Layout (4x4, 320x192) → Videos to Grid Dataset (stride 10, output_images off) → `dataset_name` into "
              "Encode Grid Dataset to Shards → Load Training Dataset → Train LoRA (model through Make FLUX Trainable) → "
              "Check Trained LoRA → SaveLoRA; `summary` into Preview Any shows, per video, the grids kept and every skipped "
              "one with its frames and reason. Example workflow: `workflows/train_driving_lora.json`.",
        "zh": "网格布局（4x4，320x192）→ 视频转网格数据集（步长 10，关闭 output_images）→ `dataset_name` 接“将网格数据集编码为分片”"
              "→ Load Training Dataset → Train LoRA（模型先经过“使 FLUX 可训练”）→ 检查训练好的 LoRA → SaveLoRA；"
              "`summary` 接 Preview Any，可看到每个视频保留的网格数，以及每个被跳过的网格的帧范围和原因。"
              "示例工作流：`workflows/train_driving_lora.json`。",
    },
    "DrawAVideo_EncodeGridDataset": {
        "en": "Videos to Grid Dataset `dataset_name` → Encode Grid Dataset to Shards (vae from VAELoader, clip from "
              "DualCLIPLoader, folder_name `draw_a_video_latents`) → `folder_name` into Load Training Dataset → Train LoRA "
              "(`latents`, `positive` ← `conditioning`). Example workflow: `workflows/train_driving_lora.json`.",
        "zh": "视频转网格数据集的 `dataset_name` → 将网格数据集编码为分片（vae 来自 VAELoader，clip 来自 DualCLIPLoader，"
              "folder_name 为 `draw_a_video_latents`）→ `folder_name` 接 Load Training Dataset → Train LoRA（`latents`，"
              "`positive` ← `conditioning`）。示例工作流：`workflows/train_driving_lora.json`。",
    },
    "DrawAVideo_CheckTrainedLora": {
        "en": "Train LoRA `lora`, `loss_map` and `steps` → Check Trained LoRA → `lora` into SaveLoRA. A NaN loss stops "
              "the run with e.g. `training loss is nan at step 3 of 2500`. Example workflow: `workflows/train_driving_lora.json`.",
        "zh": "Train LoRA 的 `lora`、`loss_map` 和 `steps` → 检查训练好的 LoRA → `lora` 接 SaveLoRA。损失为 NaN 时会停止运行，"
              "并报出如 `training loss is nan at step 3 of 2500` 的错误。示例工作流：`workflows/train_driving_lora.json`。",
    },
    "DrawAVideo_TrainableFlux": {
        "en": "UNETLoader (FLUX.1-dev) → Make FLUX Trainable → Train LoRA `model`; the dataset from Videos to "
              "Grid Dataset → Encode Grid Dataset to Shards → Load Training Dataset. Example workflow: "
              "`workflows/train_driving_lora.json`.",
        "zh": "UNETLoader（FLUX.1-dev）→ 使 FLUX 可训练 → Train LoRA 的 `model`；数据集来自视频转网格数据集 → "
              "将网格数据集编码为分片 → Load Training Dataset。",
    },
    "DrawAVideo_DiffusersFluxLoader": {
        "en": "Load FLUX (diffusers) (model_folder `FLUX.1-dev`, bf16) → FLUX LoRA (diffusers) → FLUX Grid Sampler "
              "(diffusers) with Grid Layout and Grid Prompt → Split Image Grid → Save Video.",
        "zh": "加载 FLUX（diffusers）（model_folder 选 `FLUX.1-dev`，bf16）→ FLUX LoRA（diffusers）→ FLUX 网格采样器"
              "（diffusers），接网格布局和网格提示词 → 拆分网格图像为帧 → 保存视频。",
    },
    "DrawAVideo_DiffusersLora": {
        "en": "Load FLUX (diffusers) → FLUX LoRA (diffusers) (the grid-video LoRA, strength 1) → FLUX Grid Sampler "
              "(diffusers).",
        "zh": "加载 FLUX（diffusers）→ FLUX LoRA（diffusers）（网格视频 LoRA，强度 1）→ FLUX 网格采样器（diffusers）。",
    },
    "DrawAVideo_DiffusersGridSampler": {
        "en": "FLUX LoRA (diffusers) → FLUX Grid Sampler (diffusers) (layout from Grid Layout, prompt from Grid "
              "Prompt, 28 steps, guidance 3.5) → `grids` into Split Image Grid into Frames → Save Video.",
        "zh": "FLUX LoRA（diffusers）→ FLUX 网格采样器（diffusers）（layout 来自网格布局，prompt 来自网格提示词，28 步，"
              "guidance 3.5）→ `grids` 接拆分网格图像为帧 → 保存视频。",
    },
}
