"""Grid folder -> LoadTrainingDataset shards: the native layout read back, captions encoded once, resume, cancel."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from draw_a_video.nodes import host
from draw_a_video.nodes.dataset_nodes import EncodeGridDatasetNode
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.shards import INDEX_NAME, encode_grid_dataset
from PIL import Image


class FakeVAE:
    """ComfyUI VAE-shaped: encode(IMAGE [B,H,W,3]) -> [B,16,H/8,W/8], a function of the pixels."""

    def __init__(self):
        self.calls = 0

    def encode(self, image):
        self.calls += 1
        assert image.shape[-1] == 3 and image.dtype == torch.float32
        pooled = torch.nn.functional.avg_pool2d(image.permute(0, 3, 1, 2), 8)
        return pooled.repeat(1, 6, 1, 1)[:, :16].contiguous()


class FakeCLIP:
    """ComfyUI CLIP-shaped: tokenize + encode_from_tokens_scheduled -> [[cond, {"pooled_output": ...}]]."""

    def __init__(self):
        self.texts = []

    def tokenize(self, text):
        return {"t5xxl": [[(ord(c), 1.0) for c in text]]}

    def encode_from_tokens_scheduled(self, tokens):
        text = "".join(chr(t) for t, _ in tokens["t5xxl"][0])
        self.texts.append(text)
        code = torch.tensor([float(ord(c)) for c in text[:8]])
        return [[code.repeat(1, 4, 1), {"pooled_output": code[None]}]]


def write_grids(folder: Path, count: int, start: int = 0, manifest: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        name = f"clip_g{i:04d}"
        pixels = np.random.default_rng(i).integers(0, 256, (32, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{name}.png")
        (folder / f"{name}.txt").write_text(f"caption {'ab'[i % 2]}", encoding="utf-8")
        if manifest:
            with open(folder / "manifest.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps({"grid": name, "image": f"{name}.png", "text": f"{name}.txt"}) + "\n")
                f.write(json.dumps({"grid": f"skipped{i}", "skipped": "cut at frame 3"}) + "\n")


def load_training_dataset(folder: Path):
    """What ComfyUI 0.8's LoadTrainingDataset does (comfy_extras/nodes_dataset.py): every shard_*.pkl by name."""
    latents, conditioning = [], []
    for name in sorted(f for f in os.listdir(folder) if f.startswith("shard_") and f.endswith(".pkl")):
        with open(folder / name, "rb") as f:
            shard = torch.load(f)  # torch's default: weights_only, as in ComfyUI
        latents.extend(shard["latents"])
        conditioning.extend(shard["conditioning"])
    return latents, conditioning


def encode(grids: Path, shards: Path, vae: FakeVAE, clip: FakeCLIP, **options):
    return encode_grid_dataset(str(grids), str(shards), lambda im: host.vae_encode(vae, im),
                               lambda text: host.encode_text(clip, text), **options)


def test_shards_load_natively_with_each_caption_encoded_once(tmp_path):
    grids, shards, vae, clip = tmp_path / "grids", tmp_path / "out" / "latents", FakeVAE(), FakeCLIP()
    write_grids(grids, 7)
    summary = encode(grids, shards, vae, clip, shard_size=3)
    assert (summary.grids, summary.shards, summary.encoded_grids, summary.kept_shards) == (7, 3, 7, 0)
    assert vae.calls == 7 and sorted(clip.texts) == ["caption a", "caption b"]  # once per distinct caption
    assert sorted(os.listdir(shards)) == ["draw_a_video_shards.json", "metadata.json", "shard_0000.pkl", "shard_0001.pkl", "shard_0002.pkl"]
    assert json.loads((shards / "metadata.json").read_text()) == {"num_samples": 7, "num_shards": 3, "shard_size": 3}

    latents, conditioning = load_training_dataset(shards)
    assert len(latents) == len(conditioning) == 7
    reference = FakeVAE()
    for i, latent in enumerate(latents):
        with Image.open(grids / f"clip_g{i:04d}.png") as im:
            pixels = torch.from_numpy(np.asarray(im, np.float32) / 255)[None]
        assert set(latent) == {"samples"} and latent["samples"].shape == (1, 16, 4, 8)
        torch.testing.assert_close(latent["samples"], reference.encode(pixels), rtol=0, atol=1e-6)
        expected = FakeCLIP().encode_from_tokens_scheduled(FakeCLIP().tokenize(f"caption {'ab'[i % 2]}"))
        torch.testing.assert_close(conditioning[i][0][0], expected[0][0])
    # Inside a shard, grids with one caption share one conditioning tensor (stored once in the file).
    assert conditioning[0][0][0].untyped_storage().data_ptr() == conditioning[2][0][0].untyped_storage().data_ptr()
    assert "7 grids in 3 shards" in summary.describe() and "2 text-encoded now" in summary.describe()


def test_rerun_keeps_unchanged_shards_and_encodes_only_new_grids(tmp_path):
    grids, shards = tmp_path / "grids", tmp_path / "latents"
    write_grids(grids, 7)
    encode(grids, shards, FakeVAE(), FakeCLIP(), shard_size=3)
    before = {n: (shards / n).stat().st_mtime_ns for n in os.listdir(shards) if n.endswith(".pkl")}

    vae, clip = FakeVAE(), FakeCLIP()
    again = encode(grids, shards, vae, clip, shard_size=3)
    assert (vae.calls, clip.texts, again.kept_shards) == (0, [], 3)
    assert {n: (shards / n).stat().st_mtime_ns for n in before} == before

    write_grids(grids, 2, start=7)  # two more grids: shard 2 grows to 3, nothing else changes
    vae, clip = FakeVAE(), FakeCLIP()
    third = encode(grids, shards, vae, clip, shard_size=3)
    assert (vae.calls, third.kept_shards, third.shards) == (3, 2, 3)
    assert len(load_training_dataset(shards)[0]) == 9


def test_shrunk_dataset_drops_its_stale_shards_and_foreign_shards_are_refused(tmp_path):
    grids, shards = tmp_path / "grids", tmp_path / "latents"
    write_grids(grids, 7, manifest=False)  # the plain image + caption folder format works too
    encode(grids, shards, FakeVAE(), FakeCLIP(), shard_size=3)
    for i in (4, 5, 6):
        (grids / f"clip_g{i:04d}.png").unlink()
    encode(grids, shards, FakeVAE(), FakeCLIP(), shard_size=3)
    assert sorted(n for n in os.listdir(shards) if n.endswith(".pkl")) == ["shard_0000.pkl", "shard_0001.pkl"]
    assert len(load_training_dataset(shards)[0]) == 4

    other = tmp_path / "other"
    other.mkdir()
    torch.save({"latents": [], "conditioning": []}, other / "shard_0000.pkl")
    with pytest.raises(DrawAVideoError, match="not written by this node"):
        encode(grids, other, FakeVAE(), FakeCLIP())
    with pytest.raises(DrawAVideoError, match="holds no grids"):
        encode(tmp_path / "latents", tmp_path / "x", FakeVAE(), FakeCLIP())


def test_cancel_leaves_whole_shards_only_and_resume_finishes(tmp_path):
    grids, shards = tmp_path / "grids", tmp_path / "latents"
    write_grids(grids, 7)
    calls = []

    def cancel_at_fifth_grid():
        calls.append(1)
        if len(calls) == 5:
            raise host.Interrupted("cancelled")

    with pytest.raises(host.Interrupted):
        encode(grids, shards, FakeVAE(), FakeCLIP(), shard_size=3, check_cancel=cancel_at_fifth_grid)
    assert sorted(os.listdir(shards)) == [INDEX_NAME, "shard_0000.pkl"]  # no temp file, no half shard
    vae = FakeVAE()
    summary = encode(grids, shards, vae, FakeCLIP(), shard_size=3)
    assert (summary.kept_shards, vae.calls) == (1, 4)
    assert len(load_training_dataset(shards)[0]) == 7


class GarbageCLIP(FakeCLIP):
    """A text encoder with weights left as uninitialised memory (the NaN LoRA of issue 12): NaN for one caption."""

    def encode_from_tokens_scheduled(self, tokens):
        out = super().encode_from_tokens_scheduled(tokens)
        if self.texts[-1] == "caption b":
            out[0][0] = torch.full_like(out[0][0], float("nan"))
        return out


class GarbageVAE(FakeVAE):
    def encode(self, image):
        latent = super().encode(image)
        if self.calls == 5:
            latent[0, 3, 0, 0] = float("inf")
        return latent


def test_nan_conditioning_or_latent_stops_before_any_shard_carries_it(tmp_path):
    grids, shards = tmp_path / "grids", tmp_path / "latents"
    write_grids(grids, 7)
    with pytest.raises(DrawAVideoError, match="text encoder gave NaN.*'caption b'.*clip missing"):
        encode(grids, shards, FakeVAE(), GarbageCLIP(), shard_size=1)
    assert sorted(os.listdir(shards)) == [INDEX_NAME, "shard_0000.pkl"]  # grid 0 ("caption a") only
    with pytest.raises(DrawAVideoError, match="VAE gave NaN or infinite values for grid 'clip_g0004'"):
        encode(grids, shards, GarbageVAE(), FakeCLIP(), shard_size=3)
    latents, conditioning = load_training_dataset(shards)
    assert len(latents) == 3 and all(torch.isfinite(x["samples"]).all() for x in latents)
    assert all(torch.isfinite(c[0][0]).all() for c in conditioning)


def test_node_reads_the_input_folder_and_writes_into_the_output_folder(pack_folders):
    write_grids(pack_folders["input"] / "draw_a_video_grids", 3)
    vae, clip = FakeVAE(), FakeCLIP()
    out = EncodeGridDatasetNode().encode("draw_a_video_grids", vae, clip, "sets/latents", 2)
    folder, summary = out["result"]
    assert folder == "sets/latents" and summary == out["ui"]["text"][0]
    assert len(load_training_dataset(pack_folders["output"] / "sets" / "latents")[0]) == 3
    for bad, what in (("../x", "folder_name"), (".", "folder_name"), ("/tmp/x", "folder_name")):
        with pytest.raises(DrawAVideoError, match=what):
            EncodeGridDatasetNode().encode("draw_a_video_grids", vae, clip, bad, 2)
    with pytest.raises(DrawAVideoError, match="dataset_name"):
        EncodeGridDatasetNode().encode("../grids", vae, clip, "latents", 2)
