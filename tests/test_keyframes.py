"""Keyframe grids: known frames in their cells bit-exactly, masks in ComfyUI's convention, in-between assembly."""

from dataclasses import replace

import pytest
import torch
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.grid import merge_image, split_image
from draw_a_video.nodes.engine.keyframes import (
    assemble_inbetweens,
    fit_to_cell,
    inbetween_order,
    inbetween_plan,
    keyframe_grids,
    parse_cells,
)
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.sequence_nodes import AssembleInbetweensNode, KeyframeGridNode

SMALL = GridLayout(cell_width=32, cell_height=16)  # 4x4, 128x64 px
MARKER = -7.0  # what the "sampler" draws into masked cells


def clip(count, layout=SMALL, channels=3):
    """Distinct random frames; frame i's top-left pixel is i (so order can be read back)."""
    frames = torch.rand(count, layout.cell_height, layout.cell_width, channels)
    frames[:, 0, 0, 0] = torch.arange(count, dtype=torch.float32)
    return frames


def cell_mask_values(mask, layout):
    """Per cell (frame order) of each grid: the mask's min and max over the cell."""
    cells = split_image(mask.unsqueeze(-1), layout)[..., 0]
    return cells.amin(dim=(1, 2)), cells.amax(dim=(1, 2))


def fake_sample(image, mask):
    """A stand-in sampler: masked pixels are drawn (MARKER), unmasked ones kept."""
    return torch.where(mask.unsqueeze(-1) > 0.5, torch.full_like(image, MARKER), image)


def gutter_of(layout):
    ones = merge_image(torch.ones(layout.frames, layout.cell_height, layout.cell_width, 1), layout)[0, ..., 0]
    return ones == 0


# -- continue ---------------------------------------------------------------

@pytest.mark.parametrize("order", ["row-major", "serpentine", "column-major"])
@pytest.mark.parametrize("gutter", [0, 16])
def test_continue_puts_the_last_frames_first_and_masks_the_rest(order, gutter):
    layout = replace(SMALL, order=order, gutter=gutter)
    frames = clip(20, layout)
    image, mask, cells_to_draw, keyframes = KeyframeGridNode().build(frames, layout, "continue", 4, "")
    assert image.shape == (1, layout.height, layout.width, 3) and mask.shape == (1, layout.height, layout.width)
    assert (cells_to_draw, keyframes) == (12, 4)
    cells = split_image(image, layout)
    assert torch.equal(cells[:4], frames[-4:])  # bit-exact, in frame order
    low, high = cell_mask_values(mask, layout)
    assert torch.equal(low, high)  # each cell wholly drawn or wholly kept
    assert torch.equal(low, torch.tensor([0.0] * 4 + [1.0] * 12))
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    if gutter:
        assert torch.all(mask[0][gutter_of(layout)] == 0) and torch.all(image[0][gutter_of(layout)] == 0)


def test_continue_cells_to_draw_start_as_the_last_known_frame():
    frames = clip(8)
    image, _, _ = keyframe_grids(frames, SMALL, "continue", overlap=2)
    assert all(torch.equal(cell, frames[-1]) for cell in split_image(image, SMALL)[2:])


def test_mask_matches_how_comfyui_samplers_use_it():
    """comfy/samplers.py KSamplerX0Inpaint: out = out * mask + latent_image * (1 - mask); reshape_mask scales a
    pixel mask to the latent bilinearly. Cells on 16 px borders stay exactly 0/1 per latent cell at 1/8."""
    frames = clip(5)
    image, mask, _ = keyframe_grids(frames, SMALL, "continue", overlap=5)
    latent_mask = torch.nn.functional.interpolate(mask.unsqueeze(1), size=(SMALL.height // 8, SMALL.width // 8), mode="bilinear")
    assert set(latent_mask.unique().tolist()) == {0.0, 1.0}
    drawn = torch.full_like(image, MARKER)
    kept = drawn * mask.unsqueeze(-1) + image * (1 - mask.unsqueeze(-1))
    assert torch.equal(split_image(kept, SMALL)[:5], frames)
    assert torch.all(split_image(kept, SMALL)[5:] == MARKER)


def test_frames_of_another_size_are_centre_cropped_and_resized_to_the_cell():
    wide = torch.ones(4, 40, 96, 3)  # 2.4:1 into a 2:1 cell: 8 white columns cut off each side
    wide[:, :, 8:88] = 51 / 255
    tall = torch.ones(4, 64, 64, 3)  # 1:1: 16 white rows cut off top and bottom
    tall[:, 16:48] = 153 / 255
    for frames, value in ((wide, 51 / 255), (tall, 153 / 255)):
        image, _, _ = keyframe_grids(frames, SMALL, "custom", cells="0,1,2,3")
        cells = split_image(image, SMALL)[:4]
        assert cells.shape == (4, 16, 32, 3)
        assert torch.allclose(cells[:, 3:-3, 3:-3], torch.full_like(cells[:, 3:-3, 3:-3], value), atol=1e-6)
        assert (cells - value).abs().max() < 0.06  # the white bars were cropped, not squeezed in (Lanczos rings a little)
    same = clip(2)
    assert fit_to_cell(same, 16, 32) is same  # the cell's size already: untouched


# -- custom -----------------------------------------------------------------

@pytest.mark.parametrize("order", ["row-major", "serpentine"])
def test_custom_cells_receive_the_frames_in_order(order):
    layout = replace(SMALL, order=order)
    frames = clip(4, layout)
    image, mask, plan = keyframe_grids(frames, layout, "custom", cells=" 0, 5,10 ,15")
    cells = split_image(image, layout)
    for frame, cell in enumerate([0, 5, 10, 15]):
        assert torch.equal(cells[cell], frames[frame])
    low, high = cell_mask_values(mask, layout)
    assert torch.equal(low, high)
    assert [i for i in range(16) if low[i] == 0] == [0, 5, 10, 15]
    # A cell between two known ones starts as their linear blend: cell 3 is 3/5 of the way from frame 0 to 1.
    assert torch.allclose(cells[3], frames[0] * 0.4 + frames[1] * 0.6)
    assert plan.draw_count == 12


def test_parse_cells_ranges_and_errors():
    assert parse_cells("0-3, 8;12", SMALL) == [0, 1, 2, 3, 8, 12]
    assert parse_cells("0,-1", SMALL) == [0, 15] and parse_cells("-16, - 2", SMALL) == [0, 14]
    for text, message in [
        ("0,x,3", "'x' is not a cell number"),
        ("1.5", "not a cell number"),
        ("--1", "not a cell number"),
        ("-0", "cell -0 is outside the 4x4 layout; counting from the end goes from -1"),
        ("-17", "cell -17 is outside the 4x4 layout"),
        ("15,-1", "cell 15 is listed twice"),
        ("0,16", "cell 16 is outside the 4x4 layout, whose cells are 0..15"),
        ("2,2", "listed twice"),
        ("5-2", "runs backwards"),
        (" , ", "cells is empty"),
    ]:
        with pytest.raises(DrawAVideoError, match=message):
            parse_cells(text, SMALL)


def test_custom_frame_count_must_match_the_cells():
    with pytest.raises(DrawAVideoError, match="5 images but cells lists 4 .more frames than listed cells"):
        keyframe_grids(clip(5), SMALL, "custom", cells="0,5,10,15")
    with pytest.raises(DrawAVideoError, match="fewer frames"):
        keyframe_grids(clip(3), SMALL, "custom", cells="0,5,10,15")
    with pytest.raises(DrawAVideoError, match="nothing is left to draw"):
        keyframe_grids(clip(16), SMALL, "custom", cells="0-15")


def test_continue_errors():
    with pytest.raises(DrawAVideoError, match="overlap is 16 but the 4x4 grid has 16 cells"):
        keyframe_grids(clip(20), SMALL, "continue", overlap=16)
    with pytest.raises(DrawAVideoError, match="overlap is 4 but frames holds only 3"):
        keyframe_grids(clip(3), SMALL, "continue", overlap=4)
    with pytest.raises(DrawAVideoError, match="mode is 'sideways'"):
        keyframe_grids(clip(3), SMALL, "sideways")
    with pytest.raises(DrawAVideoError, match="empty batch"):
        keyframe_grids(torch.zeros(0, 16, 32, 3), SMALL, "continue")


# -- in-between ---------------------------------------------------------------

@pytest.mark.parametrize("order", ["row-major", "serpentine"])
def test_sixteen_keyframes_become_31_frames_through_split_and_assemble(order):
    layout = replace(SMALL, order=order)
    keys = clip(16, layout)
    image, mask, drawn, count = KeyframeGridNode().build(keys, layout, "in-between", 4, "")
    assert image.shape[0] == mask.shape[0] == 3 and count == 16 and drawn == 24
    # Every grid: keyframes in even cells (kept), everything else drawn.
    low, high = cell_mask_values(mask, layout)
    assert torch.equal(low, high) and torch.equal(low, torch.tensor([0.0, 1.0] * 24))
    cells = split_image(image, layout)
    for grid, first in enumerate([0, 7, 8]):
        for j in range(8):
            assert torch.equal(cells[grid * 16 + 2 * j], keys[first + j])
    # The in-between cells start as the midpoint of their two keyframes.
    assert torch.allclose(cells[1], (keys[0] + keys[1]) / 2)

    sampled = split_image(fake_sample(image, mask), layout)
    frames, frame_count = AssembleInbetweensNode().assemble(sampled, layout, count)
    assert frames.shape[0] == frame_count == 31
    assert torch.equal(frames[0::2], keys)  # k0 ? k1 ? ... k15, keyframes bit-exact
    assert torch.all(frames[1::2] == MARKER)


def test_each_inbetween_comes_from_a_grid_holding_both_its_keyframes():
    plan = inbetween_plan(SMALL, 16)
    order = inbetween_order(SMALL, 16)
    for i in range(15):
        grid, cell = order[2 * i + 1]
        held = plan.cells[grid]
        assert held[cell] is None and held[cell - 1] == i and held[cell + 1] == i + 1


@pytest.mark.parametrize("count,grids", [(2, 1), (5, 1), (8, 1), (9, 2), (15, 2), (16, 3), (22, 3), (23, 4)])
def test_any_keyframe_count_gives_2k_minus_1_frames(count, grids):
    keys = clip(count)
    image, mask, _ = keyframe_grids(keys, SMALL, "in-between")
    assert image.shape[0] == grids
    frames = assemble_inbetweens(split_image(fake_sample(image, mask), SMALL), SMALL, count)
    assert frames.shape[0] == 2 * count - 1
    assert torch.equal(frames[0::2], keys) and torch.all(frames[1::2] == MARKER)


def test_odd_cell_count_uses_every_cell():
    layout = GridLayout(rows=3, cols=3, cell_width=16, cell_height=16)
    plan = inbetween_plan(layout, 9)
    assert plan.cells == ((0, None, 1, None, 2, None, 3, None, 4), (4, None, 5, None, 6, None, 7, None, 8))


def test_assemble_uses_original_keyframes_when_given():
    keys = clip(9)
    image, mask, _ = keyframe_grids(keys, SMALL, "in-between")
    sampled = split_image(fake_sample(image, mask), SMALL) + 0.01  # a VAE round trip shifts kept cells a little
    frames, _ = AssembleInbetweensNode().assemble(sampled, SMALL, 9, keyframes=keys)
    assert torch.equal(frames[0::2], keys)
    big = torch.nn.functional.interpolate(keys.movedim(-1, 1), scale_factor=2, mode="nearest").movedim(1, -1)
    frames, _ = AssembleInbetweensNode().assemble(sampled, SMALL, 9, keyframes=big)  # fitted to the frame size
    assert frames.shape[1:] == (16, 32, 3)


def test_inbetween_and_assemble_errors():
    with pytest.raises(DrawAVideoError, match="at least 2 keyframes"):
        keyframe_grids(clip(1), SMALL, "in-between")
    tiny = GridLayout(rows=1, cols=2, cell_width=16, cell_height=16)
    with pytest.raises(DrawAVideoError, match="need at least 3"):
        keyframe_grids(clip(4, tiny), tiny, "in-between")
    with pytest.raises(DrawAVideoError, match="32 images but 16 keyframes .* make 3 in-between grid.s. = 48 frames"):
        assemble_inbetweens(clip(32), SMALL, 16)
    with pytest.raises(DrawAVideoError, match="keyframes holds 5 images but keyframe_count is 16"):
        assemble_inbetweens(clip(48), SMALL, 16, keyframes=clip(5))


def test_node_specs_have_tooltips():
    for node in (KeyframeGridNode, AssembleInbetweensNode):
        spec = node.INPUT_TYPES()
        for section in spec.values():
            assert all("tooltip" in options for _, options in section.values())
        assert node.CATEGORY == "Draw-a-Video/sequence" and len(node.OUTPUT_TOOLTIPS) == len(node.RETURN_TYPES)
