"""Nodes that build training data: videos -> captioned grid images for a "draw video on one image" LoRA."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import torch
from PIL import Image

from . import host
from .engine.dataset import build_grid_dataset, find_videos, video_folders
from .engine.errors import DrawAVideoError
from .engine.files import resolve_inside
from .engine.prompt import DEFAULT_SUBJECT, DEFAULT_TEMPLATE
from .engine.shots import DEFAULT_CUT_THRESHOLD
from .grid_nodes import LAYOUT_INPUT

CATEGORY = "Draw-a-Video/training"
DEFAULT_DATASET_NAME = "draw_a_video_grids"


def _load_grid(path: str) -> torch.Tensor:
    """A dataset png as a one-image ComfyUI IMAGE [1,H,W,3] float."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(pixels)[None]


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
        "Connect images and captions to MakeTrainingDataset (images, texts), then TrainLoraNode and SaveLoRA. "
        "Memory: every grid output is held as a float image (1280x768 = 11.8 MB each; 2,800 grids = 33 GB). For "
        "big datasets turn output_images off and train from the folder with 'Load Image and Text Dataset from "
        "Folder' instead (refresh the page so it lists the new folder)."
    )
    CATEGORY = CATEGORY
    FUNCTION = "build"
    OUTPUT_NODE = True  # it writes the dataset folder even when nothing is connected
    RETURN_TYPES = ("IMAGE", "STRING", "STRING")
    RETURN_NAMES = ("images", "captions", "summary")
    OUTPUT_IS_LIST = (True, True, False)
    OUTPUT_TOOLTIPS = (
        "The grids, one image each (a list, as MakeTrainingDataset's images input takes it); empty when output_images is off.",
        "One caption per grid, in the same order (connect to MakeTrainingDataset's texts); empty when output_images is off.",
        "What was done, per video: grids kept; grids skipped with the reason and frames (cut at frame 98, fade from black, frames 0-9); clips too short; unreadable or damaged files and where decoding failed.",
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
                "cut_threshold": ("FLOAT", {"default": DEFAULT_CUT_THRESHOLD, "min": 0.0, "max": 100.0, "step": 0.5, "tooltip": "Every source frame is checked with ffmpeg's scene detector (scdet, 0..100): a grid over a frame scoring this or more (a cut), over blank frames or over a fade to/from black or white is skipped, and the summary says where. Cuts score ~10-40 even between dark shots; motion stays below ~4. 0 = no checks. Lower it if cuts get through, raise it if fast pans get skipped."}),
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
                images.append(_load_grid(grid.image))
            captions = summary.captions
        return {"ui": {"text": [text]}, "result": (images, captions, text)}


NODE_CLASS_MAPPINGS = {
    "DrawAVideo_VideosToGridDataset": VideosToGridDatasetNode,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "DrawAVideo_VideosToGridDataset": "Videos to Grid Dataset (Draw-a-Video)",
}
