"""Video formats described as data: one small JSON file per format in formats/.

Adding a format means adding a JSON file, not a branch in the writer. Keys:

    label       the text in Save Video's format dropdown, e.g. "mp4 (h264)"
    order       position in the dropdown (the lowest is the default)
    extension   file extension without the dot;  mime: the type the browser gets
    codec       ffmpeg encoder (-c:v);  pix_fmt: the pixel format it stores (-pix_fmt)
    alpha       true if the format keeps a 4th (alpha) channel; otherwise it is dropped
    even_size   true if the pix_fmt needs even width and height (4:2:0 chroma)
    colour      optional {matrix, primaries, transfer, range}: RGB is converted to YUV
                explicitly with that matrix and range, and the stream is tagged with all four
    quality     {maps_to, worst, best}: Save Video's quality 0..100 maps linearly from
                `worst` (0) to `best` (100), rounded; "{quality}" in params/filters is replaced
    filters     optional ffmpeg filter chains (-vf), run after the colour conversion
    params      further ffmpeg output options
    loop        optional {option, forever, once, offset}: how a play count is written
                (0 -> forever, 1 -> once, n -> n + offset); formats without it don't loop
    metadata    "tags" (ffmpeg -metadata key=value, mp4/webm), "webp_exif" (an EXIF chunk as
                ComfyUI's own animated WEBP carries it) or "none"
    notes       free text for people reading the file

>>> fmt = FORMATS["mp4 (h264)"]
>>> fmt.quality_value(85), fmt.extension, fmt.has_colour
(18, 'mp4', True)
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field

from ..errors import DrawAVideoError

FORMATS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "formats")
METADATA_KINDS = ("tags", "webp_exif", "none")
_REQUIRED = ("label", "extension", "mime", "codec", "pix_fmt", "quality")


@dataclass(frozen=True)
class VideoFormat:
    label: str
    extension: str
    mime: str
    codec: str
    pix_fmt: str
    quality: dict
    order: int = 100
    alpha: bool = False
    even_size: bool = False
    colour: dict | None = None
    filters: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    loop: dict | None = None
    metadata: str = "none"
    notes: str = ""
    source: str = field(default="", compare=False)

    @property
    def has_colour(self) -> bool:
        return self.colour is not None

    def quality_value(self, quality: float) -> int:
        """Save Video's 0..100 quality in this format's own unit (crf, palette size, ...)."""
        if not 0 <= quality <= 100:
            raise DrawAVideoError(f"quality is {quality} but must be between 0 and 100.")
        worst, best = self.quality["worst"], self.quality["best"]
        return math.floor(worst + (best - worst) * quality / 100 + 0.5)

    def loop_value(self, loop_count: int) -> int | None:
        """The muxer's loop number for 'play loop_count times, 0 = forever'; None if the format doesn't loop."""
        if self.loop is None:
            return None
        if loop_count < 0:
            raise DrawAVideoError(f"loop_count is {loop_count} but must be 0 (forever) or more.")
        if loop_count == 0:
            return self.loop["forever"]
        if loop_count == 1:
            return self.loop["once"]
        return loop_count + self.loop["offset"]

    def colour_filters(self) -> list[str]:
        """Explicit RGB->YUV conversion, then the frame tags ffmpeg >= 7 takes the stream's colour from."""
        if self.colour is None:
            return []
        c = self.colour
        return [
            f"scale=out_color_matrix={c['matrix']}:out_range={c['range']}:flags=bicubic+accurate_rnd+full_chroma_int",
            f"setparams=color_primaries={c['primaries']}:color_trc={c['transfer']}:colorspace={c['matrix']}:range={c['range']}",
        ]

    def colour_params(self) -> list[str]:
        """The same tags as encoder options, for ffmpeg builds that take them from there."""
        if self.colour is None:
            return []
        c = self.colour
        return ["-color_primaries", c["primaries"], "-color_trc", c["transfer"], "-colorspace", c["matrix"], "-color_range", c["range"]]

    def ffmpeg_params(self, quality: float, loop_count: int = 0) -> list[str]:
        """Output options for ffmpeg (codec and pix_fmt excepted): filters, quality, colour tags, loop."""
        value = str(self.quality_value(quality))
        filters = self.colour_filters() + [f.replace("{quality}", value) for f in self.filters]
        params = ["-vf", ",".join(filters)] if filters else []
        params += [p.replace("{quality}", value) for p in self.params]
        params += self.colour_params()
        loop = self.loop_value(loop_count)
        if loop is not None:
            params += [self.loop["option"], str(loop)]
        return params


def _load(path: str) -> VideoFormat:
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise DrawAVideoError(f"video format file {name} cannot be read: {exc}") from None
    missing = [key for key in _REQUIRED if key not in data]
    unknown = sorted(set(data) - (set(VideoFormat.__dataclass_fields__) - {"source"}))
    if missing or unknown:
        raise DrawAVideoError(f"video format file {name}: missing keys {missing}, unknown keys {unknown}.")
    if data.get("metadata", "none") not in METADATA_KINDS:
        raise DrawAVideoError(f"video format file {name}: metadata must be one of {METADATA_KINDS}.")
    for key in ("filters", "params"):
        data[key] = tuple(data.get(key, ()))
    return VideoFormat(**data, source=name)


def load_formats(folder: str = FORMATS_DIR) -> dict[str, VideoFormat]:
    """Every *.json in `folder`, keyed by label, in dropdown order."""
    formats = [_load(os.path.join(folder, name)) for name in sorted(os.listdir(folder)) if name.endswith(".json")]
    formats.sort(key=lambda f: (f.order, f.label))
    labels = [f.label for f in formats]
    if len(set(labels)) != len(labels):
        raise DrawAVideoError(f"two video format files share a label: {labels}")
    return {f.label: f for f in formats}


FORMATS = load_formats()
DEFAULT_FORMAT = next(iter(FORMATS))


def get_format(label: str) -> VideoFormat:
    try:
        return FORMATS[label]
    except KeyError:
        raise DrawAVideoError(f"format {label!r} is not known; choose one of {', '.join(FORMATS)}.") from None
