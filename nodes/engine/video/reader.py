"""Read video frames one at a time, decoded by the ffmpeg that imageio-ffmpeg ships.

Frames are picked inside ffmpeg (a `select` filter), so a stride of 10 converts
and pipes a tenth of the frames, and a clip is never held in memory whole.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import imageio_ffmpeg
import numpy as np

from ..errors import DrawAVideoError

SWS_FLAGS = "bicubic+accurate_rnd+full_chroma_int"


class _ResizeWarningFilter(logging.Filter):
    """imageio-ffmpeg warns whenever frames come out at another size than the source's. Ours are
    fitted to the cell on purpose, so that warning would only fill ComfyUI's console, once per clip;
    it is dropped while (and only while) this thread opens a fitting reader."""

    fitting = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.fitting, "on", False) or "frame size for reading" not in record.getMessage()


_resize_warning = _ResizeWarningFilter()
logging.getLogger("imageio_ffmpeg").addFilter(_resize_warning)


@dataclass(frozen=True)
class VideoInfo:
    path: str
    width: int
    height: int
    fps: float
    duration: float  # seconds; 0 when the container doesn't say

    @property
    def estimated_frames(self) -> int:
        return round(self.fps * self.duration)


def _open(path: str, output_params: list[str] | None = None, resizes: bool = False):
    if not os.path.isfile(path):
        raise DrawAVideoError(f"video file {path!r} does not exist; check the file name and folder.")
    # Accurate YUV->RGB: ffmpeg's default fast conversion is off by ~1.5/255 (green reads dark).
    # The matrix and range still come from the file's own colour tags.
    frames = imageio_ffmpeg.read_frames(path, output_params=(output_params or []) + ["-sws_flags", SWS_FLAGS])
    _resize_warning.fitting.on = resizes
    try:
        meta = next(frames)  # ffmpeg's header is parsed here
    except (OSError, RuntimeError, StopIteration) as exc:
        frames.close()
        raise DrawAVideoError(f"cannot read video {os.path.basename(path)!r}: ffmpeg found no video stream ({str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}).") from None
    finally:
        _resize_warning.fitting.on = False
    return meta, frames


def probe(path: str) -> VideoInfo:
    """Size, frame rate and duration of a video file, without decoding its frames."""
    meta, frames = _open(path)
    frames.close()
    width, height = meta["size"]
    return VideoInfo(path, int(width), int(height), float(meta.get("fps") or 0.0), float(meta.get("duration") or 0.0))


def iter_frames(
    path: str, stride: int = 1, skip: int = 0, cap: int | None = None, size: tuple[int, int] | None = None,
    analysis: str | None = None, header: dict | None = None, thumbs: str | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (source frame index, HxWx3 uint8 RGB) for frames skip, skip+stride, ... (at most `cap`).

    With `size` = (width, height) ffmpeg also fits each picked frame to that size: scaled to cover
    it (aspect kept, Lanczos) and centre-cropped, as resize.fit_frame does, so only cell-sized
    frames are piped to Python. A file that ends early (truncated) yields what ffmpeg could decode.
    `analysis` is an ffmpeg filter chain that also sees every decoded frame, in the same decoding
    pass, on a branch of its own (shots.analysis_filter: it prints per-frame measurements to a file).
    With `thumbs`, a file path, that branch's last picture of every frame is also written there, raw
    yuv420p as it is (its luma: shots.ShotLog's statistics and dissolve test; analysis_filter ends at 64x48).
    `header`, a dict, receives what ffmpeg says of the file (its "fps" and "duration") once it is open.
    """
    if stride < 1 or skip < 0 or (cap is not None and cap < 0):
        raise DrawAVideoError(f"stride must be >= 1, skip >= 0 and cap >= 0 (got stride={stride}, skip={skip}, cap={cap}).")
    if cap == 0:
        return
    # n is the decoded frame number; passthrough keeps ffmpeg from duplicating or dropping frames.
    filters = f"select='gte(n\\,{skip})*not(mod(n-{skip}\\,{stride}))'"
    if size is not None:
        width, height = size
        filters += f",scale={width}:{height}:force_original_aspect_ratio=increase:flags=lanczos,crop={width}:{height}"
    if bool(analysis) != bool(thumbs) or (thumbs and size is None):
        raise DrawAVideoError("iter_frames: `analysis` and `thumbs` go together, and need a size for the picked frames.")
    if analysis:
        yield from _with_thumbs(path, skip, stride, cap, size, analysis, filters, header, thumbs)
        return
    graph = ["-vf", filters, "-fps_mode", "passthrough"]
    meta, frames = _open(path, graph, resizes=size is not None)
    if header is not None:
        header.update(meta)
    width, height = meta["size"]
    try:
        for count, raw in enumerate(frames):
            yield skip + count * stride, np.frombuffer(raw, np.uint8).reshape(height, width, 3)
            if cap is not None and count + 1 >= cap:
                break
    except RuntimeError as exc:  # a frame cut short: the file is damaged past this point
        raise DrawAVideoError(f"video {os.path.basename(path)!r} is damaged: {str(exc).splitlines()[0]}") from None
    finally:
        frames.close()


def _with_thumbs(path, skip, stride, cap, size, analysis, filters, header, thumbs) -> Iterator[tuple[int, np.ndarray]]:
    """iter_frames with a second output: the analysis branch's picture of every frame, raw yuv420p, to
    `thumbs`. imageio-ffmpeg reads one output and learns its frame size from ffmpeg's log, which
    prints outputs in the order they start, not in command order; so ffmpeg is run here, with the
    same decoding and the same conversion, reading frames of the size we asked for. What ffmpeg says
    of the input (frame rate, duration) goes into `header` when the frames end."""
    if not os.path.isfile(path):
        raise DrawAVideoError(f"video file {path!r} does not exist; check the file name and folder.")
    width, height = size
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-i", path,
               "-filter_complex", f"[0:v]split=2[pick][probe];[probe]{analysis}[thumbs];[pick]{filters}[out]",
               "-map", "[out]", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-sws_flags", SWS_FLAGS, "pipe:1",
               "-map", "[thumbs]", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-y", thumbs]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _widen(process.stdout)
    head: list[str] = []  # what ffmpeg says of the input comes first; a damaged file may add thousands of lines
    log: deque[str] = deque(maxlen=50)

    def listen() -> None:
        for line in process.stderr:
            (head if len(head) < 100 else log).append(line.decode("utf-8", "replace").rstrip())

    drain = threading.Thread(target=listen, daemon=True)
    drain.start()
    frame_bytes = width * height * 3
    count = 0
    try:
        while cap is None or count < cap:
            raw = process.stdout.read(frame_bytes)
            if len(raw) < frame_bytes:
                break
            yield skip + count * stride, np.frombuffer(raw, np.uint8).reshape(height, width, 3)
            count += 1
    finally:
        finished = process.poll() is not None or (cap is None or count < cap)
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        code = process.wait()
        drain.join(timeout=5)
        said = "\n".join(head)
        if header is not None:
            header.update(_input_facts(said), size=size)
    if count == 0 and finished and code != 0:
        problem = next((line for line in [*head, *log] if "Error" in line or "Invalid" in line or "No such" in line), "no detail")
        problem = re.sub(r"\[[^\]]* @ 0x[0-9a-f]+\]\s*", "", problem)  # "[in#0 @ 0x55...]": differs from run to run
        raise DrawAVideoError(f"cannot read video {os.path.basename(path)!r}: ffmpeg found no video stream ({problem.strip()}).")
    if finished and len(raw) not in (0, frame_bytes):
        raise DrawAVideoError(f"video {os.path.basename(path)!r} is damaged: frame {count} was cut short")


def _widen(pipe) -> None:
    """A 1 MiB pipe (Linux; 64 KiB is the default) holds a few picked frames, so ffmpeg decodes on while
    Python judges grids, instead of waiting mid-frame. Elsewhere, or when refused, the pipe stays as it is."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def _input_facts(said: str) -> dict:
    """Frame rate and duration of the input, from ffmpeg's log of it (as imageio-ffmpeg reads them)."""
    facts = {"fps": 0.0, "duration": 0.0}
    duration = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", said)
    if duration:
        hours, minutes, seconds = duration.groups()
        facts["duration"] = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    stream = next((line for line in said.splitlines() if line.lstrip().startswith("Stream #0:") and " Video: " in line), "")
    rate = re.search(r" (\d+(?:\.\d+)?) fps", stream) or re.search(r" (\d+(?:\.\d+)?) tbr", stream)
    if rate:
        facts["fps"] = float(rate.group(1))
    return facts
