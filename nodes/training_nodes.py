"""Nodes that help ComfyUI's own training nodes train the grid LoRA."""

from __future__ import annotations

import logging

from . import host
from .engine.train_check import check_training

CATEGORY = "Draw-a-Video/training"


class TrainableFluxNode:
    DESCRIPTION = (
        "Put between the FLUX model loader and the native Train LoRA node. ComfyUI 0.8.0 runs FLUX's rotary "
        "position embedding (RoPE) through comfy-kitchen's fused op, which cannot be trained through: Train LoRA "
        "stops with 'no autograd formula'. This node makes the RoPE fall back to plain torch maths whenever "
        "gradients are needed (training), and keeps the fused op for everything else, so sampling is unchanged. "
        "The model passes through untouched; newer ComfyUI versions that train FLUX on their own don't need it."
    )
    CATEGORY = CATEGORY
    FUNCTION = "apply"
    RETURN_TYPES = ("MODEL",)
    RETURN_NAMES = ("model",)
    OUTPUT_TOOLTIPS = ("The same model, now trainable by Train LoRA.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL", {"tooltip": "The FLUX model to train a LoRA on (from Load Diffusion Model)."})}}

    def apply(self, model):
        logging.info("[Draw-a-Video] %s", host.make_flux_rope_trainable())
        return (model,)


class CheckTrainedLoraNode:
    DESCRIPTION = (
        "Put between Train LoRA and Save LoRA. Passes the LoRA on only if every training loss and every LoRA "
        "tensor is finite; otherwise stops the workflow with an error that names the first step whose loss was "
        "NaN or infinite (or the first bad tensor), so a broken LoRA is never saved."
    )
    CATEGORY = CATEGORY
    FUNCTION = "check"
    RETURN_TYPES = ("LORA_MODEL", "STRING")
    RETURN_NAMES = ("lora", "report")
    OUTPUT_TOOLTIPS = ("The same LoRA, checked finite: connect to Save LoRA.", "Tensors and steps checked, the last loss.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "lora": ("LORA_MODEL", {"tooltip": "Train LoRA's lora output."}),
                "loss_map": ("LOSS_MAP", {"tooltip": "Train LoRA's loss_map output: the loss of every step."}),
            },
            "optional": {
                "steps": ("INT", {"forceInput": True, "tooltip": "Train LoRA's steps output (for the message)."}),
            },
        }

    def check(self, lora, loss_map, steps=None):
        losses = loss_map.get("loss", []) if isinstance(loss_map, dict) else []
        report = check_training(lora, losses, steps)
        logging.info("[Draw-a-Video] %s", report)
        return (lora, report)


NODE_CLASS_MAPPINGS = {"DrawAVideo_TrainableFlux": TrainableFluxNode, "DrawAVideo_CheckTrainedLora": CheckTrainedLoraNode}
NODE_DISPLAY_NAME_MAPPINGS = {
    "DrawAVideo_TrainableFlux": "Make FLUX Trainable (Draw-a-Video)",
    "DrawAVideo_CheckTrainedLora": "Check Trained LoRA (Draw-a-Video)",
}
