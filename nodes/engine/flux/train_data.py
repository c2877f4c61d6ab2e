"""The LoRA trainer's data: a grid-dataset folder, and its latents and text embeddings cached on disk.

A grid dataset is what Videos to Grid Dataset writes (nodes/engine/dataset.py):
`<name>.png` + its caption `<name>.txt`, and `manifest.jsonl` with one line per
grid (its layout among them). Every grid of one training run must be the same
size; the trainer refuses a folder that mixes sizes or layouts, naming a file of
each.

Both encoders run once per grid and once per *distinct* caption (2,800 grids
sharing one caption cost one T5 pass), and what they produce is kept in
`<cache>/latents-<key>/<grid>.safetensors` and `<cache>/text-<key>/<sha1>.safetensors`.
`<key>` names the model files and dtype that made them, and each latent records
its PNG's size and mtime, so a restart (or a second run on the same data) reads
them back instead of encoding again, and a changed grid is encoded afresh. Files
are written under a temporary name and renamed. Under `accelerate launch` each
process encodes its share, then every process fills whatever is still missing
(nodes that don't share a disk), so no process trains on a half-written cache.

The latents are the VAE's *distribution* (mean and log-variance, as diffusers'
`DiagonalGaussianDistribution` keeps them): like diffusers' FLUX DreamBooth
script with --cache_latents (examples/dreambooth/train_dreambooth_lora_flux.py,
`latents_cache[step].sample()`), a fresh sample is drawn each time a grid is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..dataset import MANIFEST_NAME
from ..errors import DrawAVideoError
from ..files import publish_new, staged_file
from ..layout import GridLayout

log = logging.getLogger("draw_a_video.train")


@dataclass(frozen=True)
class GridSample:
    name: str  # file stem
    image: str  # full path of the png
    caption: str
    width: int
    height: int
    layout: GridLayout | None  # from manifest.jsonl (None: folder without one)

    @property
    def shape_text(self) -> str:
        grid = f" ({self.layout.rows}x{self.layout.cols} of {self.layout.cell_width}x{self.layout.cell_height})" if self.layout else ""
        return f"{self.width}x{self.height}{grid}"


def _manifest_layouts(folder: str) -> dict[str, GridLayout]:
    path = os.path.join(folder, MANIFEST_NAME)
    layouts = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                    layouts[record["grid"]] = GridLayout.from_dict(record["layout"])
                except (ValueError, KeyError, TypeError, DrawAVideoError):
                    continue  # a line cut short by a crash; the grid still trains, its layout unknown
    return layouts


def read_grid_dataset(folder: str) -> list[GridSample]:
    """Every captioned grid in `folder`, sorted by name; all of one size, or a DrawAVideoError says which differ."""
    if not folder or not os.path.isdir(folder):
        raise DrawAVideoError(
            f"--dataset {folder!r} is not a folder; point it at the folder Videos to Grid Dataset wrote "
            "(ComfyUI's input/<dataset_name>, with <grid>.png, <grid>.txt and manifest.jsonl)."
        )
    names = sorted(f[:-4] for f in os.listdir(folder) if f.lower().endswith(".png") and not f.startswith("."))
    layouts = _manifest_layouts(folder)
    samples, uncaptioned = [], []
    for name in names:
        text_path = os.path.join(folder, name + ".txt")
        if not os.path.isfile(text_path):
            uncaptioned.append(name)
            continue
        with open(text_path, encoding="utf-8") as f:
            caption = " ".join(f.read().split())
        if not caption:
            raise DrawAVideoError(f"caption {name}.txt in --dataset {folder!r} is empty; write what the grid shows into it.")
        image = os.path.join(folder, name + ".png")
        try:
            with Image.open(image) as im:  # reads the header only
                width, height = im.size
        except OSError as exc:
            raise DrawAVideoError(f"grid {name}.png in --dataset {folder!r} cannot be read ({exc}); delete it or rebuild the dataset.") from exc
        samples.append(GridSample(name, image, caption, width, height, layouts.get(name)))
    if uncaptioned:
        log.warning("%d grids without a caption .txt are left out (e.g. %s.png)", len(uncaptioned), uncaptioned[0])
    if not samples:
        raise DrawAVideoError(
            f"--dataset {folder!r} holds no grids (no <grid>.png with its <grid>.txt caption); build one with "
            "Videos to Grid Dataset, or check the folder name."
        )
    groups: dict[tuple, list[GridSample]] = {}
    for s in samples:
        key = (s.width, s.height) + ((s.layout.rows, s.layout.cols, s.layout.gutter) if s.layout else ())
        groups.setdefault(key, []).append(s)
    sized = {(s.width, s.height) for s in samples}
    if len(sized) > 1 or (len(groups) > 1 and all(s.layout for s in samples)):
        parts = sorted(groups.values(), key=len, reverse=True)
        listing = "; ".join(f"{len(g)} are {g[0].shape_text}, e.g. {g[0].name}.png" for g in parts)
        raise DrawAVideoError(
            f"--dataset {folder!r} mixes grid sizes ({listing}). One run trains on one grid size: move the other "
            "grids to a folder of their own (a dataset_name per layout), or rebuild them with the same Grid Layout."
        )
    first = samples[0]
    if first.width % 16 or first.height % 16:
        raise DrawAVideoError(
            f"grids in --dataset {folder!r} are {first.width}x{first.height}; FLUX needs both sides a multiple of 16 "
            "(its VAE halves 3 times, then 2x2 patches): rebuild them with a Grid Layout whose cells are multiples of 16."
        )
    return samples


def load_grid_pixels(sample: GridSample) -> torch.Tensor:
    """A grid as the VAE takes it: [1, 3, H, W] in -1..1 (diffusers' Normalize([0.5], [0.5]))."""
    with Image.open(sample.image) as im:
        pixels = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0) * 2.0 - 1.0


def _stamp(path: str) -> str:
    stat = os.stat(path)
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def model_key(folder: str, subfolders: tuple[str, ...], *extra) -> str:
    """A short hash naming the model files (path, size, mtime) and settings that made a cache entry."""
    parts = [os.path.realpath(folder), *map(str, extra)]
    for sub in subfolders:
        root = os.path.join(folder, sub)
        for dirpath, _, files in sorted(os.walk(root)):
            for f in sorted(files):
                parts.append(f"{os.path.relpath(os.path.join(dirpath, f), folder)}={_stamp(os.path.join(dirpath, f))}")
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:12]


def caption_id(caption: str) -> str:
    return hashlib.sha1(caption.encode("utf-8")).hexdigest()[:16]


def _save(tensors: dict, path: str, metadata: dict) -> None:
    from safetensors.torch import save_file

    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    with staged_file(folder, "safetensors") as temp:
        save_file({k: v.contiguous().cpu() for k, v in tensors.items()}, temp, metadata=metadata)
        if not publish_new(temp, path):  # another process made it meanwhile: theirs is as good
            log.debug("%s was written by another process", path)


def _meta(path: str) -> dict:
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as f:
            return f.metadata() or {}
    except Exception:  # unreadable / cut short: encode it again
        return {}


class TrainCache:
    """Where one run's encoded latents and text embeddings live (see the module docstring)."""

    def __init__(self, root: str, latent_key: str, text_key: str):
        self.latent_dir = os.path.join(root, f"latents-{latent_key}")
        self.text_dir = os.path.join(root, f"text-{text_key}")

    def latent_path(self, sample: GridSample) -> str:
        return os.path.join(self.latent_dir, sample.name + ".safetensors")

    def text_path(self, caption: str) -> str:
        return os.path.join(self.text_dir, caption_id(caption) + ".safetensors")

    def latent_ready(self, sample: GridSample) -> bool:
        path = self.latent_path(sample)
        return os.path.isfile(path) and _meta(path).get("source") == _stamp(sample.image)

    def text_ready(self, caption: str) -> bool:
        path = self.text_path(caption)
        return os.path.isfile(path) and _meta(path).get("caption") == caption

    def fill(
        self,
        samples: list[GridSample],
        extra_captions: list[str],
        encode_image: Callable[[torch.Tensor], torch.Tensor],
        encode_text: Callable[[str], tuple[torch.Tensor, torch.Tensor]],
        rank: int = 0,
        world: int = 1,
        barrier: Callable[[], None] = lambda: None,
        on_item: Callable[[], None] = lambda: None,
    ) -> int:
        """Encode what is missing: this process's share first, then (after `barrier`) anything still absent.

        encode_image([1,3,H,W] -1..1) -> VAE distribution parameters [1, 2C, h, w];
        encode_text(caption) -> (prompt_embeds [seq, D], pooled [Dp]); on_item() after each encode. Returns how many it encoded.
        """
        captions = list(dict.fromkeys([s.caption for s in samples] + list(extra_captions)))
        jobs = [("image", s) for s in samples] + [("text", c) for c in captions]
        done = 0
        for phase in ("share", "rest"):
            for i, (kind, item) in enumerate(jobs):
                if phase == "share" and i % world != rank:
                    continue
                if kind == "image" and not self.latent_ready(item):
                    params = encode_image(load_grid_pixels(item))
                    _save({"parameters": params[0]}, self.latent_path(item), {"source": _stamp(item.image), "grid": item.name})
                    done += 1
                    on_item()
                elif kind == "text" and not self.text_ready(item):
                    embeds, pooled = encode_text(item)
                    _save({"prompt_embeds": embeds, "pooled_prompt_embeds": pooled}, self.text_path(item), {"caption": item})
                    done += 1
                    on_item()
            if phase == "share":
                barrier()
        return done

    def load(self, sample: GridSample) -> dict[str, torch.Tensor]:
        """{"parameters" [2C,h,w], "prompt_embeds" [seq,D], "pooled_prompt_embeds" [Dp]} of one grid."""
        from safetensors.torch import load_file

        out = load_file(self.latent_path(sample))
        out.update(self.load_text(sample.caption))
        return out

    def load_text(self, caption: str) -> dict[str, torch.Tensor]:
        from safetensors.torch import load_file

        return load_file(self.text_path(caption))
