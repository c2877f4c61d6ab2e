"""The diffusers backend: FLUX.1 loaded from local files, a LoRA stack via peft, grid sampling.

- `loading`: `load_flux_pipeline(folder, transformer_file, dtype, memory_mode, ...)`.
- `fp8`: ComfyUI's scaled fp8 single files, detected from the header and dequantized.
- `keys`: BFL <-> diffusers weight names, sized from the transformer's config.
- `lora`: `prepare_lora`, `activate_loras`, `apply_lora_stack` -- no LoRA is silently a no-op.
- `sampling`: `sample_grid(pipe, layout, prompt, ...) -> (IMAGE, raw VAE LATENT)`.
- `tiny`: `build_tiny_flux_pipeline()` / `save_tiny_flux(folder)`, a random-weight FLUX for tests and the demo.
- `trainer`: `train(TrainConfig(...))`, the accelerate LoRA trainer behind `python -m nodes.train_lora`, with
  `training` (flow-matching objective, peft LoRA, the ComfyUI-loadable file), `train_data` (grid dataset, on-disk
  latent/caption cache) and `train_model` (models through the loaders above, checks, samples, saving).

diffusers and transformers are imported inside functions, so importing this package is cheap.
"""
