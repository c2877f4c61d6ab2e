"""Colour matching: strength 0 is the identity, 1 matches the statistics, drift and flicker go away."""

import pytest
import torch
import torch.nn.functional as F
from draw_a_video.nodes.analysis_nodes import MatchColorsNode
from draw_a_video.nodes.engine.color_match import lab_to_srgb, match_colors, srgb_to_lab
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.quality import flicker


def clip(frames=12, height=48, width=64, seed=0):
    """A slowly panning, mid-toned textured scene [N,H,W,3] (no clipping when colours move)."""
    gen = torch.Generator().manual_seed(seed)
    scene = F.interpolate(torch.rand(1, 3, 6, 12, generator=gen), size=(height, width + 4 * frames), mode="bicubic", align_corners=False)
    scene = (0.25 + 0.5 * scene[0].permute(1, 2, 0)).clamp(0, 1)
    return torch.stack([scene[:, 4 * t : 4 * t + width] for t in range(frames)])


def drifted(frames):
    """The clip with brightness flicker and a colour cast that drifts warmer frame by frame."""
    n = frames.shape[0]
    gain = torch.tensor([1.12 if t % 2 else 0.9 for t in range(n)])[:, None, None, None]
    cast = torch.stack([torch.linspace(0, 0.08, n), torch.zeros(n), torch.linspace(0, -0.08, n)], dim=1)[:, None, None, :]
    return (frames * gain + cast).clamp(0, 1)


def lab_stats(images):
    lab = srgb_to_lab(images).reshape(images.shape[0], -1, 3)
    return lab.mean(dim=1), lab.std(dim=1, unbiased=False)


def test_lab_conversion_known_values_and_round_trip():
    lab = srgb_to_lab(torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    assert torch.allclose(lab, torch.tensor([[100.0, 0.0, 0.0], [53.24, 80.09, 67.20], [0.0, 0.0, 0.0]]), atol=0.02)
    rgb = torch.rand(500, 3, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(lab_to_srgb(srgb_to_lab(rgb)), rgb, atol=1e-4)


def test_strength_zero_returns_the_input_exactly():
    frames = drifted(clip())
    assert match_colors(frames, strength=0.0) is frames
    assert torch.equal(MatchColorsNode().match(frames, 0.0, "clip mean")[0], frames)


def test_full_strength_matches_the_reference_statistics():
    frames = drifted(clip())
    reference = clip(frames=1, seed=5)
    out = match_colors(frames, strength=1.0, reference=reference)
    mean, std = lab_stats(out)
    ref_mean, ref_std = lab_stats(reference)
    assert torch.allclose(mean, ref_mean.expand_as(mean), atol=0.5)  # L 0..100, a/b about +-100
    assert torch.allclose(std, ref_std.expand_as(std), rtol=0.05, atol=0.2)
    half = match_colors(frames, strength=0.5, reference=reference)
    assert torch.allclose(half, (frames + out) / 2, atol=1e-5)  # strength blends linearly


def test_drift_and_flicker_are_removed():
    steady = clip()
    frames = drifted(steady)
    assert flicker(frames) > 5 * flicker(steady)
    warmth_before = lab_stats(frames)[0][:, 2]
    for mode in ("first frame", "clip mean"):
        out = match_colors(frames, strength=1.0, mode=mode, chunk=5)
        assert flicker(out) < flicker(frames) / 5, mode
        warmth = lab_stats(out)[0][:, 2]  # b: the cast pushed it up frame by frame
        assert float(warmth.max() - warmth.min()) < 0.25 * float(warmth_before.max() - warmth_before.min())
    first = match_colors(frames, 1.0, mode="first frame")
    assert torch.allclose(first[0], frames[0], atol=1e-3)  # the first frame is its own reference


def test_chunks_alpha_and_grey():
    frames = drifted(clip())
    assert torch.allclose(match_colors(frames, 1.0, mode="clip mean", chunk=3), match_colors(frames, 1.0, mode="clip mean", chunk=64), atol=1e-5)
    alpha = torch.rand(frames.shape[0], 48, 64, 1, generator=torch.Generator().manual_seed(3))
    out = match_colors(torch.cat([frames, alpha], dim=-1), 1.0)
    assert out.shape[-1] == 4 and torch.equal(out[..., 3:], alpha)
    assert torch.allclose(out[..., :3], match_colors(frames, 1.0), atol=1e-6)
    grey = frames.mean(dim=-1, keepdim=True)
    matched = match_colors(grey, 1.0, reference=grey[:1])
    assert torch.allclose(matched.mean(dim=(1, 2, 3)), grey[0].mean().expand(grey.shape[0]), atol=2e-3)


def test_node_and_bad_inputs():
    frames = drifted(clip())
    spec = MatchColorsNode.INPUT_TYPES()
    for section in spec.values():
        assert all("tooltip" in opts for _, opts in section.values() if isinstance(opts, dict))
    (out,) = MatchColorsNode().match(frames, 1.0, "first frame", reference=frames[3:4])
    assert torch.equal(out, match_colors(frames, 1.0, frames[3:4]))
    with pytest.raises(DrawAVideoError, match="strength"):
        match_colors(frames, 1.5)
    with pytest.raises(DrawAVideoError, match="mode"):
        match_colors(frames, 1.0, mode="last frame")
    with pytest.raises(DrawAVideoError, match="reference"):
        match_colors(frames, 1.0, reference=torch.rand(48, 64, 3))
