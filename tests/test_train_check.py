"""A NaN loss or LoRA stops the training workflow before Save LoRA, naming the step or tensor."""

import pytest
import torch
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.training_nodes import CheckTrainedLoraNode

LORA = {"x.lora_up.weight": torch.zeros(8, 4), "x.lora_down.weight": torch.full((4, 8), 0.1)}


def test_finite_lora_passes_unchanged():
    lora, report = CheckTrainedLoraNode().check(LORA, {"loss": [0.4, 0.3]}, 2)
    assert lora is LORA and report == "LoRA finite: 2 tensors, 2 steps checked, last loss 0.3000."


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_loss_names_its_step(bad):
    with pytest.raises(DrawAVideoError, match=f"training loss is {bad} at step 3 of 2500.*nothing is saved"):
        CheckTrainedLoraNode().check(LORA, {"loss": [0.4, 0.3, bad, 0.2]}, 2500)


def test_nan_from_the_first_step_points_at_the_model_files():
    """Issue 12's NaN LoRA: NaN conditioning from a text encoder with uninitialised weights, NaN at step 1."""
    with pytest.raises(DrawAVideoError, match="at step 1 of 1.*'clip missing' or 'Missing VAE keys'"):
        CheckTrainedLoraNode().check(LORA, {"loss": [float("nan")]}, 1)


def test_non_finite_tensor_is_named():
    broken = {**LORA, "y.lora_down.weight": torch.tensor([[1.0, float("nan")]], dtype=torch.bfloat16)}
    with pytest.raises(DrawAVideoError, match=r"1 of 3 tensors \(first: y.lora_down.weight\)"):
        CheckTrainedLoraNode().check(broken, {"loss": [0.4]})
    with pytest.raises(DrawAVideoError, match="no tensors"):
        CheckTrainedLoraNode().check({}, {"loss": [0.4]})
