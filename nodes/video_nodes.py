"""Nodes that save frames as a video file and load a video's frames."""

from __future__ import annotations

import hashlib
import json
import os

import torch

from . import host
from .engine.errors import DrawAVideoError
from .engine.files import list_files, output_target, publish_atomically, resolve_inside, staged_file
from .engine.video.formats import DEFAULT_FORMAT, FORMATS, get_format
from .engine.video.reader import iter_frames, probe
from .engine.video.writer import check_images, check_settings, write_video, written_frame_count
from .grid_nodes import LAYOUT_TYPE

CATEGORY = "Draw-a-Video/video"
VIDEO_EXTENSIONS = ("mp4", "webm", "mkv", "mov", "avi", "m4v", "gif", "webp", "mpg", "mpeg", "wmv", "flv", "ts")
MAX_FRAMES = 1_000_000


def video_metadata(prompt=None, extra_pnginfo=None, layout=None) -> dict[str, str]:
    """Text tags for a saved file, keyed as ComfyUI's own SaveVideo keys them (prompt, workflow, ...)."""
    if host.metadata_disabled():
        return {}
    tags = {}
    if prompt is not None:
        tags["prompt"] = json.dumps(prompt)
    for key, value in (extra_pnginfo or {}).items():
        tags[key] = json.dumps(value)
    if layout is not None:
        tags["grid_layout"] = layout.to_json()
    return tags


class SaveVideoNode:
    """Saves the frames as mp4 (h264), webm (vp9), gif or animated webp, without overwriting anything.

    What each format carries (unless ComfyUI runs with --disable-metadata):
    - mp4 and webm: the prompt, the workflow (and any other extra_pnginfo entry) and the grid
      layout as JSON text tags "prompt", "workflow", "grid_layout" -- the keys ComfyUI's own
      SaveVideo writes. They are tagged BT.709, limited ("tv") range, which is what they hold.
    - webp: the same entries in an EXIF chunk, laid out as ComfyUI's SaveAnimatedWEBP does
      ("prompt:<json>" in Model, "workflow:<json>" in Make, "grid_layout:<json>" next), so
      dropping the file on ComfyUI loads the workflow. Transparency (a 4th channel) is kept.
    - gif: nothing -- ffmpeg's gif muxer writes no text. Delays are in 1/100 s (8 fps -> 8.33).
    """

    DESCRIPTION = (
        "Saves the frames (e.g. from Split Image Grid into Frames) as a video in ComfyUI's output folder and shows it "
        "in the node. Frames are streamed to ffmpeg one at a time, so long clips don't use extra memory; an existing "
        "file is never overwritten (names count up: video_00001_.mp4, video_00002_.mp4, ...), and a failed or "
        "cancelled save leaves no partial file. mp4, webm and webp embed the prompt, workflow and grid layout."
    )
    CATEGORY = CATEGORY
    FUNCTION = "save"
    OUTPUT_NODE = True
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("path",)
    OUTPUT_TOOLTIPS = ("Full path of the saved video file.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The frames, in playing order."}),
                "fps": ("FLOAT", {"default": 8.0, "min": 0.01, "max": 240.0, "step": 0.5, "tooltip": "Frames per second. The method's grids hold every 10th frame of 30 fps footage: 3 fps plays them at real speed, 8 fps faster."}),
                "format": (list(FORMATS), {"default": DEFAULT_FORMAT, "tooltip": "mp4 (h264) plays everywhere; webm (vp9) is smaller; gif and animated webp play as images (webp keeps transparency). gif embeds no workflow."}),
                "quality": ("INT", {"default": 85, "min": 0, "max": 100, "step": 1, "tooltip": "0 = smallest file, 100 = best picture. Mapped per format: h264 crf 51..12 (85 -> 18), vp9 crf 63..12, gif 16..256 colours, webp quality 0..100."}),
                "loop_count": ("INT", {"default": 0, "min": 0, "max": 65535, "tooltip": "gif and webp only: how many times the animation plays; 0 = forever. mp4 and webm ignore it (the player decides)."}),
                "pingpong": ("BOOLEAN", {"default": False, "tooltip": "Play forward then backward (the first and last frames are not doubled), for a seamless loop."}),
                "filename_prefix": ("STRING", {"default": "DrawAVideo/video", "tooltip": "File name start, inside the output folder; may hold subfolders and %width% %height% %year% %month% %day% %hour% %minute% %second%. A number is appended: video_00001_.mp4."}),
                "save_output": ("BOOLEAN", {"default": True, "tooltip": "On: save to the output folder. Off: write a preview to ComfyUI's temp folder (cleared on restart)."}),
            },
            "optional": {
                "layout": (LAYOUT_TYPE, {"tooltip": "Optional grid layout (from Grid Layout); its JSON is embedded (mp4, webm, webp) as 'grid_layout'."}),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    def save(self, images, fps, format, quality, loop_count, pingpong, filename_prefix, save_output=True, layout=None, prompt=None, extra_pnginfo=None):
        images = check_images(images)
        fmt = get_format(format)
        check_settings(fmt, fps, quality, loop_count)  # before a folder is made
        kind = "output" if save_output else "temp"
        folder, name, subfolder = output_target(host.directory_for(kind), filename_prefix, images.shape[2], images.shape[1])
        on_frame = host.Progress(written_frame_count(images.shape[0], pingpong)).step
        host.check_interrupted()
        with staged_file(folder, fmt.extension) as temp:
            write_video(images, temp, fmt, fps, quality, loop_count, pingpong, video_metadata(prompt, extra_pnginfo, layout), on_frame)
            path = publish_atomically(temp, folder, name, fmt.extension)
        preview = {"filename": os.path.basename(path), "subfolder": subfolder, "type": kind, "format": fmt.mime}
        return {"ui": {"images": [preview], "animated": [True]}, "result": (path,)}


def _input_video_path(video: str) -> str:
    """Full path of a video named relative to the input folder; refuses names that leave it."""
    name = str(video)
    if name.endswith(" [input]"):  # how ComfyUI annotates uploaded files
        name = name[: -len(" [input]")]
    return resolve_inside(host.input_directory(), name, "video")


def _existing_input_video(video: str) -> str:
    """_input_video_path, refusing a file that is not there (checked before a run and at its start)."""
    path = _input_video_path(video)
    if not os.path.isfile(path):
        raise DrawAVideoError(f"video {video!r} is not in the input folder; upload it or pick another file.")
    return path


class LoadVideoFramesNode:
    DESCRIPTION = (
        "Loads frames of a video from ComfyUI's input folder (upload with the button): every stride-th frame after "
        "skip_first, at most frame_cap. Connect a layout to fit each frame to its cell size (scaled to cover, "
        "centre-cropped, aspect kept), e.g. to build grids of real footage with Frames to Grid Image."
    )
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = ("IMAGE", "FLOAT", "INT")
    RETURN_NAMES = ("frames", "fps", "frame_count")
    OUTPUT_TOOLTIPS = (
        "The chosen frames, as one image batch.",
        "Frame rate of the chosen frames: the source fps divided by stride.",
        "How many frames were loaded.",
    )

    @classmethod
    def INPUT_TYPES(cls):
        files = list_files(host.input_directory(), VIDEO_EXTENSIONS)
        return {
            "required": {
                "video": (files, {"video_upload": True, "tooltip": "A video in ComfyUI's input folder (subfolders too); upload one with the button."}),
                "stride": ("INT", {"default": 1, "min": 1, "max": 1000, "tooltip": "Take every Nth frame (1 = all). The method trains on every 10th frame."}),
                "skip_first": ("INT", {"default": 0, "min": 0, "max": MAX_FRAMES, "tooltip": "Frames to skip at the start before taking any."}),
                "frame_cap": ("INT", {"default": 0, "min": 0, "max": MAX_FRAMES, "tooltip": "Most frames to load (0 = all that remain)."}),
            },
            "optional": {
                "layout": (LAYOUT_TYPE, {"tooltip": "Optional grid layout: each frame is resized and centre-cropped to its cell size (aspect kept)."}),
            },
        }

    @classmethod
    def IS_CHANGED(cls, video, **kwargs):
        try:
            stat = os.stat(_input_video_path(video))
        except (OSError, DrawAVideoError):
            return ""
        return hashlib.sha256(f"{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()

    @classmethod
    def VALIDATE_INPUTS(cls, video):
        try:
            _existing_input_video(video)
        except DrawAVideoError as exc:
            return str(exc)
        return True

    def load(self, video, stride=1, skip_first=0, frame_cap=0, layout=None):
        path = _existing_input_video(video)
        info = probe(path)
        expected = max(0, -(-(info.estimated_frames - skip_first) // stride))
        progress = host.Progress(min(expected, frame_cap) if frame_cap else expected)
        frames = []  # uint8, a quarter of the float batch they become
        cell = (layout.cell_width, layout.cell_height) if layout is not None else None  # ffmpeg fits frames to it
        for _, frame in iter_frames(path, stride=stride, skip=skip_first, cap=frame_cap or None, size=cell):
            frames.append(frame)
            progress.step()
        if not frames:
            raise DrawAVideoError(f"no frames loaded from {video!r}: it has about {info.estimated_frames} frames and skip_first is {skip_first}; lower skip_first.")
        height, width = frames[0].shape[:2]
        batch = torch.empty((len(frames), height, width, 3), dtype=torch.float32)
        array = batch.numpy()
        for index in range(len(frames)):
            array[index] = frames[index]  # uint8 -> float32 in place
            frames[index] = None
        batch.div_(255.0)
        return (batch, info.fps / stride, len(frames))


NODE_CLASS_MAPPINGS = {
    "DrawAVideo_SaveVideo": SaveVideoNode,
    "DrawAVideo_LoadVideoFrames": LoadVideoFramesNode,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "DrawAVideo_SaveVideo": "Save Video (Draw-a-Video)",
    "DrawAVideo_LoadVideoFrames": "Load Video Frames (Draw-a-Video)",
}
