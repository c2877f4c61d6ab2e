"""The trainable RoPE: ComfyUI's maths, gradients where needed, the fused op everywhere else."""

import torch
from draw_a_video.nodes import host
from draw_a_video.nodes.engine.trainable_rope import dispatching_rope, rope1
from draw_a_video.nodes.training_nodes import TrainableFluxNode


def freqs(tokens: int, pairs: int) -> torch.Tensor:
    """FLUX's [1, 1, tokens, pairs, 2, 2] rotation matrices, as comfy.ldm.flux.math.rope builds them."""
    angle = torch.rand(1, 1, tokens, pairs) * 6.28
    cos, sin = torch.cos(angle), torch.sin(angle)
    return torch.stack([cos, -sin, sin, cos], dim=-1).reshape(1, 1, tokens, pairs, 2, 2)


class NoBackward(torch.autograd.Function):
    """Stands in for comfy-kitchen's fused op: right values, no gradient."""

    @staticmethod
    def forward(ctx, x, f):
        return rope1(x.detach(), f.detach())

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("no autograd formula was registered")


def test_rope_is_a_rotation_of_each_pair():
    x, f = torch.randn(1, 2, 5, 8), freqs(5, 4)
    as_complex = torch.view_as_complex(x.reshape(1, 2, 5, 4, 2).contiguous())
    angle = torch.atan2(f[..., 1, 0], f[..., 0, 0])  # sin, cos
    expected = torch.view_as_real(as_complex * torch.polar(torch.ones_like(angle), angle)).reshape(x.shape)
    assert torch.allclose(rope1(x, f), expected, atol=1e-6)


def test_gradients_take_the_torch_path_and_inference_the_fused_op():
    calls = []

    def fused_rope(q, k, f):
        calls.append("rope")
        return NoBackward.apply(q, f), NoBackward.apply(k, f)

    def fused_rope1(x, f):
        calls.append("rope1")
        return NoBackward.apply(x, f)

    apply_rope, apply_rope1 = dispatching_rope(fused_rope, fused_rope1)
    q, k, f = torch.randn(1, 2, 5, 8, requires_grad=True), torch.randn(1, 2, 5, 8), freqs(5, 4)
    out_q, out_k = apply_rope(q, k, f)
    (out_q.sum() + out_k.sum()).backward()
    assert calls == [] and q.grad is not None
    # d(sum of rotated pairs)/dx is the column sums of each rotation: checks the backward is the real one
    assert torch.allclose(q.grad.reshape(1, 2, 5, 4, 2), f.sum(dim=-2).expand(1, 2, 5, 4, 2), atol=1e-6)
    with torch.no_grad():
        assert torch.equal(apply_rope(q, k, f)[0], rope1(q, f)) and calls == ["rope"]
    assert torch.equal(apply_rope1(k, f), rope1(k, f)) and calls == ["rope", "rope1"]  # k needs no grad
    with torch.inference_mode():
        apply_rope1(q, f)
    assert calls[-1] == "rope1"


def test_node_passes_the_model_through_and_does_nothing_outside_comfyui():
    model = object()
    assert TrainableFluxNode().apply(model) == (model,)
    assert "not inside ComfyUI" in host.make_flux_rope_trainable()
