"""Refuse a training result that is not finite: a NaN loss or LoRA must never reach a LoRA file.

    >>> check_training(lora_state_dict, losses=[0.41, 0.39, float("nan")], steps=3)
    DrawAVideoError: training loss is nan at step 3 of 3 ...

A LoRA with one NaN weight turns every image it touches black or noise, and nothing says why;
stopping here names the step and the tensor instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

from .errors import DrawAVideoError


def first_bad_step(losses: Sequence[float]) -> int | None:
    """1-based step of the first loss that is NaN or infinite, else None."""
    for step, loss in enumerate(losses, 1):
        if not math.isfinite(float(loss)):
            return step
    return None


def all_finite(value) -> bool:
    """True when every floating tensor in a latent or conditioning (nested lists, tuples, dicts) is finite."""
    if torch.is_tensor(value):
        return not value.is_floating_point() or bool(torch.isfinite(value).all())
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(all_finite(v) for v in value)
    return True


def bad_tensors(state: Mapping[str, torch.Tensor]) -> list[str]:
    """Names of the tensors holding a NaN or an infinity."""
    return [name for name, t in state.items() if not all_finite(t)]


def check_training(state: Mapping[str, torch.Tensor], losses: Sequence[float] | None, steps: int | None = None) -> str:
    """Raise DrawAVideoError naming the first non-finite loss step or tensor; else return a one-line report."""
    total = f" of {steps}" if steps else ""
    losses = list(losses or [])
    step = first_bad_step(losses)
    if step is not None:
        first = (
            " A NaN from the first step on means NaN conditioning or latents: look for 'clip missing' or 'Missing "
            "VAE keys' in ComfyUI's log (a model file lacking weights leaves them as uninitialised memory)."
            if step == 1 else " Check the dataset (Encode Grid Dataset's summary) and lower learning_rate."
        )
        raise DrawAVideoError(
            f"training loss is {losses[step - 1]} at step {step}{total}: the LoRA is not passed on, so nothing is "
            f"saved.{first} See the README's training section for known causes."
        )
    if not state:
        raise DrawAVideoError("the trained LoRA holds no tensors; connect Train LoRA's lora output.")
    bad = bad_tensors(state)
    if bad:
        raise DrawAVideoError(
            f"the trained LoRA holds NaN or infinite values in {len(bad)} of {len(state)} tensors (first: {bad[0]}); "
            "it is not passed on, so nothing is saved."
        )
    last = f", last loss {losses[-1]:.4f}" if losses else ""
    return f"LoRA finite: {len(state)} tensors, {len(losses)} steps checked{last}."
