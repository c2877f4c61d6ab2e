"""A RoPE that autograd can train through, used only where gradients flow.

ComfyUI 0.8.0 applies FLUX's rotary embedding with comfy-kitchen's fused op,
which has no backward: its own TrainLoraNode then fails with "no autograd
formula". `dispatching_rope` wraps the fused functions so that calls needing
gradients take plain torch ops (the maths of ComfyUI's own fallback) and every
other call -- all of inference -- still takes the fused op, unchanged.
"""

from __future__ import annotations

import torch


def rope1(x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
    """Rotate each (even, odd) pair of `x`'s last axis by the 2x2 matrices in `freqs_cis` [..., 2, 2]."""
    pairs = x.to(freqs_cis.dtype).reshape(*x.shape[:-1], -1, 1, 2)
    out = freqs_cis[..., 0] * pairs[..., 0] + freqs_cis[..., 1] * pairs[..., 1]
    return out.reshape(*x.shape).type_as(x)


def _needs_grad(*tensors: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def dispatching_rope(fused_rope, fused_rope1):
    """(apply_rope, apply_rope1) that call the fused ones unless autograd needs to see the maths."""

    def apply_rope(xq: torch.Tensor, xk: torch.Tensor, freqs_cis: torch.Tensor):
        if _needs_grad(xq, xk, freqs_cis):
            return rope1(xq, freqs_cis), rope1(xk, freqs_cis)
        return fused_rope(xq, xk, freqs_cis)

    def apply_rope1(x: torch.Tensor, freqs_cis: torch.Tensor):
        if _needs_grad(x, freqs_cis):
            return rope1(x, freqs_cis)
        return fused_rope1(x, freqs_cis)

    apply_rope.fused, apply_rope1.fused = fused_rope, fused_rope1
    return apply_rope, apply_rope1
