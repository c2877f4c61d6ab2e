"""Cell registration: borders drawn off the layout are found to the pixel, and cut there."""

import json
import math

import pytest
import torch
import torch.nn.functional as F
from draw_a_video.nodes.analysis_nodes import RegisterGridNode
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.grid import merge_image, split_image
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.engine.registration import EXPECTED_COLOR, FOUND_COLOR, draw_overlay, register_grid
from draw_a_video.nodes.grid_nodes import SplitImageGridNode

SMALL = GridLayout(rows=4, cols=4, cell_width=160, cell_height=96)  # 640x384: half the method's grid
SMALL_GUTTER = GridLayout(rows=3, cols=3, cell_width=160, cell_height=96, gutter=16)


# -- synthetic grids (the benchmark draws the same kind, larger and more) ---------

def picture(gen, height, width):
    """A random picture [H,W,3]: colour gradient + smooth texture + shapes + noise."""
    y = torch.linspace(0, 1, height)[:, None, None]
    x = torch.linspace(0, 1, width)[None, :, None]
    angle = float(torch.rand(1, generator=gen)) * 2 * math.pi
    ramp = (x * math.cos(angle) + y * math.sin(angle)).clamp(0, 1.5) / 1.5
    a, b = torch.rand(3, generator=gen), torch.rand(3, generator=gen)
    img = a + (b - a) * ramp
    coarse = torch.rand(1, 3, 4, 6, generator=gen) - 0.5
    img = img + 0.3 * F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)[0].permute(1, 2, 0)
    for _ in range(3):
        cy, cx, r = torch.rand(3, generator=gen).tolist()
        inside = ((y - cy) ** 2 + ((x - cx) * width / height) ** 2) < (0.1 + 0.3 * r) ** 2
        img = torch.where(inside, torch.rand(3, generator=gen), img)
    return (img + 0.02 * torch.randn(height, width, 3, generator=gen)).clamp(0, 1)


def drawn_grid(gen, layout, offsets_rows, offsets_cols, line=0, separator=1.0):
    """A grid whose internal borders sit `offsets` px off the layout; `line` px separators if given.

    Returns (image [H,W,3], true row spans [R,2], true col spans [C,2]), spans as (start, end) pixels.
    """
    g = layout.gutter

    def spans(count, cell, offsets, length):
        cut = torch.arange(1, count) * (cell + g) - g + torch.tensor(offsets, dtype=torch.long)
        ends = cut - line // 2
        starts = ends + (g or line)
        return torch.stack([torch.cat([torch.tensor([0]), starts]), torch.cat([ends, torch.tensor([length])])], 1)

    rows = spans(layout.rows, layout.cell_height, offsets_rows, layout.height)
    cols = spans(layout.cols, layout.cell_width, offsets_cols, layout.width)
    img = torch.full((layout.height, layout.width, 3), separator)
    for top, bottom in rows.tolist():
        for left, right in cols.tolist():
            img[top:bottom, left:right] = picture(gen, bottom - top, right - left)
    return img, rows, cols


def edge_errors(found, truth):
    return torch.cat([(found[:-1, 1] - truth[:-1, 1]).abs(), (found[1:, 0] - truth[1:, 0]).abs()])


def random_offsets(gen, n, limit=12):
    return torch.randint(-limit, limit + 1, (n,), generator=gen).tolist()


# -- accuracy ---------------------------------------------------------------------

@pytest.mark.parametrize("style", ["cut", "line", "gutter"])
def test_moved_borders_are_found_within_one_pixel(style):
    layout = SMALL_GUTTER if style == "gutter" else SMALL
    gen = torch.Generator().manual_seed({"cut": 1, "line": 2, "gutter": 3}[style])
    errors = []
    for _ in range(4):
        line = int(torch.randint(2, 7, (1,), generator=gen)) if style == "line" else 0
        img, rows, cols = drawn_grid(gen, layout, random_offsets(gen, layout.rows - 1), random_offsets(gen, layout.cols - 1), line)
        found = register_grid(img[None], layout)
        errors.append(torch.cat([edge_errors(found.rows[0], rows), edge_errors(found.cols[0], cols)]))
    errors = torch.cat(errors)
    assert int(errors.max()) <= 1, errors.tolist()


def test_borders_between_frames_of_one_panning_scene_are_found():
    # Neighbouring cells show nearly the same picture; only the frames' misalignment marks a border.
    gen = torch.Generator().manual_seed(13)
    scene = picture(gen, SMALL.height, SMALL.width * 2)
    rows = torch.tensor([[0, 104], [104, 187], [187, 297], [297, 384]])
    cols = torch.tensor([[0, 150], [150, 328], [328, 471], [471, 640]])
    img = torch.zeros(SMALL.height, SMALL.width, 3)
    for r, (top, bottom) in enumerate(rows.tolist()):
        for c, (left, right) in enumerate(cols.tolist()):
            t = r * 4 + c  # the camera pans 10 px and dips 3 px a frame
            img[top:bottom, left:right] = scene[3 * t : 3 * t + bottom - top, 10 * t : 10 * t + right - left]
    found = register_grid(img[None], SMALL)
    assert torch.equal(found.rows[0], rows) and torch.equal(found.cols[0], cols)


def test_full_size_grid_borders_found_exactly():
    layout = GridLayout()
    gen = torch.Generator().manual_seed(7)
    img, rows, cols = drawn_grid(gen, layout, [12, -9, 5], [-12, 3, 11])
    found = register_grid(img[None], layout)
    assert torch.equal(found.rows[0], rows) and torch.equal(found.cols[0], cols)
    assert found.frames.shape == (16, 192, 320, 3)


def test_found_cells_have_no_slivers_of_their_neighbours():
    # Flat, distinct colours: a frame cut at the wrong place would hold two colours.
    layout = SMALL
    colours = torch.rand(16, 3, generator=torch.Generator().manual_seed(0))
    rows = torch.tensor([0, 96 + 10, 192 - 8, 288 + 6, 384])
    cols = torch.tensor([0, 160 - 11, 320 + 7, 480 + 12, 640])
    img = torch.zeros(layout.height, layout.width, 3)
    for r in range(4):
        for c in range(4):
            img[rows[r] : rows[r + 1], cols[c] : cols[c + 1]] = colours[r * 4 + c]
    found = register_grid(img[None], layout).frames
    assert torch.allclose(found, colours[:, None, None, :].expand_as(found), atol=1e-6)
    plain = split_image(img[None], layout)
    assert not torch.allclose(plain, colours[:, None, None, :].expand_as(plain), atol=1e-2)


def test_grid_on_the_layout_is_cut_exactly_like_split_and_scores_high():
    gen = torch.Generator().manual_seed(4)
    frames = torch.stack([picture(gen, 96, 160) for _ in range(16)])
    grid = merge_image(frames, SMALL)
    found = register_grid(grid, SMALL)
    assert torch.equal(found.frames, split_image(grid, SMALL))
    assert torch.equal(found.rows[0], found.expected_rows) and torch.equal(found.cols[0], found.expected_cols)
    assert float(found.adherence[0]) > 0.95


def test_adherence_falls_with_moved_borders_and_without_a_grid():
    gen = torch.Generator().manual_seed(5)
    clean, _, _ = drawn_grid(gen, SMALL, [0, 0, 0], [0, 0, 0])
    moved, _, _ = drawn_grid(gen, SMALL, [12, -12, 12], [-12, 12, -12])
    continuous = picture(gen, SMALL.height, SMALL.width)
    five_columns = merge_image(torch.stack([picture(gen, 96, 128) for _ in range(20)]), GridLayout(4, 5, 128, 96))[0]
    scores = register_grid(torch.stack([clean, moved, continuous, five_columns]), SMALL).adherence.tolist()
    assert scores[0] > 0.95
    assert 0.1 < scores[1] < 0.4  # found, but 12 of 16 px off: placement 0.25
    assert scores[2] < 0.1
    assert scores[3] < 0.6  # only the row borders are right
    # A picture with no grid is cut where the layout says, not at a shape's edge near a cut line.
    found = register_grid(continuous[None], SMALL)
    assert torch.equal(found.frames, split_image(continuous[None], SMALL))


def test_grid_drawn_twice_the_layout_size():
    gen = torch.Generator().manual_seed(6)
    img, rows, cols = drawn_grid(gen, GridLayout(4, 4, 320, 192), [20, -14, 8], [-22, 4, 16])
    found = register_grid(img[None], SMALL)  # the 640x384 layout, drawn at 1280x768: window 32 px
    assert torch.equal(found.rows[0], rows) and torch.equal(found.cols[0], cols)
    assert found.frames.shape == (16, 192, 320, 3)


def test_search_zero_keeps_the_layout_and_one_by_n_layouts_work():
    gen = torch.Generator().manual_seed(8)
    img, _, _ = drawn_grid(gen, SMALL, [9, 9, 9], [9, 9, 9])
    found = register_grid(img[None], SMALL, search_px=0)
    assert torch.equal(found.frames, split_image(img[None], SMALL))
    strip = GridLayout(rows=1, cols=6, cell_width=64, cell_height=48)
    img, rows, cols = drawn_grid(gen, strip, [], [5, -7, 3, 0, -4])
    found = register_grid(img[None], strip)
    assert torch.equal(found.cols[0], cols) and found.rows[0].tolist() == [[0, 48]]
    single = GridLayout(rows=1, cols=1, cell_width=64, cell_height=48)
    assert float(register_grid(torch.rand(1, 48, 64, 3), single).adherence[0]) == 1.0


def test_batch_alpha_and_frame_order():
    gen = torch.Generator().manual_seed(9)
    layout = GridLayout(2, 3, 96, 64, order="serpentine")
    a, ra, ca = drawn_grid(gen, layout, [6], [-5, 8])
    b, rb, cb = drawn_grid(gen, layout, [-9], [3, -2])
    rgba = torch.cat([torch.stack([a, b]), torch.rand(2, layout.height, layout.width, 1, generator=gen)], dim=-1)
    found = register_grid(rgba, layout)
    assert found.frames.shape == (12, 64, 96, 4)
    assert torch.equal(found.rows, torch.stack([ra, rb])) and torch.equal(found.cols, torch.stack([ca, cb]))
    # serpentine: frame 3 is row 1's last column, cut at the found spans and resized to the cell size
    (top, bottom), (left, right) = rb[1].tolist(), cb[2].tolist()
    cell = rgba[1, top:bottom, left:right]
    expected = F.interpolate(cell.permute(2, 0, 1)[None], size=(64, 96), mode="bilinear", align_corners=False)[0].permute(1, 2, 0)
    assert torch.allclose(found.frames[6 + 3], expected.clamp(0, 1), atol=1e-5)


def test_overlay_marks_expected_green_and_found_red():
    gen = torch.Generator().manual_seed(10)
    img, rows, cols = drawn_grid(gen, SMALL, [10, 0, 0], [0, 0, 0])
    found = register_grid(img[None], SMALL)
    overlay = draw_overlay(img[None], found)
    assert overlay.shape == (1, SMALL.height, SMALL.width, 3)
    col = 50  # a column away from vertical borders
    assert overlay[0, 96 - 2, col].tolist() == list(EXPECTED_COLOR)  # the layout's border, 3 px wide
    assert overlay[0, 96 + 10 - 1, col].tolist() == list(FOUND_COLOR)  # the drawn border, 10 px lower
    assert overlay[0, 192 - 1, col].tolist() == list(FOUND_COLOR)  # found where expected: red inside green
    assert overlay[0, 192 - 2, col].tolist() == list(EXPECTED_COLOR)
    assert torch.equal(overlay[0, 30:60, 30:60], img[30:60, 30:60])  # the rest untouched


def test_bad_inputs_are_explained():
    with pytest.raises(DrawAVideoError, match="1000x768.*needs 1280x768"):
        register_grid(torch.rand(1, 768, 1000, 3), GridLayout())
    with pytest.raises(DrawAVideoError, match="search_px"):
        register_grid(torch.rand(1, 384, 640, 3), SMALL, search_px=-1)
    with pytest.raises(DrawAVideoError, match="IMAGE"):
        register_grid(torch.rand(384, 640, 3), SMALL)


# -- nodes -------------------------------------------------------------------------

def test_split_node_align_off_is_unchanged_and_detect_aligns():
    gen = torch.Generator().manual_seed(11)
    img, rows, cols = drawn_grid(gen, SMALL, [7, -6, 11], [-9, 4, 10])
    node = SplitImageGridNode()
    spec = SplitImageGridNode.INPUT_TYPES()
    assert spec["optional"]["align"][1]["default"] == "off" and "align" not in spec["required"]
    old = node.split(img[None], SMALL)["result"][0]
    assert torch.equal(old, split_image(img[None], SMALL))
    assert torch.equal(node.split(img[None], SMALL, align="off")["result"][0], old)
    aligned = node.split(img[None], SMALL, align="detect")
    assert torch.equal(aligned["result"][0], register_grid(img[None], SMALL).frames)
    assert aligned["ui"]["frame_count"] == [16]
    with pytest.raises(DrawAVideoError, match="align"):
        node.split(img[None], SMALL, align="maybe")


def test_register_node_outputs():
    gen = torch.Generator().manual_seed(12)
    a, rows, cols = drawn_grid(gen, SMALL, [5, -5, 5], [5, -5, 5])
    b = picture(gen, SMALL.height, SMALL.width)
    spec = RegisterGridNode.INPUT_TYPES()
    assert all("tooltip" in opts for _, opts in spec["required"].values() if isinstance(opts, dict))
    assert len(RegisterGridNode.OUTPUT_TOOLTIPS) == len(RegisterGridNode.RETURN_TYPES)
    out = RegisterGridNode().register(torch.stack([a, b]), SMALL, 16)
    frames, adherence, report, overlay = out["result"]
    assert frames.shape == (32, 96, 160, 3) and overlay.shape == (2, 384, 640, 3)
    data = json.loads(report)
    assert data["grids"][0]["rows"] == rows.tolist() and data["grids"][0]["cols"] == cols.tolist()
    assert data["grids"][0]["adherence"] > 0.5 > data["grids"][1]["adherence"]
    assert adherence == pytest.approx((data["grids"][0]["adherence"] + data["grids"][1]["adherence"]) / 2, abs=1e-3)
    assert data["expected"]["rows"] == [[0, 96], [96, 192], [192, 288], [288, 384]]


def test_register_node_can_be_cancelled_between_grids():
    from draw_a_video.nodes import host

    host.request_interrupt()
    with pytest.raises(host.Interrupted):
        RegisterGridNode().register(torch.rand(2, 384, 640, 3), SMALL, 16)
