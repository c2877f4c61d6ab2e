"""The pack's only contact with the ComfyUI runtime.

Everything ComfyUI provides at run time -- model and I/O folders, the progress
bar, cancel, freeing VRAM, the metadata switch -- is reached through here, with
plain fallbacks so the engine, the nodes, the tests and the CLI also run where
ComfyUI is absent. Outside ComfyUI the folders come from environment variables:
DRAWAVIDEO_OUTPUT_DIR (else ./output), DRAWAVIDEO_INPUT_DIR (else ./input),
DRAWAVIDEO_TEMP_DIR (else <output>/.temp) and DRAWAVIDEO_MODELS_DIR (else ./models).
"""

from __future__ import annotations

import os
import threading

try:  # ComfyUI puts these top-level modules on sys.path; nothing else does.
    import comfy.model_management as _model_management
    import comfy.utils as _comfy_utils
    import folder_paths as _folder_paths
except ImportError:
    _folder_paths = _model_management = _comfy_utils = None

IN_COMFYUI = _folder_paths is not None


class Interrupted(Exception):
    """The user cancelled (raised outside ComfyUI; inside, ComfyUI's own exception is raised)."""


# -- folders ----------------------------------------------------------------

def _env_dir(name: str, default: str) -> str:
    return os.path.abspath(os.environ.get(name) or default)


def output_directory() -> str:
    if IN_COMFYUI:
        return _folder_paths.get_output_directory()
    return _env_dir("DRAWAVIDEO_OUTPUT_DIR", "output")


def input_directory() -> str:
    if IN_COMFYUI:
        return _folder_paths.get_input_directory()
    return _env_dir("DRAWAVIDEO_INPUT_DIR", "input")


def temp_directory() -> str:
    if IN_COMFYUI:
        return _folder_paths.get_temp_directory()
    return _env_dir("DRAWAVIDEO_TEMP_DIR", os.path.join(output_directory(), ".temp"))


def directory_for(kind: str) -> str:
    """'output', 'input' or 'temp': the folders ComfyUI's /view serves."""
    return {"output": output_directory, "input": input_directory, "temp": temp_directory}[kind]()


def model_files(folder: str) -> list[str]:
    """File names in a models folder ('loras', 'diffusers', ...), as ComfyUI's dropdowns list them."""
    if IN_COMFYUI:
        return _folder_paths.get_filename_list(folder)
    root = os.path.join(_env_dir("DRAWAVIDEO_MODELS_DIR", "models"), folder)
    found = []
    for base, _, files in os.walk(root):
        found += [os.path.relpath(os.path.join(base, f), root).replace(os.sep, "/") for f in files]
    return sorted(found)


def model_folders(folder: str) -> list[str]:
    """The directories of a models folder kind (ComfyUI may have several via extra_model_paths)."""
    if IN_COMFYUI:
        return list(_folder_paths.get_folder_paths(folder))
    return [os.path.join(_env_dir("DRAWAVIDEO_MODELS_DIR", "models"), folder)]


def model_path(folder: str, name: str) -> str | None:
    """Full path of `name` in a models folder, or None when it is not there."""
    if IN_COMFYUI:
        return _folder_paths.get_full_path(folder, name)
    for root in model_folders(folder):
        path = os.path.join(root, name)
        if os.path.exists(path):
            return path
    return None


def metadata_disabled() -> bool:
    """True when ComfyUI runs with --disable-metadata: then no prompt or workflow goes into files."""
    if not IN_COMFYUI:
        return False
    try:
        from comfy.cli_args import args
    except ImportError:
        return False
    return bool(getattr(args, "disable_metadata", False))


# -- progress and cancel ------------------------------------------------------

_interrupt = threading.Event()


def request_interrupt() -> None:
    """Ask running work to stop at its next check (the CLI's Ctrl-C and the tests use this)."""
    _interrupt.set()


def clear_interrupt() -> None:
    _interrupt.clear()


def check_interrupted() -> None:
    """Raise if the user cancelled; long loops call this between steps."""
    if IN_COMFYUI:
        _model_management.throw_exception_if_processing_interrupted()
    if _interrupt.is_set():
        _interrupt.clear()
        raise Interrupted("cancelled")


class Progress:
    """ComfyUI's progress bar for the running node; a silent counter elsewhere."""

    def __init__(self, total: int):
        self.total, self.current = total, 0
        self._bar = _comfy_utils.ProgressBar(total) if IN_COMFYUI else None

    def update(self, steps: int = 1, preview=None) -> None:
        self.current = min(self.current + steps, self.total)
        if self._bar is not None:
            self._bar.update_absolute(self.current, self.total, preview)

    def step(self, *_progress) -> None:
        """One step done, then honour cancel: pass it as an engine's per-step callback."""
        self.update(1)
        check_interrupted()


# -- models -------------------------------------------------------------------

def vae_encode(vae, image):
    """A ComfyUI VAE's latent of IMAGE [B,H,W,C] (alpha dropped), as MakeTrainingDataset encodes it."""
    return vae.encode(image[:, :, :, :3])


def encode_text(clip, text: str) -> list:
    """A ComfyUI CLIP's conditioning of one caption, as MakeTrainingDataset and CLIPTextEncode make it."""
    return clip.encode_from_tokens_scheduled(clip.tokenize(text))


def free_comfy_models() -> None:
    """Unload ComfyUI's own models, so a second model doesn't fight them for VRAM."""
    if IN_COMFYUI:
        _model_management.unload_all_models()
        _model_management.soft_empty_cache()


def make_flux_rope_trainable() -> str:
    """Let autograd through FLUX's RoPE in this ComfyUI process (for the native TrainLoraNode).

    ComfyUI 0.8.0 binds comfy.ldm.flux.math.apply_rope to comfy-kitchen's fused op, which has no
    backward. The replacement calls that same op whenever no gradient is needed, so inference is
    unchanged; only training (and gradient-checkpoint recomputation) takes the plain torch maths.
    Returns what was done, for the node's log line.
    """
    if not IN_COMFYUI:
        return "not inside ComfyUI: nothing to patch"
    import comfy.ldm.flux.math as flux_math

    from .engine.trainable_rope import dispatching_rope

    if hasattr(flux_math.apply_rope, "fused"):
        return "FLUX RoPE already trainable"
    flux_math.apply_rope, flux_math.apply_rope1 = dispatching_rope(flux_math.apply_rope, flux_math.apply_rope1)
    return "FLUX RoPE made trainable (fused op kept for inference)"


def torch_device():
    """The device ComfyUI computes on (its --cpu flag included); CUDA if present elsewhere."""
    import torch

    if IN_COMFYUI:
        return _model_management.get_torch_device()
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
