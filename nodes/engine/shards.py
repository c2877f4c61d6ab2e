"""Encode a grid-dataset folder into ComfyUI 0.8's training shards, one grid at a time.

ComfyUI's SaveTrainingDataset writes `shard_0000.pkl`, `shard_0001.pkl`, ... into a folder of the
output directory, each `torch.save({"latents": [{"samples": [1,C,h,w]}, ...], "conditioning":
[cond, ...]})`, plus `metadata.json` ({num_samples, num_shards, shard_size}); LoadTrainingDataset
reads every `shard_*.pkl` back in name order and TrainLoraNode trains on the lists. This writes the
same files without ever holding more than one shard: grids are read from disk and VAE-encoded one
by one, and each distinct caption is text-encoded once, its conditioning shared by every grid it
captions (torch.save keeps one copy of a tensor per shard however often it is listed).

    >>> summary = encode_grid_dataset("input/draw_a_video_grids", "output/draw_a_video_latents",
    ...                               encode_image=vae_encode, encode_text=clip_encode, shard_size=100)
    >>> print(summary.describe())

Resumable: `draw_a_video_shards.json` records which grids each shard holds; a shard whose grids are
unchanged is kept, not encoded again. Shards are written under a temporary name and renamed, so a
cancel leaves no half-written shard; a folder holding shards this did not write is refused.
A latent or caption conditioning holding NaN or infinity stops the run with an error naming the
grid or caption (an incomplete VAE or text-encoder file gives those), so no shard ever carries one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from .dataset import MANIFEST_NAME
from .dataset_manifest import Manifest
from .errors import DrawAVideoError
from .files import staged_file
from .train_check import all_finite

INDEX_NAME = "draw_a_video_shards.json"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class GridItem:
    name: str
    image: str  # full path
    caption: str


def list_grids(folder: str) -> list[GridItem]:
    """The grids of a dataset folder: manifest.jsonl's written grids in its order, else every image
    with a caption .txt beside it (the folder format of ComfyUI's image-and-text loader), by name."""
    if not os.path.isdir(folder):
        raise DrawAVideoError(f"grid dataset folder {folder!r} does not exist; build it with Videos to Grid Dataset first.")
    items, manifest = [], os.path.join(folder, MANIFEST_NAME)
    if os.path.isfile(manifest):
        for name, record in Manifest(manifest).records.items():  # written grids only, one per name
            try:
                paths = os.path.join(folder, record["image"]), os.path.join(folder, record["text"])
            except (KeyError, TypeError):
                continue
            if all(os.path.isfile(p) for p in paths):
                items.append(GridItem(name, paths[0], _read_caption(paths[1])))
        return items
    for name in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(name)
        text = os.path.join(folder, stem + ".txt")
        if ext.lower() in IMAGE_EXTENSIONS and not name.startswith(".") and os.path.isfile(text):
            items.append(GridItem(stem, os.path.join(folder, name), _read_caption(text)))
    return items


def _read_caption(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def load_grid(path: str) -> torch.Tensor:
    """A grid image as a one-image ComfyUI IMAGE [1,H,W,3] float 0..1."""
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(pixels)[None]


@dataclass
class ShardSummary:
    folder: str
    grids: int = 0
    shards: int = 0
    encoded_grids: int = 0  # VAE-encoded in this run (the rest sat in kept shards)
    kept_shards: int = 0
    captions_encoded: int = 0  # text encoder calls in this run
    distinct_captions: int = 0
    seconds: dict = field(default_factory=lambda: {"vae": 0.0, "text": 0.0})

    def describe(self) -> str:
        return (
            f"{self.grids} grids in {self.shards} shards in {self.folder} ({self.encoded_grids} grids encoded now, "
            f"{self.kept_shards} shards kept from before); {self.distinct_captions} distinct captions, "
            f"{self.captions_encoded} text-encoded now (once each). VAE {self.seconds['vae']:.1f} s, text "
            f"{self.seconds['text']:.1f} s. Load it with Load Training Dataset, folder_name "
            f"{os.path.basename(self.folder)!r}."
        )


def _read_index(folder: str) -> dict:
    path = os.path.join(folder, INDEX_NAME)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
        return index if isinstance(index, dict) and isinstance(index.get("shards"), dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(folder: str, name: str, data: dict) -> None:
    with staged_file(folder, "json") as temp:
        with open(temp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
        os.replace(temp, os.path.join(folder, name))


def encode_grid_dataset(
    grid_folder: str,
    shard_folder: str,
    encode_image: Callable[[torch.Tensor], torch.Tensor],
    encode_text: Callable[[str], list],
    *,
    shard_size: int = 100,
    on_grid: Callable[[], None] | None = None,
    check_cancel: Callable[[], None] | None = None,
    grids: list[GridItem] | None = None,
) -> ShardSummary:
    """Write the grids of `grid_folder` as LoadTrainingDataset shards into `shard_folder`.

    `encode_image(IMAGE [1,H,W,3]) -> latent [1,C,h,w]` (a VAE's encode) runs once per grid that is not
    in a kept shard; `encode_text(caption) -> conditioning` once per distinct caption a shard being
    written needs. `on_grid()` after each grid (progress), `check_cancel()` between grids may raise:
    shards finished by then stay, whole. `grids`: list_grids(grid_folder) when the caller has it already.
    """
    if not isinstance(shard_size, int) or shard_size < 1:
        raise DrawAVideoError(f"shard_size is {shard_size!r} but must be a whole number of at least 1.")
    check_cancel, on_grid = check_cancel or (lambda: None), on_grid or (lambda: None)
    grids = list_grids(grid_folder) if grids is None else grids
    if not grids:
        raise DrawAVideoError(
            f"grid dataset folder {grid_folder!r} holds no grids (image + caption .txt); build it with Videos to "
            "Grid Dataset first, or pick the folder it wrote."
        )
    os.makedirs(shard_folder, exist_ok=True)
    old_shards = _read_index(shard_folder).get("shards", {})
    ours = set(old_shards)
    foreign = sorted(f for f in os.listdir(shard_folder) if f.startswith("shard_") and f.endswith(".pkl") and f not in ours)
    if foreign:
        raise DrawAVideoError(
            f"shard folder {shard_folder!r} already holds {', '.join(foreign[:3])} not written by this node; "
            "Load Training Dataset would mix them in. Choose another folder_name."
        )
    plan = [grids[i : i + shard_size] for i in range(0, len(grids), shard_size)]
    summary = ShardSummary(shard_folder, grids=len(grids), shards=len(plan),
                           distinct_captions=len({g.caption for g in grids}))
    conditioning: dict[str, list] = {}  # caption -> its conditioning, encoded once
    shards = {}
    for number, members in enumerate(plan):
        name = f"shard_{number:04d}.pkl"
        entry = {"grids": [g.name for g in members], "captions": [g.caption for g in members]}
        if old_shards.get(name) == entry and os.path.isfile(os.path.join(shard_folder, name)):
            shards[name] = entry
            summary.kept_shards += 1
            for _ in members:
                on_grid()
            continue
        latents, conds = [], []
        for grid in members:
            check_cancel()
            start = time.perf_counter()
            latent = encode_image(load_grid(grid.image))
            if not all_finite(latent):
                raise DrawAVideoError(
                    f"the VAE gave NaN or infinite values for grid {grid.name!r}: no shard holding it is written "
                    "(a LoRA trained on it would be NaN). Check the VAE file: ComfyUI's log says 'Missing VAE keys' "
                    "when a file lacks weights, and those are then left as uninitialised memory."
                )
            latents.append({"samples": latent})
            summary.seconds["vae"] += time.perf_counter() - start
            if grid.caption not in conditioning:
                start = time.perf_counter()
                encoded = encode_text(grid.caption)
                if not all_finite(encoded):
                    raise DrawAVideoError(
                        f"the text encoder gave NaN or infinite values for caption {grid.caption!r}: no shard is "
                        "written (a LoRA trained on it would be NaN). Its weights are incomplete or damaged: ComfyUI "
                        "logs 'clip missing: [...]' when a text-encoder file lacks weights, and leaves those as "
                        "uninitialised memory. Load complete CLIP-L and T5-XXL files in DualCLIPLoader."
                    )
                conditioning[grid.caption] = encoded
                summary.seconds["text"] += time.perf_counter() - start
                summary.captions_encoded += 1
            conds.append(conditioning[grid.caption])
            summary.encoded_grids += 1
            on_grid()
        with staged_file(shard_folder, "pkl") as temp:
            with open(temp, "wb") as f:
                torch.save({"latents": latents, "conditioning": conds}, f)
            os.replace(temp, os.path.join(shard_folder, name))
        shards[name] = entry
        _write_json(shard_folder, INDEX_NAME, {"shards": {**old_shards, **shards}})
        del latents, conds
    for stale in ours - set(shards):  # the dataset shrank: drop shards of ours that would be loaded too
        path = os.path.join(shard_folder, stale)
        if os.path.isfile(path):
            os.remove(path)
    _write_json(shard_folder, INDEX_NAME, {"shards": shards})
    _write_json(shard_folder, "metadata.json", {"num_samples": len(grids), "num_shards": len(plan), "shard_size": shard_size})
    return summary
