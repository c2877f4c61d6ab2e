"""Decode a saved image or video file back and report what it really holds.

Loaded by tests/integration/conftest.py; tests use it through `comfy_server.fetch_media(item)`.
Videos (mp4, webm, mkv, ...) are decoded frame by frame with the ffmpeg imageio-ffmpeg ships, so
the count is what a player shows, not what a header claims; images (png, gif, webp, animated or
not) are read with Pillow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}


@dataclass(frozen=True)
class Media:
    frames: int
    width: int
    height: int
    path: Path

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def probe(path: Path) -> Media:
    path = Path(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        from PIL import Image

        with Image.open(path) as image:
            return Media(getattr(image, "n_frames", 1), image.width, image.height, path)
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
        frames = sum(1 for _ in reader)
    finally:
        reader.close()
    width, height = meta["size"]
    return Media(frames, width, height, path)
