"""Test-only ComfyUI extension: the tiny T5-XXL's left-out weights are exact zeros, never reused memory.

The integration server links this folder into its custom_nodes next to the pack (conftest.py). It adds
no node. On import it wraps ComfyUI's text-encoder load (tiny_models.install_zeroed_text_encoder_weights):
every weight a text-encoder file leaves out -- the tiny T5 file stores only its small tensors -- is set
to fresh zero pages after ComfyUI's own load. Without it those weights are whatever a reused heap block
held, and the T5 output, the training loss and the LoRA can come out NaN (see tiny_models.py).
Nothing of the pack is changed, and real model files (which leave nothing out) are unaffected.
"""

import importlib.util
from pathlib import Path

import comfy.sd1_clip

_spec = importlib.util.spec_from_file_location("draw_a_video_tiny_models", Path(__file__).resolve().parent.parent / "tiny_models.py")
_tiny_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tiny_models)
_tiny_models.install_zeroed_text_encoder_weights(comfy.sd1_clip)

NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}
