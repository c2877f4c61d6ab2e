"""diffusers' FluxPipeline, imported without the warnings transformers 5.x prints for it.

`from diffusers import FluxPipeline` loads diffusers' FLUX pipelines, which name transformers'
`CLIPImageProcessor` (FLUX's IP-Adapter input) and `SiglipImageProcessor` (FLUX Redux). Since
transformers 5.0 those names mean the torchvision-backed processors; without torchvision (as in a
plain install of this pack) transformers falls back to the PIL ones and warns once per name, on
every run. The pack never uses an image processor, so before the import it binds each name to
its PIL class itself, which is what transformers' own fallback does (and what its warning
suggests). Nothing else is changed: no logger is muted, and with torchvision installed, or with
transformers 4.x (where the names are the PIL classes already), this does nothing.
"""

from __future__ import annotations

IMAGE_PROCESSORS = ("CLIPImageProcessor", "SiglipImageProcessor")


def _bind_pil_image_processors() -> None:
    import transformers
    from transformers.utils import is_torchvision_available

    if is_torchvision_available():
        return
    for name in IMAGE_PROCESSORS:
        if name in vars(transformers):  # already resolved, by us or by transformers itself
            continue
        pil = getattr(transformers, f"{name}Pil", None)  # transformers >= 5.0 only
        if pil is not None:
            setattr(transformers, name, pil)


def flux_pipeline_class():
    """`diffusers.FluxPipeline`, imported quietly (see the module docstring)."""
    _bind_pil_image_processors()
    from diffusers import FluxPipeline

    return FluxPipeline
