"""Split and merge of pixel and latent grids: bit-exact round trips, every order, gutters, batches."""

import itertools
from dataclasses import replace
from fractions import Fraction

import pytest
import torch
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.grid import merge_image, merge_latent, split_grid, split_image, split_latent
from draw_a_video.nodes.engine.layout import ORDERS, GridLayout

LAYOUTS = {
    "4x4 320x192": GridLayout(),
    "6x4": GridLayout(rows=6, cols=4),
    "8x4": GridLayout(rows=8, cols=4),
    "16x1": GridLayout(rows=16, cols=1),
    "1x16": GridLayout(rows=1, cols=16),
    "3x5 gutter": GridLayout(rows=3, cols=5, cell_width=64, cell_height=48, gutter=16),
}
CASES = [
    pytest.param(replace(layout, order=order), id=f"{name}-{order}")
    for (name, layout), order in itertools.product(LAYOUTS.items(), ORDERS)
]


def stamped_grid(layout: GridLayout, batch: int = 1, channels: int = 3) -> torch.Tensor:
    """Grid images whose every cell is filled with its (grid, frame) number; gutters are -1."""
    image = torch.full((batch, layout.height, layout.width, channels), -1.0)
    for b, frame in itertools.product(range(batch), range(layout.frames)):
        y, x = layout.cell_origin(*layout.cell_of_frame(frame))
        image[b, y : y + layout.cell_height, x : x + layout.cell_width] = b * 1000 + frame
    return image


@pytest.mark.parametrize("layout", CASES)
def test_image_round_trip_is_bit_exact(layout):
    grids = torch.rand(2, layout.height, layout.width, 3)
    frames = split_image(grids, layout)
    assert frames.shape == (2 * layout.frames, layout.cell_height, layout.cell_width, 3)
    back = merge_image(frames, layout)
    if layout.gutter:  # gutters are not part of any frame: they come back black
        gutter = stamped_grid(layout, 2) < 0
        assert torch.equal(back[~gutter], grids[~gutter]) and torch.all(back[gutter] == 0)
    else:
        assert torch.equal(back, grids)
    assert torch.equal(split_image(back, layout), frames)


@pytest.mark.parametrize("layout", CASES)
def test_frames_come_out_in_layout_order_grid_after_grid(layout):
    frames = split_image(stamped_grid(layout, batch=3), layout)
    expected = torch.tensor([b * 1000 + f for b in range(3) for f in range(layout.frames)], dtype=torch.float32)
    assert torch.equal(frames[:, 0, 0, 0], expected)
    assert torch.equal(frames.amin(dim=(1, 2, 3)), frames.amax(dim=(1, 2, 3)))  # no gutter pixel leaked in


@pytest.mark.parametrize("layout", CASES)
def test_latent_round_trip_is_bit_exact(layout):
    samples = torch.randn(2, 16, layout.height // 8, layout.width // 8)
    frames = split_latent({"samples": samples}, layout)
    assert frames["samples"].shape == (2 * layout.frames, 16, layout.cell_height // 8, layout.cell_width // 8)
    back = merge_latent(frames, layout)["samples"]
    channels_last = split_grid(samples.permute(0, 2, 3, 1), layout.scaled(Fraction(1, 8)), 1, 2)  # the same cut, another memory layout
    assert torch.equal(frames["samples"], channels_last.permute(0, 3, 1, 2))
    assert torch.equal(split_latent({"samples": back}, layout)["samples"], frames["samples"])
    if not layout.gutter:
        assert torch.equal(back, samples)


def test_latent_frames_match_pixel_frames_cell_for_cell():
    layout = GridLayout(order="serpentine")
    pixels = stamped_grid(layout, batch=2, channels=1)
    latent = torch.nn.functional.avg_pool2d(pixels.permute(0, 3, 1, 2), 8)  # a stand-in 8x "VAE"
    frames = split_latent({"samples": latent}, layout)["samples"]
    assert torch.equal(frames[:, 0, 0, 0], split_image(pixels, layout)[:, 0, 0, 0])


def test_noise_mask_and_batch_index_follow_the_frames():
    layout = GridLayout(rows=2, cols=2, cell_width=32, cell_height=16)
    mask = stamped_grid(layout, 1, 1)[..., 0]  # pixel-sized [1,H,W], as SetLatentNoiseMask stores it
    latent = {"samples": torch.randn(2, 16, 4, 8), "noise_mask": mask, "batch_index": [5, 6], "extra": "kept"}
    frames = split_latent(latent, layout)
    assert frames["noise_mask"].shape == (4, 1, 16, 32)
    assert torch.equal(frames["noise_mask"][:, 0, 0, 0], torch.arange(4.0))
    assert frames["batch_index"] == [20, 21, 22, 23, 24, 25, 26, 27]
    assert frames["extra"] == "kept"
    merged = merge_latent(frames, layout)
    assert torch.equal(merged["noise_mask"][0, 0], mask[0])


@pytest.mark.parametrize("count, pad", [(20, "repeat last frame"), (20, "black"), (16, "black"), (1, "repeat last frame")])
def test_merge_pads_the_last_grid(count, pad):
    layout = GridLayout(rows=4, cols=4, cell_width=16, cell_height=16)
    frames = torch.rand(count, 16, 16, 3) + 1  # never 0, so black padding is visible
    grids = merge_image(frames, layout, pad)
    assert grids.shape[0] == -(-count // 16)
    back = split_image(grids, layout)
    assert torch.equal(back[:count], frames)
    tail = back[count:]
    if pad == "black":
        assert torch.all(tail == 0)
    else:
        assert torch.equal(tail, frames[-1:].expand_as(tail))


def test_scaled_grids_scale_their_cells():
    layout = GridLayout(rows=2, cols=2, cell_width=32, cell_height=16, gutter=16)
    big = replace(layout, cell_width=64, cell_height=32, gutter=32)
    small = replace(layout, cell_width=16, cell_height=8, gutter=8)
    for scaled in (big, small):
        grid = torch.rand(1, scaled.height, scaled.width, 3)
        frames = split_image(grid, layout)
        assert torch.equal(frames, split_image(grid, scaled))
        assert torch.equal(merge_image(frames, layout), merge_image(frames, scaled))


def test_alpha_and_grey_images_split():
    layout = GridLayout(rows=2, cols=2, cell_width=16, cell_height=16)
    for channels in (1, 4):
        grid = torch.rand(1, 32, 32, channels)
        assert torch.equal(merge_image(split_image(grid, layout), layout), grid)


def test_wrong_image_size_states_both_sizes():
    with pytest.raises(DrawAVideoError, match=r"image is 1000x768 but the 4x4 layout needs 1280x768"):
        split_image(torch.rand(1, 768, 1000, 3), GridLayout())
    with pytest.raises(DrawAVideoError, match=r"image is 1280x1280 but"):  # one axis right is not enough
        split_image(torch.rand(1, 1280, 1280, 3), GridLayout())
    with pytest.raises(DrawAVideoError, match=r"image is 1920x1152 but"):  # 1.5x is not whole
        split_image(torch.rand(1, 1152, 1920, 3), GridLayout())


def test_wrong_latent_size_shows_pixel_size():
    with pytest.raises(DrawAVideoError, match=r"latent is 128x96 \(x10 = 1280x960 px\) but the 4x4 layout needs 1280x768"):
        split_latent({"samples": torch.randn(1, 16, 96, 128)}, GridLayout())


def test_latent_factor_must_divide_cells():
    layout = GridLayout(rows=2, cols=2, cell_width=40, cell_height=24)  # not FLUX-valid: 40/16 is not whole
    with pytest.raises(DrawAVideoError, match=r"1/16 of the layout's size, but cell 40x24 and gutter 0 are not all divisible by 16"):
        split_latent({"samples": torch.randn(1, 16, 3, 5)}, layout)


def test_wrong_frame_size_for_merge():
    with pytest.raises(DrawAVideoError, match=r"images are 300x200 but the layout's cells are 320x192"):
        merge_image(torch.rand(4, 200, 300, 3), GridLayout())


@pytest.mark.parametrize(
    "value, message",
    [
        (torch.rand(768, 1280, 3), r"IMAGE batch \[B,H,W,C\] with 1-4 channels, got \(768, 1280, 3\)"),
        (torch.rand(0, 768, 1280, 3), "empty batch"),
        ("not a tensor", "got str"),
    ],
)
def test_not_an_image(value, message):
    with pytest.raises(DrawAVideoError, match=message):
        split_image(value, GridLayout())


def test_not_a_grid_latent():
    with pytest.raises(DrawAVideoError, match="time axis"):
        split_latent({"samples": torch.randn(1, 16, 4, 96, 160)}, GridLayout())
    with pytest.raises(DrawAVideoError, match="pad is 'mirror'"):
        merge_image(torch.rand(2, 192, 320, 3), GridLayout(), "mirror")
