"""Train a FLUX.1 LoRA on a grid dataset with accelerate: one device as plain python, many under `accelerate launch`.

    >>> result = train(TrainConfig(dataset="input/draw_a_video_grids", model_folder="models/diffusers/FLUX.1-dev",
    ...                            output_dir="output/lora_run", steps=2500, rank=16))
    >>> result.lora_path
    'output/lora_run/draw_a_video_driving.safetensors'

Distribution is accelerate's own: `accelerator.prepare` wraps the transformer (DDP, or FSDP / DeepSpeed
from the accelerate config), gradients are averaged by it, accumulation runs in `accelerator.accumulate`.
The data is not split by a DataLoader: optimizer step s uses the G = processes x batch x accumulation
sample slots s*G .. s*G+G-1 of one seeded stream (an epoch is a seeded permutation of the grids), and
process r takes the slots (m * processes + r) * batch + b of micro-step m. Each slot's random draws
come from its own generator (training.sample_generator), so the global batch -- not how it is split
over processes -- decides the result, and a resumed run repeats exactly what the interrupted one
would have done. Checkpoints (`accelerator.save_state`, LoRA weights + optimizer + scheduler + the
step) go to <output_dir>/checkpoints/step-NNNNNN, written under a temporary name and renamed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from ..errors import DrawAVideoError
from ..files import staged_file
from .loading import DTYPES
from .train_data import GridSample, TrainCache, read_grid_dataset
from .train_model import check_model_fits, load_training_models, save_lora, save_sample
from .training import Objective, add_lora, draw_sample, flow_matching_loss, lora_state_for_comfy, sample_generator

log = logging.getLogger("draw_a_video.train")

CHECKPOINTS = "checkpoints"
LOSS_LOG = "loss.jsonl"
# Settings a checkpoint must share with the run that resumes it (the global batch, not its split).
RESUME_SETTINGS = ("rank", "alpha", "seed", "global_batch", "dataset_grids", "learning_rate", "objective")


@dataclass
class TrainConfig:
    dataset: str
    model_folder: str
    output_dir: str
    transformer_file: str | None = None
    output_name: str = "draw_a_video_driving"
    steps: int = 2500
    batch_size: int = 1  # per process
    grad_accum: int = 1
    learning_rate: float = 1e-4
    lr_warmup_steps: int = 0
    max_grad_norm: float = 1.0
    rank: int = 16
    alpha: float | None = None  # None: = rank (scale 1), as diffusers' example
    dtype: str = "bf16"  # frozen weights and compute: "bf16" (mixed precision) or "fp32"
    save_dtype: str = "bf16"
    gradient_checkpointing: bool = False
    seed: int = 0
    max_sequence_length: int = 512
    objective: Objective = field(default_factory=Objective)
    checkpoint_every: int = 250
    keep_checkpoints: int = 3
    resume: str | None = None  # "latest" or a checkpoint folder
    sample_every: int = 0
    sample_prompt: str | None = None
    sample_steps: int = 20
    cache_dir: str | None = None  # default <output_dir>/cache
    cpu: bool = False
    progress: bool = True


@dataclass
class TrainResult:
    lora_path: str | None
    steps_done: int
    losses: list[float]
    seconds: float
    processes: int
    samples: list[str] = field(default_factory=list)
    encoded: int = 0  # latents + captions this process encoded (0: all came from the cache)


class _Progress:
    """The step counter accelerate checkpoints with the rest (register_for_checkpointing)."""

    def __init__(self):
        self.step = 0
        self.settings: dict = {}

    def state_dict(self):
        return {"step": self.step, "settings": json.dumps(self.settings, sort_keys=True)}

    def load_state_dict(self, state):
        self.step = int(state["step"])
        self.settings = json.loads(state["settings"])


def _quiet_libraries() -> None:
    """No per-component loading bars from diffusers/transformers, no per-file lines from accelerate's save_state."""
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("accelerate").setLevel(logging.WARNING)


def _check_launch(accelerator) -> None:
    """--multi_gpu (or torchrun) processes that did not join one run would each train alone."""
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != accelerator.num_processes:
        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        raise DrawAVideoError(
            f"{launched} processes were launched (accelerate launch --multi_gpu / --num_processes) but this machine has "
            f"{gpus} GPU{'s' if gpus != 1 else ''}, so they could not form one run and each would train alone. With one "
            "GPU run without --multi_gpu; to test on CPUs add this trainer's --cpu (processes then sync over gloo)."
        )
    if accelerator.distributed_type.name == "MULTI_GPU" and torch.cuda.device_count() < int(os.environ.get("LOCAL_WORLD_SIZE", "1")):
        raise DrawAVideoError(
            f"--multi_gpu with {torch.cuda.device_count()} GPU(s) for {os.environ.get('LOCAL_WORLD_SIZE')} processes on this "
            "machine: lower --num_processes to the GPU count, or drop --multi_gpu on a one-GPU machine."
        )


def _checkpoints(root: str) -> list[str]:
    if not os.path.isdir(root):
        return []
    return sorted(d for d in os.listdir(root) if d.startswith("step-") and d[5:].isdigit())


def _resume_folder(cfg: TrainConfig, root: str) -> str | None:
    if not cfg.resume:
        return None
    if cfg.resume == "latest":
        found = _checkpoints(root)
        if not found:
            log.info("--resume latest: no checkpoint in %s yet, starting from step 0", root)
            return None
        return os.path.join(root, found[-1])
    if not os.path.isfile(os.path.join(cfg.resume, "lora.safetensors")):
        raise DrawAVideoError(f"--resume {cfg.resume!r} is not a checkpoint folder; use 'latest' or a {root}/step-NNNNNN folder.")
    return cfg.resume


def _slot_sample(samples: list[GridSample], seed: int, slot: int) -> GridSample:
    """The grid of sample slot `slot`: epoch e = slot // N walks a seeded permutation of the N grids."""
    n = len(samples)
    epoch, index = divmod(slot, n)
    order = torch.randperm(n, generator=torch.Generator("cpu").manual_seed(seed * 7_919 + epoch))
    return samples[int(order[index])]


def _micro_batch(cache: TrainCache, samples, cfg: TrainConfig, scheduler, slots: list[int], image_tokens: int) -> dict:
    parts = {"latents": [], "noise": [], "sigmas": [], "prompt_embeds": [], "pooled_prompt_embeds": []}
    for slot in slots:
        data = cache.load(_slot_sample(samples, cfg.seed, slot))
        latent, noise, sigma = draw_sample(data["parameters"], sample_generator(cfg.seed, slot), cfg.objective, scheduler, image_tokens)
        for key, value in (("latents", latent), ("noise", noise), ("sigmas", sigma),
                           ("prompt_embeds", data["prompt_embeds"]), ("pooled_prompt_embeds", data["pooled_prompt_embeds"])):
            parts[key].append(value)
    return {k: torch.stack(v) for k, v in parts.items()}


def _oom_error(exc: BaseException, cfg: TrainConfig) -> DrawAVideoError:
    hints = []
    if not cfg.gradient_checkpointing:
        hints.append("add --gradient_checkpointing")
    if cfg.dtype != "bf16":
        hints.append("train in --dtype bf16")
    if cfg.batch_size > 1:
        hints.append(f"use --batch_size 1 with --grad_accum {cfg.batch_size * cfg.grad_accum} (same global batch)")
    hints += ["a lower --rank", "shard the model over GPUs with an FSDP accelerate config (README, 'Train the driving LoRA')"]
    return DrawAVideoError(f"out of memory while training ({str(exc).splitlines()[0][:200]}). To fit: " + "; ".join(hints) + ".")


def _write_loss_log(path: str, keep_until: int) -> None:
    """Drop log lines past `keep_until` (a resumed run writes them again)."""
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f if line.strip() and json.loads(line).get("step", 0) <= keep_until]
    with staged_file(os.path.dirname(path), "jsonl") as temp:
        with open(temp, "w", encoding="utf-8") as f:
            f.writelines(lines)
        os.replace(temp, path)


def train(cfg: TrainConfig, on_step: Callable[[int, float], None] | None = None) -> TrainResult:
    """Run `cfg`; `on_step(step, loss)` runs on every process after each optimizer step (raise from it to stop)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from diffusers.optimization import get_scheduler
    from peft import set_peft_model_state_dict
    from tqdm.auto import tqdm

    for name in ("steps", "batch_size", "grad_accum"):
        if getattr(cfg, name) < 1:
            raise DrawAVideoError(f"--{name} is {getattr(cfg, name)}; it must be at least 1.")
    if cfg.dtype not in ("bf16", "fp32") or cfg.save_dtype not in ("bf16", "fp16", "fp32"):
        raise DrawAVideoError(f"--dtype {cfg.dtype!r} / --save_dtype {cfg.save_dtype!r}: use bf16 or fp32 (save also fp16).")
    alpha = float(cfg.alpha if cfg.alpha is not None else cfg.rank)
    _quiet_libraries()
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        # A second run in one process (tests, a notebook): accelerate's state is a process-wide singleton that
        # refuses new settings; reset it as accelerate's own test utilities do. Launched runs start fresh anyway.
        from accelerate.state import AcceleratorState, GradientState

        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
    accelerator = Accelerator(gradient_accumulation_steps=cfg.grad_accum, mixed_precision="bf16" if cfg.dtype == "bf16" else "no",
                              step_scheduler_with_optimizer=False, cpu=cfg.cpu)
    _check_launch(accelerator)
    main, world, rank = accelerator.is_main_process, accelerator.num_processes, accelerator.process_index
    samples = read_grid_dataset(cfg.dataset)
    ckpt_root = os.path.join(cfg.output_dir, CHECKPOINTS)
    lora_path = os.path.join(cfg.output_dir, f"{cfg.output_name}.safetensors")
    if os.path.exists(lora_path):
        raise DrawAVideoError(f"{lora_path} exists already and is never overwritten; pick another --output_name or --output_dir.")
    resume_from = _resume_folder(cfg, ckpt_root)

    models = load_training_models(cfg, accelerator.device)
    check_model_fits(models, cfg)
    layout = samples[0].layout
    if cfg.sample_every and layout is None:
        raise DrawAVideoError(
            f"--sample_every needs the grid layout, which --dataset {cfg.dataset!r} lacks (no manifest.jsonl); rebuild it "
            "with Videos to Grid Dataset, or drop --sample_every."
        )
    sample_prompt = cfg.sample_prompt or samples[0].caption
    cache = models.cache(cfg)
    bar = tqdm(desc="encoding grids + captions (cached for later runs)", disable=not (main and cfg.progress), leave=False)
    encoded = cache.fill(samples, [sample_prompt] if cfg.sample_every else [], models.encode_image, models.encode_text, rank, world,
                         accelerator.wait_for_everyone, bar.update)
    bar.close()
    accelerator.wait_for_everyone()
    models.drop_encoders(keep_vae=bool(cfg.sample_every) and main)

    transformer = models.transformer
    set_seed(cfg.seed)  # LoRA A's gaussian draw: the same on every process
    add_lora(transformer, cfg.rank, alpha)
    if cfg.gradient_checkpointing:
        transformer.enable_gradient_checkpointing()
    transformer.train()
    params = [p for p in transformer.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, betas=(0.9, 0.999), weight_decay=1e-4, eps=1e-8)  # the example's defaults
    lr_scheduler = get_scheduler("constant_with_warmup" if cfg.lr_warmup_steps else "constant", optimizer,
                                 num_warmup_steps=cfg.lr_warmup_steps)
    model, optimizer = accelerator.prepare(transformer, optimizer)
    progress = _Progress()
    accelerator.register_for_checkpointing(lr_scheduler, progress)

    def save_hook(models_, weights, output_dir):
        if main:
            from safetensors.torch import save_file

            state = lora_state_for_comfy(accelerator.unwrap_model(models_[0]), alpha)
            save_file(state, os.path.join(output_dir, "lora.safetensors"))
        weights.clear()  # the frozen base weights are not saved again

    def load_hook(models_, input_dir):
        from safetensors.torch import load_file

        state = load_file(os.path.join(input_dir, "lora.safetensors"))
        peft_state = {k[len("transformer."):]: v for k, v in state.items() if not k.endswith(".alpha")}
        target = accelerator.unwrap_model(models_.pop())
        try:
            result = set_peft_model_state_dict(target, peft_state)
        except RuntimeError as exc:  # shape mismatch: another --rank
            raise DrawAVideoError(f"checkpoint {input_dir} does not fit this LoRA ({str(exc).splitlines()[0][:200]}); resume with its --rank.") from exc
        if getattr(result, "unexpected_keys", None):
            raise DrawAVideoError(f"checkpoint {input_dir} holds LoRA layers this model lacks ({result.unexpected_keys[:3]}); resume on the same model.")
        models_.clear()

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)

    per_step = cfg.batch_size * world * cfg.grad_accum  # the global batch: sample slots per optimizer step
    settings = {"rank": cfg.rank, "alpha": alpha, "seed": cfg.seed, "global_batch": per_step,
                "dataset_grids": len(samples), "learning_rate": cfg.learning_rate, "objective": asdict(cfg.objective)}
    settings = json.loads(json.dumps(settings))
    if resume_from:
        accelerator.load_state(resume_from)
        different = [f"{k} {progress.settings.get(k)!r} -> {settings[k]!r}" for k in RESUME_SETTINGS if progress.settings.get(k) != settings[k]]
        if different:
            raise DrawAVideoError(f"checkpoint {resume_from} was made with other settings ({'; '.join(different)}); resume with the same ones.")
        log.info("resumed from %s at step %d", resume_from, progress.step)
    progress.settings = settings
    start = progress.step
    loss_log = os.path.join(cfg.output_dir, LOSS_LOG)
    if main:
        os.makedirs(cfg.output_dir, exist_ok=True)
        _write_loss_log(loss_log, start)

    h, w = samples[0].height // 8, samples[0].width // 8
    image_tokens = (h // 2) * (w // 2)
    unwrapped = accelerator.unwrap_model(model)
    guidance_embeds = bool(unwrapped.config.guidance_embeds)
    losses, outputs, started, cpu_started = [], [], time.perf_counter(), time.process_time()
    bar = tqdm(total=cfg.steps, initial=start, desc="training LoRA", unit="step", disable=not (main and cfg.progress), dynamic_ncols=True)
    for step in range(start, cfg.steps):
        step_losses = []
        for m in range(cfg.grad_accum):
            slots = [step * per_step + (m * world + rank) * cfg.batch_size + b for b in range(cfg.batch_size)]
            batch = _micro_batch(cache, samples, cfg, models.scheduler, slots, image_tokens)
            with accelerator.accumulate(model):
                try:
                    loss = flow_matching_loss(model, batch, cfg.objective, models.vae_config, guidance_embeds, models.dtype, accelerator.device)
                    accelerator.backward(loss)
                except torch.OutOfMemoryError as exc:
                    raise _oom_error(exc, cfg) from exc
                if accelerator.sync_gradients and cfg.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(params, cfg.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
            step_losses.append(loss.detach())
        lr_scheduler.step()
        progress.step = step + 1
        mean_loss = accelerator.gather(torch.stack(step_losses).mean().reshape(1)).mean().item()
        losses.append(mean_loss)
        bar.update(1)
        bar.set_postfix(loss=f"{mean_loss:.4f}")
        if main:
            elapsed = time.perf_counter() - started
            with open(loss_log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": step + 1, "loss": mean_loss, "lr": lr_scheduler.get_last_lr()[0],
                                    "seconds": round(elapsed, 3), "steps_per_second": round((step + 1 - start) / elapsed, 4),
                                    "cpu_seconds": round(time.process_time() - cpu_started, 3)}) + "\n")
        if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
            _save_checkpoint(accelerator, ckpt_root, step + 1, cfg.keep_checkpoints)
        if cfg.sample_every and ((step + 1) % cfg.sample_every == 0 or step + 1 == cfg.steps):
            if main:
                outputs += save_sample(models, unwrapped, layout, sample_prompt, cache, cfg, step + 1)
            accelerator.wait_for_everyone()
        if on_step is not None:
            on_step(step + 1, mean_loss)
    bar.close()
    accelerator.wait_for_everyone()
    written = None
    if main:
        state = lora_state_for_comfy(unwrapped, alpha, DTYPES[cfg.save_dtype])
        written = save_lora(state, lora_path, cfg, settings, progress.step)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return TrainResult(written, progress.step, losses, time.perf_counter() - started, world, outputs, encoded)


def _save_checkpoint(accelerator, root: str, step: int, keep: int) -> None:
    """accelerator.save_state into a hidden folder, renamed once every process wrote its part; old ones pruned."""
    final = os.path.join(root, f"step-{step:06d}")
    partial = os.path.join(root, f".step-{step:06d}.partial")
    if accelerator.is_main_process:
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(root, exist_ok=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(partial)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(final, ignore_errors=True)  # a re-run of the same step after a resume
        os.replace(partial, final)
        for old in _checkpoints(root)[:-keep] if keep > 0 else []:
            shutil.rmtree(os.path.join(root, old), ignore_errors=True)
    accelerator.wait_for_everyone()
