"""Grid quality: adherence, smoothness and flicker rank drawn grids the way the eye would."""

import json

import pytest
import torch
import torch.nn.functional as F
from draw_a_video.nodes.analysis_nodes import GridQualityNode
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.grid import merge_image
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.engine.quality import clip_metrics, flicker, grid_quality, smoothness

LAYOUT = GridLayout(rows=4, cols=4, cell_width=160, cell_height=96)


def scene_clip(frames=16, height=96, width=160, seed=0):
    """A camera panning over a scene (sky above, ground below) while a red disc moves: [N,H,W,3]."""
    gen = torch.Generator().manual_seed(seed)
    wide = width + 8 * frames
    y = torch.linspace(0, 1, height)[:, None, None]
    scene = torch.tensor([0.3, 0.5, 0.9]) * (1 - y) + torch.tensor([0.4, 0.3, 0.1]) * y  # sky -> ground
    texture = F.interpolate(torch.rand(1, 3, 6, wide // 16, generator=gen), size=(height, wide), mode="bicubic", align_corners=False)
    scene = (scene + 0.3 * (texture[0].permute(1, 2, 0) - 0.5)).clamp(0, 1)
    yy, xx = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    clip = []
    for t in range(frames):
        frame = scene[:, 8 * t : 8 * t + width].clone()
        disc = (yy - height * 0.5) ** 2 + (xx - 30 - 6 * t) ** 2 < 14**2
        frame[disc] = torch.tensor([0.9, 0.1, 0.1])
        clip.append(frame)
    return torch.stack(clip)


def misplaced_grid(frames, layout, row_offsets, col_offsets):
    """The frames drawn into cells whose internal borders sit `offsets` px off the layout: [H,W,3]."""
    rows = [0] + [k * layout.cell_height + o for k, o in enumerate(row_offsets, 1)] + [layout.height]
    cols = [0] + [k * layout.cell_width + o for k, o in enumerate(col_offsets, 1)] + [layout.width]
    grid = torch.zeros(layout.height, layout.width, 3)
    for i, frame in enumerate(frames):
        r, c = layout.cell_of_frame(i)
        h, w = rows[r + 1] - rows[r], cols[c + 1] - cols[c]
        cell = F.interpolate(frame.permute(2, 0, 1)[None], size=(h, w), mode="bilinear", align_corners=False)
        grid[rows[r] : rows[r + 1], cols[c] : cols[c + 1]] = cell[0].permute(1, 2, 0)
    return grid


def test_clean_grid_beats_shuffled_and_misplaced_ones():
    clip = scene_clip()
    clean = merge_image(clip, LAYOUT)[0]
    shuffled = merge_image(clip[torch.randperm(16, generator=torch.Generator().manual_seed(1))], LAYOUT)[0]
    misplaced = misplaced_grid(clip, LAYOUT, [12, -12, 12], [-12, 12, -12])
    report = grid_quality(torch.stack([shuffled, clean, misplaced]), LAYOUT)
    shuffled_q, clean_q, misplaced_q = report["grids"]
    assert report["best_index"] == 1
    assert clean_q["adherence"] > 0.9 and clean_q["smoothness"] > 0.7
    assert clean_q["smoothness"] > shuffled_q["smoothness"] + 0.2  # the pan jumps around
    assert clean_q["score"] > shuffled_q["score"] + 0.05
    assert misplaced_q["adherence"] < 0.4  # borders found, but 12 px off the layout
    assert clean_q["score"] > misplaced_q["score"] + 0.2
    assert misplaced_q["smoothness"] > 0.7  # registration cut the misplaced cells right


def test_flicker_is_measured_around_a_trend():
    clip = scene_clip()
    assert flicker(clip) < 0.005
    wobble = torch.tensor([1.15 if t % 2 else 0.85 for t in range(16)])
    flickering = (clip * wobble[:, None, None, None]).clamp(0, 1)
    assert flicker(flickering) > 0.03
    fade = (clip * torch.linspace(1.0, 0.5, 16)[:, None, None, None])
    assert flicker(fade) < 0.005  # a steady fade is not flicker
    # Brightness changes are flicker's business, not smoothness's.
    assert smoothness(flickering) == pytest.approx(smoothness(clip), abs=0.03)


def test_flickering_grid_scores_lower():
    clip = scene_clip()
    wobble = torch.tensor([1.2 if t % 2 else 0.8 for t in range(16)])
    steady = merge_image(clip, LAYOUT)
    flickering = merge_image((clip * wobble[:, None, None, None]).clamp(0, 1), LAYOUT)
    report = grid_quality(torch.cat([flickering, steady]), LAYOUT)
    assert report["grids"][0]["flicker"] > 0.03 > report["grids"][1]["flicker"]
    assert report["grids"][0]["steadiness"] < 0.4 and report["grids"][1]["steadiness"] > 0.9
    assert report["best_index"] == 1


def test_smoothness_range():
    clip = scene_clip()
    still = clip[:1].expand(8, -1, -1, -1)
    assert smoothness(still) == pytest.approx(1.0)
    noise = torch.rand(8, 96, 160, 3, generator=torch.Generator().manual_seed(2))
    assert smoothness(noise) < 0.5
    assert clip_metrics(clip[:1]) == {"smoothness": 1.0, "flicker": 0.0, "largest_jump": 0.0}


def test_node_reports_json_and_returns_the_best_grid():
    clip = scene_clip()
    grid = merge_image(clip, LAYOUT)[0]
    grids = torch.stack([torch.full_like(grid, 0.5), grid])
    spec = GridQualityNode.INPUT_TYPES()
    for section in spec.values():
        assert all("tooltip" in opts for _, opts in section.values() if isinstance(opts, dict))
    assert len(GridQualityNode.OUTPUT_TOOLTIPS) == len(GridQualityNode.RETURN_TYPES)
    report, best, best_grid = GridQualityNode().score(grids, LAYOUT)
    data = json.loads(report)
    assert best == data["best_index"] == 1
    assert torch.equal(best_grid, grids[1:2])
    assert set(data["grids"][0]) >= {"index", "score", "adherence", "smoothness", "flicker", "steadiness", "largest_jump"}
    assert data["weights"] == {"adherence": 0.5, "smoothness": 0.3, "steadiness": 0.2}
    # Weights steer the choice: on smoothness alone the flat grey grid (perfectly still) wins.
    _, best, _ = GridQualityNode().score(grids, LAYOUT, 16, 0.0, 1.0, 0.0)
    assert best == 0


def test_bad_inputs_are_explained():
    grid = torch.rand(1, 384, 640, 3)
    with pytest.raises(DrawAVideoError, match="weights"):
        grid_quality(grid, LAYOUT, weights={"adherence": 0, "smoothness": 0, "steadiness": 0})
    with pytest.raises(DrawAVideoError, match="unknown weight"):
        grid_quality(grid, LAYOUT, weights={"beauty": 1})
    with pytest.raises(DrawAVideoError, match="needs 640x384"):
        grid_quality(torch.rand(1, 300, 640, 3), LAYOUT)
