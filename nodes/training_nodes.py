"""Nodes that help ComfyUI's own training nodes train the grid LoRA."""

from __future__ import annotations

import logging

from . import host

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


NODE_CLASS_MAPPINGS = {"DrawAVideo_TrainableFlux": TrainableFluxNode}
NODE_DISPLAY_NAME_MAPPINGS = {"DrawAVideo_TrainableFlux": "Make FLUX Trainable (Draw-a-Video)"}
