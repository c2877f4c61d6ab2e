"""Grid Noise: bit-exact ComfyUI noise at shared=0, shared cells, unit variance, the NOISE interface."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.grid import split_latent
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.engine.noise import GridNoise, grid_noise
from draw_a_video.nodes.noise_nodes import GridNoiseNode

SMALL = GridLayout(rows=2, cols=3, cell_width=64, cell_height=32)  # latent 24x8, cells 8x4


def comfy_prepare_noise(latent_image, seed, noise_inds=None):
    """Reference: ComfyUI comfy/sample.py prepare_noise + prepare_noise_inner (non-nested path), copied verbatim
    in logic so the test needs no ComfyUI. If ComfyUI changes how it draws noise, this must follow."""
    generator = torch.manual_seed(seed)
    if noise_inds is None:
        return torch.randn(latent_image.size(), dtype=latent_image.dtype, layout=latent_image.layout, generator=generator, device="cpu")
    unique_inds, inverse = np.unique(noise_inds, return_inverse=True)
    noises = []
    for i in range(unique_inds[-1] + 1):
        noise = torch.randn([1] + list(latent_image.size())[1:], dtype=latent_image.dtype, layout=latent_image.layout, generator=generator, device="cpu")
        if i in unique_inds:
            noises.append(noise)
    noises = [noises[i] for i in inverse]
    return torch.cat(noises, axis=0)


def latent(layout=SMALL, batch=1, channels=16, **extra):
    return {"samples": torch.zeros(batch, channels, layout.height // 8, layout.width // 8), **extra}


def node_noise(seed, layout, shared):
    (noise,) = GridNoiseNode().get_noise(noise_seed=seed, layout=layout, shared=shared)
    return noise


@pytest.mark.parametrize("batch_index", [None, [0, 1, 2], [3], [2, 0, 2]], ids=["plain", "index-0-1-2", "index-3", "index-repeated"])
@pytest.mark.parametrize("seed", [0, 123456789, 0xFFFFFFFFFFFFFFFF])
def test_shared_zero_is_native_random_noise_bit_exactly(seed, batch_index):
    extra = {} if batch_index is None else {"batch_index": batch_index}
    lat = latent(batch=3 if batch_index is None else len(batch_index), **extra)
    noise = node_noise(seed, SMALL, 0.0)
    assert noise.seed == seed
    got = noise.generate_noise(lat)
    assert torch.equal(got, comfy_prepare_noise(lat["samples"], seed, batch_index))


def test_shared_zero_keeps_the_latent_dtype():
    samples = torch.zeros(1, 16, SMALL.height // 8, SMALL.width // 8, dtype=torch.float16)
    got = GridNoise(7, SMALL, 0.0).generate_noise({"samples": samples})
    assert got.dtype == torch.float16 and torch.equal(got, comfy_prepare_noise(samples, 7))


@pytest.mark.parametrize("order", ["row-major", "serpentine"])
def test_shared_one_makes_every_cell_identical_and_gutters_plain(order):
    layout = replace(SMALL, gutter=16, order=order)
    lat = latent(layout, batch=2)
    noise = GridNoise(5, layout, 1.0).generate_noise(lat)
    cells = split_latent({"samples": noise}, layout)["samples"].view(2, layout.frames, 16, 4, 8)
    for b in range(2):
        assert all(torch.equal(cells[b, 0], cells[b, i]) for i in range(1, layout.frames))
    assert not torch.equal(cells[0, 0], cells[1, 0])  # each grid of the batch has its own shared field
    # Gutters keep the native noise untouched.
    native = comfy_prepare_noise(lat["samples"], 5)
    gutter_rows = slice(layout.cell_height // 8, layout.cell_height // 8 + 2)
    assert torch.equal(noise[:, :, gutter_rows], native[:, :, gutter_rows])


@pytest.mark.parametrize("shared", [0.0, 0.1, 0.3, 0.5, 0.8, 1.0])
def test_unit_variance_zero_mean_and_cell_correlation_equals_shared(shared):
    layout = GridLayout(rows=2, cols=2, cell_width=512, cell_height=512)  # cells of 64x64 latent, 16 channels
    noise = GridNoise(11, layout, shared).generate_noise(latent(layout, batch=2))
    assert abs(noise.mean().item()) < 0.01
    assert abs(noise.var().item() - 1.0) < 0.02
    cells = split_latent({"samples": noise}, layout)["samples"].view(2, 4, -1)
    for b in range(2):
        corr = torch.corrcoef(cells[b, :2])[0, 1].item()
        assert abs(corr - shared) < 0.02, (shared, corr)


def test_cells_are_the_native_noise_mixed_with_one_field():
    shared = 0.3
    lat = latent(batch=2)
    noise = GridNoise(9, SMALL, shared).generate_noise(lat)
    native = comfy_prepare_noise(lat["samples"], 9)
    base_cells = split_latent({"samples": native}, SMALL)["samples"].view(2, SMALL.frames, 16, 4, 8)
    cells = split_latent({"samples": noise}, SMALL)["samples"].view(2, SMALL.frames, 16, 4, 8)
    field = (cells - base_cells * (1 - shared) ** 0.5) / shared**0.5
    # What is left after removing the native noise is the same field in every cell of a grid.
    assert torch.allclose(field, field[:, :1].expand_as(field), atol=1e-5)


def test_deterministic_and_seed_dependent():
    lat = latent(batch=2)
    a = GridNoise(3, SMALL, 0.4).generate_noise(lat)
    assert torch.equal(a, GridNoise(3, SMALL, 0.4).generate_noise(lat))
    assert torch.equal(a, grid_noise(lat["samples"], SMALL, 3, 0.4))
    assert not torch.equal(a, GridNoise(4, SMALL, 0.4).generate_noise(lat))


def test_a_grid_picked_from_a_batch_keeps_its_noise():
    """batch_index (Latent From Batch) picks the same base noise AND the same shared field as in the batch."""
    whole = GridNoise(21, SMALL, 0.5).generate_noise(latent(batch=3))
    picked = GridNoise(21, SMALL, 0.5).generate_noise(latent(batch=1, batch_index=[2]))
    assert torch.equal(picked[0], whole[2])


def test_latent_that_is_not_the_layout_gives_a_clear_error():
    lat = {"samples": torch.zeros(1, 16, 96, 100)}
    with pytest.raises(DrawAVideoError, match=r"latent is 100x96 .*4x4 layout is 1280x768 px \(latent 160x96\).*EmptySD3LatentImage"):
        GridNoise(0, GridLayout(), 0.3).generate_noise(lat)
    with pytest.raises(DrawAVideoError, match="image latent"):
        GridNoise(0, GridLayout(), 0.3).generate_noise({"samples": torch.zeros(1, 16, 4, 96, 160)})


def test_shared_out_of_range_is_refused():
    with pytest.raises(DrawAVideoError, match="shared"):
        GridNoise(0, SMALL, 1.5)


def test_node_spec_mirrors_random_noise():
    spec = GridNoiseNode.INPUT_TYPES()["required"]
    seed = spec["noise_seed"][1]
    assert spec["noise_seed"][0] == "INT" and seed["control_after_generate"] is True and seed["max"] == 0xFFFFFFFFFFFFFFFF
    assert GridNoiseNode.RETURN_TYPES == ("NOISE",) and GridNoiseNode.CATEGORY == "Draw-a-Video/sampling"
    assert all("tooltip" in options for _, options in spec.values())
