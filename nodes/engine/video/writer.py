"""Write an image batch to a video file, one frame at a time, with the ffmpeg imageio-ffmpeg ships.

Each frame is converted on its own (float 0..1 -> uint8, NaN -> 0, clamped; alpha kept
only where the format has it; an odd size padded to even by repeating the last row or
column where 4:2:0 needs it) and piped to ffmpeg, so memory beyond the input batch stays
about one frame however long the clip. Format details (codec, quality scale, colour
tags, loop option) come from the format's JSON file (see formats.py).

    from draw_a_video.nodes.engine.video.formats import get_format
    write_video(frames, "/tmp/clip.mp4", get_format("mp4 (h264)"), fps=8, quality=85,
                metadata={"workflow": json.dumps(workflow)})

Write to a temp name and publish it with engine.files.publish_atomically: if this raises
(bad input, ffmpeg failure, or `on_frame` raising to cancel) the file is incomplete.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import imageio_ffmpeg
import numpy as np
import torch

from ..errors import DrawAVideoError
from .formats import VideoFormat

logger = logging.getLogger("DrawAVideo")

_METADATA_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class WrittenVideo:
    frames: int  # frames written (pingpong included)
    width: int  # size in the file (after any even-size padding)
    height: int
    padded: bool


def frame_order(count: int, pingpong: bool = False) -> list[int]:
    """Frame indices to write: 0..n-1, then for pingpong n-2..1 (the turning frames not doubled).

    >>> frame_order(4, pingpong=True)
    [0, 1, 2, 3, 2, 1]
    """
    forward = list(range(count))
    return forward + forward[-2:0:-1] if pingpong else forward


def written_frame_count(count: int, pingpong: bool = False) -> int:
    return len(frame_order(count, pingpong))


def check_images(images, what: str = "images") -> torch.Tensor:
    """The batch as a [B,H,W,C] tensor (C = 1, 3 or 4), or a DrawAVideoError saying what is wrong."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise DrawAVideoError(f"{what} must be an IMAGE batch (a [frames, height, width, channels] tensor), got {type(images).__name__}; connect an IMAGE output.")
    if images.ndim == 3 and images.shape[-1] in (1, 3, 4):
        raise DrawAVideoError(f"{what} has shape {tuple(images.shape)}: a single image without a batch dimension; an IMAGE batch is [frames, height, width, channels].")
    if images.ndim == 4 and images.shape[0] == 0:  # before the shape checks: an empty batch may be (0, 3, 0, 0)
        raise DrawAVideoError(f"{what} is an empty batch (0 frames); connect a node that outputs at least one frame.")
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise DrawAVideoError(f"{what} has shape {tuple(images.shape)} but an IMAGE batch is [frames, height, width, 3] (1 or 4 channels also work); is this a MASK or LATENT?")
    if images.shape[1] < 1 or images.shape[2] < 1:
        raise DrawAVideoError(f"{what} frames are {images.shape[2]}x{images.shape[1]} px; they need at least 1 px each way.")
    if not (images.dtype.is_floating_point or images.dtype == torch.uint8):
        raise DrawAVideoError(f"{what} has dtype {images.dtype}; an IMAGE is float 0..1 (or uint8 0..255).")
    return images


def check_settings(fmt: VideoFormat, fps: float, quality: float, loop_count: int) -> list[str]:
    """Refuse a bad fps, quality or loop_count before anything is written; returns the ffmpeg options."""
    if not math.isfinite(fps) or fps <= 0:
        raise DrawAVideoError(f"fps is {fps} but must be a positive number of frames per second.")
    return fmt.ffmpeg_params(quality, loop_count)


def to_uint8(frame: torch.Tensor, channels: int, scratch: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """One [H,W,C] frame as HxWx`channels` uint8: x*255 rounded, NaN -> 0, clamped to 0..255.

    Pass `scratch` (float32) and `out` (uint8) of that shape to reuse them frame after frame:
    an in-range CPU frame then costs two numpy passes, two SIMD reductions and a SIMD cast,
    single-threaded and without allocation (fresh 700 KB temporaries and torch's thread pool,
    next to a busy encoder, made it 5-40x slower). The result is `out`: send it before
    converting the next frame.
    """
    frame = frame.detach()[..., :channels]
    if frame.dtype == torch.uint8:
        return np.ascontiguousarray(frame.cpu().numpy())
    if frame.device.type != "cpu":  # convert on the GPU, move a quarter of the bytes
        frame = torch.nan_to_num(frame.float(), nan=0.0, posinf=1.0, neginf=0.0).clamp_(0.0, 1.0)
        return np.ascontiguousarray(frame.mul_(255.0).add_(0.5).to(torch.uint8).cpu().numpy())
    values = frame.to(torch.float32).numpy()  # a view for float32 input
    scratch = np.empty(values.shape, np.float32) if scratch is None else scratch
    out = np.empty(values.shape, np.uint8) if out is None else out
    np.multiply(values, 255.0, out=scratch)
    # Frames are nearly always in range already (ComfyUI's VAE decode clamps): two SIMD reads of
    # the cached result check that, and skip the clamp. A NaN fails both tests (and survives clip).
    if not (scratch.min() >= 0.0 and scratch.max() <= 255.0):
        np.clip(scratch, 0.0, 255.0, out=scratch)
        if np.isnan(scratch.max()):
            np.nan_to_num(scratch, copy=False, nan=0.0)
    scratch += 0.5
    np.copyto(out, scratch, casting="unsafe")  # truncation after the +0.5 rounds half up
    return out


def pad_to_even(frame: np.ndarray) -> np.ndarray:
    """Repeat the last row and/or column so both sides are even (4:2:0 chroma needs pairs)."""
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _pix_fmt_in(channels: int) -> str:
    return {1: "gray", 3: "rgb24", 4: "rgba"}[channels]


@functools.cache  # `ffmpeg -version` is a subprocess; the bundled binary doesn't change while we run
def _ffmpeg_major() -> int:
    match = re.search(r"(\d+)\.\d+", imageio_ffmpeg.get_ffmpeg_version() or "")
    return int(match.group(1)) if match else 99  # git snapshots ("N-1234-g...") are recent


def _metadata_params(metadata: dict[str, str], folder: str) -> list[str]:
    """-metadata options. From ffmpeg 7 on, each value is read from a file (`-/metadata file`),
    so a workflow of any size fits (one command-line argument is capped at 128 KiB on Linux)."""
    params = []
    from_files = _ffmpeg_major() >= 7
    for number, (key, value) in enumerate(metadata.items()):
        if not _METADATA_KEY.match(key):
            raise DrawAVideoError(f"metadata key {key!r} must be letters, digits, '_', '.' or '-'.")
        if from_files:
            path = os.path.join(folder, f"{number}.txt")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(f"{key}={value}")
            params += ["-/metadata", path]
        else:
            params += ["-metadata", f"{key}={value}"]
    return params


def webp_exif(metadata: dict[str, str]) -> bytes:
    """EXIF (TIFF) bytes laid out as ComfyUI's SaveAnimatedWEBP writes them, which its editor reads back
    on drop: "prompt:<json>" in Model (0x0110), each other key as "key:<json>" from Make (0x010F) down."""
    from PIL import Image

    exif, tag = Image.Exif(), 0x010F
    for key, value in metadata.items():
        if key == "prompt":
            exif[0x0110] = f"prompt:{value}"
        else:
            exif[tag] = f"{key}:{value}"
            tag -= 1
    data = exif.tobytes()
    return data[6:] if data.startswith(b"Exif\x00\x00") else data  # a WebP EXIF chunk holds bare TIFF


def _extended_webp(data: bytes, width: int, height: int) -> bytes:
    """A simple (single-image VP8/VP8L) WebP rewritten with a VP8X header, so flags and EXIF can be added.

    ffmpeg's muxer writes the simple form when the clip is one still picture (every frame alike).
    """
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + canvas
    body = b"WEBP" + vp8x + data[12:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


def finish_webp(path: str, alpha: bool, exif: bytes | None, width: int, height: int) -> None:
    """Complete the extended-WebP header ffmpeg's webp muxer leaves short, in place.

    ffmpeg never sets the VP8X alpha flag, so readers that trust it (Pillow, libwebp's demuxer)
    show transparent frames opaque; and the muxer writes no EXIF. Appends an EXIF chunk (chunks
    after the frames, as the WebP container spec orders them), fixes the RIFF size, sets the flags.
    """
    with open(path, "r+b") as handle:
        header = handle.read(16)
        if len(header) < 16 or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
            raise DrawAVideoError("ffmpeg did not write a webp file; see its message in the console.")
        if header[12:16] in (b"VP8 ", b"VP8L"):
            handle.seek(0)
            extended = _extended_webp(handle.read(), width, height)
            handle.seek(0)
            handle.write(extended)
            handle.truncate()
        handle.seek(20)
        flags = handle.read(1)[0] | (0x10 if alpha else 0)
        if exif:
            flags |= 0x08
            end = handle.seek(0, os.SEEK_END)
            padding = b"\0" * (end % 2)  # RIFF chunks start on even offsets
            handle.write(padding + b"EXIF" + struct.pack("<I", len(exif)) + exif + b"\0" * (len(exif) % 2))
            riff_size = handle.tell() - 8
            handle.seek(4)
            handle.write(struct.pack("<I", riff_size))
        handle.seek(20)
        handle.write(bytes([flags]))


def write_video(
    images,
    path: str,
    fmt: VideoFormat,
    fps: float,
    quality: float = 85,
    loop_count: int = 0,
    pingpong: bool = False,
    metadata: dict[str, str] | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> WrittenVideo:
    """Encode `images` ([B,H,W,C] float 0..1) to `path` in `fmt`, streaming frame by frame.

    `metadata` (key -> text) is embedded as the format's JSON says: container tags (mp4, webm),
    an EXIF chunk (webp), or not at all (gif). `on_frame(n)`
    is called after the n-th frame reached ffmpeg: use it for progress, and raise from it
    to cancel. On any exception ffmpeg is stopped before this returns; delete `path` then.
    """
    images = check_images(images)
    params = check_settings(fmt, fps, quality, loop_count)
    count, height, width, source_channels = images.shape
    channels = source_channels if source_channels != 4 or fmt.alpha else 3
    padded = fmt.even_size and (height % 2 or width % 2)
    out_w, out_h = width + (width % 2 if padded else 0), height + (height % 2 if padded else 0)
    if padded:
        logger.info("Draw-a-Video: %s needs even sides; padding %dx%d frames to %dx%d by repeating the edge pixels.", fmt.label, width, height, out_w, out_h)

    tag_folder = tempfile.mkdtemp(prefix="drawavideo-tags-") if metadata and fmt.metadata == "tags" else None
    try:
        if tag_folder:
            params += _metadata_params(metadata, tag_folder)
        writer = imageio_ffmpeg.write_frames(
            path, (out_w, out_h), pix_fmt_in=_pix_fmt_in(channels), pix_fmt_out=fmt.pix_fmt, fps=float(fps),
            codec=fmt.codec, quality=None, macro_block_size=1, ffmpeg_log_level="error", output_params=params,
        )
        written = 0
        try:
            writer.send(None)  # starts ffmpeg
            scratch = np.empty((height, width, channels), np.float32)
            converted = np.empty((height, width, channels), np.uint8)
            for index in frame_order(count, pingpong):
                frame = to_uint8(images[index], channels, scratch, converted)
                if padded:
                    frame = pad_to_even(frame)
                writer.send(frame)
                written += 1
                if on_frame is not None:
                    on_frame(written)
        except OSError as exc:  # ffmpeg quit: its own message went to the console (stderr)
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DrawAVideoError(f"ffmpeg stopped while writing frame {written + 1} of the {fmt.label} file ({detail}); its message is in the console above.") from None
        finally:
            writer.close()  # ends ffmpeg: on success it finishes the file, on error the caller deletes it
    finally:
        if tag_folder:
            shutil.rmtree(tag_folder, ignore_errors=True)
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise DrawAVideoError(f"ffmpeg wrote no {fmt.label} file; its message is in the console above.")
    if fmt.extension == "webp":
        exif = webp_exif(metadata) if metadata and fmt.metadata == "webp_exif" else None
        finish_webp(path, alpha=channels == 4, exif=exif, width=out_w, height=out_h)
    return WrittenVideo(written, out_w, out_h, bool(padded))
