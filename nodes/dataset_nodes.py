"""Nodes that build training data: videos -> captioned grid images for a "draw video on one image" LoRA."""

from __future__ import annotations

import hashlib
import os

from . import host
from .engine.dataset import build_grid_dataset, find_videos, video_folders
from .engine.errors import DrawAVideoError
from .engine.files import resolve_inside
from .engine.prompt import DEFAULT_SUBJECT, DEFAULT_TEMPLATE
from .engine.shards import encode_grid_dataset, list_grids, load_grid
from .engine.shots import DEFAULT_CUT_THRESHOLD
from .grid_nodes import LAYOUT_INPUT

CATEGORY = "Draw-a-Video/training"
DEFAULT_DATASET_NAME = "draw_a_video_grids"
DEFAULT_SHARD_FOLDER = "draw_a_video_latents"


def _fingerprint(folder: str, recursive: bool) -> list[tuple]:
    """(relative name, size, mtime) of the files not hidden, so a changed folder changes the hash."""
    entries = []
    for base, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if not name.startswith("."):
                stat = os.stat(os.path.join(base, name))
                entries.append((os.path.relpath(os.path.join(base, name), folder), stat.st_size, stat.st_mtime_ns))
        if not recursive:
            break
    return entries


class VideosToGridDatasetNode:
    DESCRIPTION = (
        "Builds the training set for a LoRA that draws a whole clip as one grid image, from your own videos: "
        "takes every Nth frame (stride), tiles rows x cols sampled frames per grid by the layout (each frame "
        "resized and centre-cropped to the cell), and writes <video>_g0000.png + .txt caption (worded like Grid "
        "Prompt; the subject comes from a <video name>.txt next to a video, else from 'subject') plus "
        "manifest.jsonl into ComfyUI's input folder under dataset_name. Re-running resumes: existing grids are "
        "kept, never rewritten. The method: 4x4 grids of 320x192 cells, stride 10, ~2,800 grids, 2,500 steps. "
        "Every source frame is checked for shot changes in the same ffmpeg pass (scdet cuts, blank frames, fades, "
        "dissolves): a grid over one is skipped and the summary says which video, which frames and why. "
        "Two ways on: for big datasets (the method's ~2,800 grids) turn output_images off and connect dataset_name "
        "to 'Encode Grid Dataset to Shards', then Load Training Dataset -> Train LoRA -> Save LoRA: memory stays "
        "at one grid. For a few dozen grids, connect images and captions to MakeTrainingDataset (images, texts): "
        "every grid is then held as a float image (1280x768 = 11.8 MB each; 2,800 grids = 33 GB) and every "
        "caption encoded again."
    )
    CATEGORY = CATEGORY
    FUNCTION = "build"
    OUTPUT_NODE = True  # it writes the dataset folder even when nothing is connected
    RETURN_TYPES = ("IMAGE", "STRING", "STRING", "STRING")
    RETURN_NAMES = ("images", "captions", "summary", "dataset_name")
    OUTPUT_IS_LIST = (True, True, False, False)
    OUTPUT_TOOLTIPS = (
        "The grids, one image each (a list, as MakeTrainingDataset's images input takes it); empty when output_images is off.",
        "One caption per grid, in the same order (connect to MakeTrainingDataset's texts); empty when output_images is off.",
        "What was done, per video: grids kept; grids skipped with the reason and frames (cut at frame 98, fade from black, frames 0-9, dissolve, frames 37-55); clips too short; unreadable or damaged files and where decoding failed.",
        "The dataset folder's name, once it is written: connect it to Encode Grid Dataset to Shards so that runs after this.",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "video_folder": (video_folders(host.input_directory()), {"tooltip": "Folder of videos inside ComfyUI's input folder ('.' = the input folder itself). A <video name>.txt next to a video gives its subject."}),
                "layout": LAYOUT_INPUT,
                "stride": ("INT", {"default": 10, "min": 1, "max": 1000, "tooltip": "Take every Nth source frame (the method: 10)."}),
                "hop": ("INT", {"default": 0, "min": 0, "max": 100000, "tooltip": "Sampled frames from one grid's start to the next's; 0 = frames per grid (no overlap). Smaller overlaps grids, larger leaves gaps."}),
                "subject": ("STRING", {"default": DEFAULT_SUBJECT, "multiline": True, "tooltip": "What the videos show, for the caption, when a video has no <video name>.txt of its own."}),
                "dataset_name": ("STRING", {"default": DEFAULT_DATASET_NAME, "tooltip": "Folder for the grids, created inside ComfyUI's input folder (so 'Load Image and Text Dataset from Folder' lists it). Reuse it to resume."}),
                "max_grids_per_video": ("INT", {"default": 0, "min": 0, "max": 100000, "tooltip": "Take at most this many grids from one video (0 = all), so long clips don't dominate."}),
                "cut_threshold": ("FLOAT", {"default": DEFAULT_CUT_THRESHOLD, "min": 0.0, "max": 100.0, "step": 0.5, "tooltip": "Every source frame is checked with ffmpeg's scene detector (scdet, 0..100): a grid over a frame scoring this or more (a cut), over blank frames, over a fade to/from black or white or over a dissolve is skipped, and the summary says where. Cuts score ~10-40 even between dark shots; motion stays below ~4. 0 = no checks (dissolves and fades included). Lower it if cuts get through, raise it if fast pans get skipped."}),
                "output_images": ("BOOLEAN", {"default": True, "tooltip": "Also output the grids and captions as lists. Turn off for big datasets (each grid is ~12 MB in memory) and load the folder with the native loader."}),
            },
            "optional": {
                "template": ("STRING", {"default": DEFAULT_TEMPLATE, "multiline": True, "tooltip": "Caption wording, as in Grid Prompt: {frames}, {rows}, {cols} and {subject} are filled in."}),
                "include_subfolders": ("BOOLEAN", {"default": False, "tooltip": "Also take videos from folders inside video_folder."}),
            },
        }

    @staticmethod
    def _folders(video_folder: str, dataset_name: str) -> tuple[str, str]:
        root = host.input_directory()
        videos = resolve_inside(root, video_folder, "video_folder")
        dataset = resolve_inside(root, dataset_name.strip() or ".", "dataset_name")
        if dataset == os.path.realpath(root):
            raise DrawAVideoError(
                f"dataset_name {dataset_name!r} is ComfyUI's input folder itself; name a folder inside it, "
                f"e.g. {DEFAULT_DATASET_NAME!r}."
            )
        if dataset == videos:
            raise DrawAVideoError(
                f"dataset_name {dataset_name!r} is the video folder itself; give the grids a folder of their own."
            )
        return videos, dataset

    @classmethod
    def IS_CHANGED(cls, video_folder=".", dataset_name=DEFAULT_DATASET_NAME, include_subfolders=False, **kwargs):
        try:
            videos, dataset = cls._folders(video_folder, dataset_name)
        except DrawAVideoError:
            return float("nan")  # never cached: the run reports the error
        digest = hashlib.sha256()
        if os.path.isdir(videos):  # videos and their subject sidecars
            digest.update(repr(_fingerprint(videos, include_subfolders)).encode())
        if os.path.isdir(dataset):  # deleting grids re-runs too
            digest.update(repr(_fingerprint(dataset, False)).encode())
        return digest.hexdigest()

    def build(self, video_folder, layout, stride, hop, subject, dataset_name, max_grids_per_video,
              cut_threshold, output_images, template=DEFAULT_TEMPLATE, include_subfolders=False):
        videos_dir, dataset_dir = self._folders(video_folder, dataset_name)
        progress = host.Progress(len(find_videos(videos_dir, include_subfolders)))
        summary = build_grid_dataset(
            videos_dir, dataset_dir, layout,
            stride=stride, hop=hop, subject=subject, template=template,
            max_grids_per_video=max_grids_per_video, cut_threshold=cut_threshold,
            recursive=include_subfolders,
            on_progress=lambda done, total, grids: progress.update(done - progress.current),
            check_cancel=host.check_interrupted,
        )
        text = summary.describe()
        if not summary.grids:
            raise DrawAVideoError(f"no grids could be made from {video_folder!r}:\n{text}")
        images, captions = [], []
        if output_images:
            for grid in summary.grids:
                host.check_interrupted()
                images.append(load_grid(grid.image))
            captions = summary.captions
        return {"ui": {"text": [text]}, "result": (images, captions, text, dataset_name)}


class EncodeGridDatasetNode:
    DESCRIPTION = (
        "Encodes a grid dataset folder (from Videos to Grid Dataset, or any folder of images with caption .txt "
        "files) into the shard files ComfyUI's own 'Load Training Dataset' reads, as a stream: each grid is read "
        "from disk and VAE-encoded on its own, and each distinct caption is text-encoded once and shared by all "
        "its grids, so memory stays at one shard whatever the dataset size (the method's ~2,800 grids included). "
        "Writes output/<folder_name>/shard_0000.pkl ... and metadata.json, the layout of the native Save "
        "Training Dataset. Re-running resumes: shards whose grids are unchanged are kept, not encoded again. "
        "Connect folder_name to Load Training Dataset's folder_name, then Train LoRA and Save LoRA. "
        "(MakeTrainingDataset does the same in memory: fine for a few dozen grids.)"
    )
    CATEGORY = CATEGORY
    FUNCTION = "encode"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING", "STRING")
    RETURN_NAMES = ("folder_name", "summary")
    OUTPUT_TOOLTIPS = (
        "The shard folder's name inside the output folder, once written: connect it to Load Training Dataset's folder_name.",
        "Grids and shards written or kept, captions encoded, time spent in the VAE and the text encoder.",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "dataset_name": ("STRING", {"default": DEFAULT_DATASET_NAME, "tooltip": "The grid dataset folder inside ComfyUI's input folder (Videos to Grid Dataset's dataset_name; connect its dataset_name output)."}),
                "vae": ("VAE", {"tooltip": "The VAE of the model to train (FLUX: ae.safetensors): encodes each grid to its latent."}),
                "clip": ("CLIP", {"tooltip": "The text encoder of the model to train (FLUX: T5 + CLIP-L): encodes each distinct caption once."}),
                "folder_name": ("STRING", {"default": DEFAULT_SHARD_FOLDER, "tooltip": "Folder for the shards, inside ComfyUI's output folder: the name Load Training Dataset takes. Reuse it to resume."}),
                "shard_size": ("INT", {"default": 100, "min": 1, "max": 100000, "tooltip": "Grids per shard file. Memory while encoding is one shard of latents (FLUX, 1280x768 grid: ~1 MB each); smaller shards resume at a finer grain."}),
            },
        }

    @staticmethod
    def _folders(dataset_name: str, folder_name: str) -> tuple[str, str]:
        grids = resolve_inside(host.input_directory(), dataset_name.strip() or ".", "dataset_name")
        out_root = host.output_directory()
        shards = resolve_inside(out_root, folder_name.strip() or ".", "folder_name")
        if shards == os.path.realpath(out_root):
            raise DrawAVideoError(f"folder_name {folder_name!r} is ComfyUI's output folder itself; name a folder inside it, e.g. {DEFAULT_SHARD_FOLDER!r}.")
        return grids, shards

    @classmethod
    def IS_CHANGED(cls, dataset_name=DEFAULT_DATASET_NAME, folder_name=DEFAULT_SHARD_FOLDER, **kwargs):
        try:
            grids, shards = cls._folders(dataset_name, folder_name)
        except DrawAVideoError:
            return float("nan")
        digest = hashlib.sha256()
        for folder in (grids, shards):
            if os.path.isdir(folder):  # new grids, or shards deleted, re-run it
                digest.update(repr(_fingerprint(folder, False)).encode())
        return digest.hexdigest()

    def encode(self, dataset_name, vae, clip, folder_name, shard_size):
        grids_dir, shards_dir = self._folders(dataset_name, folder_name)
        grids = list_grids(grids_dir)  # read once: the progress bar's length and the work
        progress = host.Progress(max(len(grids), 1))
        summary = encode_grid_dataset(
            grids_dir, shards_dir,
            encode_image=lambda image: host.vae_encode(vae, image),
            encode_text=lambda text: host.encode_text(clip, text),
            shard_size=shard_size, on_grid=progress.update, check_cancel=host.check_interrupted, grids=grids,
        )
        text = summary.describe()
        return {"ui": {"text": [text]}, "result": (os.path.relpath(shards_dir, os.path.realpath(host.output_directory())).replace(os.sep, "/"), text)}


NODE_CLASS_MAPPINGS = {
    "DrawAVideo_VideosToGridDataset": VideosToGridDatasetNode,
    "DrawAVideo_EncodeGridDataset": EncodeGridDatasetNode,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "DrawAVideo_VideosToGridDataset": "Videos to Grid Dataset (Draw-a-Video)",
    "DrawAVideo_EncodeGridDataset": "Encode Grid Dataset to Shards (Draw-a-Video)",
}
