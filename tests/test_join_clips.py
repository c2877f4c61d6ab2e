"""Join Clips: overlap dropped, frame counts, cross-fade weights, size checks."""

import pytest
import torch
from draw_a_video.nodes.engine.clips import crossfade_weights, join_clips
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.sequence_nodes import JoinClipsNode


def numbered(count, start=0, size=(6, 10)):
    """Frames filled with their number: frame i is all start + i."""
    values = torch.arange(start, start + count, dtype=torch.float32)
    return values.view(-1, 1, 1, 1).expand(count, *size, 3).clone()


def test_two_chained_grids_with_overlap_4_give_28_frames_in_order():
    a = numbered(16)  # frames 0..15
    b = numbered(16, start=12)  # a continue grid: opens with a's last 4 (12..15), then 16..27
    frames, count = JoinClipsNode().join(a, b, overlap=4, crossfade=0)
    assert count == frames.shape[0] == 28
    assert torch.equal(frames, numbered(28))


@pytest.mark.parametrize("crossfade", [1, 2, 3, 5])
def test_crossfade_count_and_linear_weights(crossfade):
    a, b = torch.rand(16, 4, 8, 3), torch.rand(16, 4, 8, 3)
    frames = join_clips(a, b, overlap=4, crossfade=crossfade)
    assert frames.shape[0] == 16 + 16 - 4 - crossfade
    keep_a = 16 - crossfade
    assert torch.equal(frames[:keep_a], a[:keep_a])
    assert torch.equal(frames[keep_a + crossfade :], b[4 + crossfade :])
    for i in range(crossfade):
        w = (i + 1) / (crossfade + 1)
        assert torch.allclose(frames[keep_a + i], a[keep_a + i] * (1 - w) + b[4 + i] * w, atol=1e-6)


def test_crossfade_weights_step_evenly_between_the_clips():
    assert torch.allclose(crossfade_weights(3), torch.tensor([0.25, 0.5, 0.75]))
    assert crossfade_weights(0).numel() == 0


def test_no_overlap_is_a_plain_concatenation():
    a, b = torch.rand(3, 4, 8, 3), torch.rand(5, 4, 8, 3)
    assert torch.equal(join_clips(a, b), torch.cat([a, b]))


def test_size_mismatch_and_bad_counts_are_refused():
    a = torch.rand(16, 4, 8, 3)
    with pytest.raises(DrawAVideoError, match="clip_a frames are 8x4 with 3 channels but clip_b frames are 8x6 with 3"):
        join_clips(a, torch.rand(16, 6, 8, 3), overlap=4)
    with pytest.raises(DrawAVideoError, match="overlap is 20"):
        join_clips(a, torch.rand(16, 4, 8, 3), overlap=20)
    with pytest.raises(DrawAVideoError, match="crossfade is 13 .* use at most 12"):
        join_clips(a, torch.rand(16, 4, 8, 3), overlap=4, crossfade=13)
    with pytest.raises(DrawAVideoError, match="clip_b must be a ComfyUI IMAGE"):
        join_clips(a, torch.rand(4, 8, 3))


def test_node_spec_has_tooltips():
    spec = JoinClipsNode.INPUT_TYPES()["required"]
    assert all("tooltip" in options for _, options in spec.values())
    assert JoinClipsNode.CATEGORY == "Draw-a-Video/sequence"
