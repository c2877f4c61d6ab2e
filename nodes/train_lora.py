"""Train the grid LoRA with diffusers + peft + accelerate: `python -m nodes.train_lora --dataset ... --model_folder ...`.

Run from the pack's folder (custom_nodes/ComfyUI-Draw-a-Video). One device:

    python -m nodes.train_lora --dataset ../../input/draw_a_video_grids \\
        --model_folder ../../models/diffusers/FLUX.1-dev --output_dir ../../output/lora_run --steps 2500

Many GPUs / machines: the same arguments under accelerate (config: nodes/accelerate_config.yaml):

    accelerate launch --config_file nodes/accelerate_config.yaml -m nodes.train_lora ...

Two processes on a CPU-only machine (tests, benchmarks): accelerate launch --multi_gpu --num_processes 2
-m nodes.train_lora --cpu ... (the processes sync over gloo).

The result, <output_dir>/<output_name>.safetensors, goes to ComfyUI's models/loras/ for
LoraLoaderModelOnly (or the pack's FLUX LoRA (diffusers) node). Re-run with --resume latest after an
interruption. Exit status 1 with a one-line message on bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nodes.train_lora", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g = p.add_argument_group("data and model")
    g.add_argument("--dataset", required=True, help="grid-dataset folder from Videos to Grid Dataset (png + txt + manifest.jsonl)")
    g.add_argument("--model_folder", required=True, help="diffusers FLUX.1 folder (model_index.json): VAE, text encoders, scheduler")
    g.add_argument("--transformer_file", default=None,
                   help="optional single-file transformer (.safetensors, BFL or diffusers names; ComfyUI fp8 files are dequantized)")
    g.add_argument("--output_dir", required=True, help="checkpoints, cache, loss.jsonl, samples/ and the LoRA go here")
    g.add_argument("--output_name", default="draw_a_video_driving", help="file name of the LoRA (.safetensors added)")
    g.add_argument("--cache_dir", default=None, help="encoded latents/captions (default <output_dir>/cache)")
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=int, default=2500, help="optimizer steps (the source recipe: 2,500)")
    g.add_argument("--batch_size", type=int, default=1, help="grids per process per micro-step")
    g.add_argument("--grad_accum", type=int, default=1, help="micro-steps per optimizer step")
    g.add_argument("--learning_rate", type=float, default=1e-4)
    g.add_argument("--lr_warmup_steps", type=int, default=0)
    g.add_argument("--max_grad_norm", type=float, default=1.0, help="gradient clipping (0 = off)")
    g.add_argument("--rank", type=int, default=16, help="LoRA rank")
    g.add_argument("--alpha", type=float, default=None, help="LoRA alpha (default = rank: scale 1)")
    g.add_argument("--dtype", choices=("bf16", "fp32"), default="bf16", help="frozen weights and compute (bf16 = mixed precision)")
    g.add_argument("--save_dtype", choices=("bf16", "fp16", "fp32"), default="bf16", help="dtype of the saved LoRA")
    g.add_argument("--gradient_checkpointing", action="store_true", help="recompute activations in backward: far less VRAM, ~30%% slower")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--max_sequence_length", type=int, default=512, help="T5 tokens per caption (FLUX.1-dev: 512)")
    g = p.add_argument_group("objective (defaults: diffusers' FLUX.1-dev LoRA example)")
    g.add_argument("--weighting_scheme", default="none", choices=("none", "logit_normal", "mode", "sigma_sqrt", "cosmap"))
    g.add_argument("--logit_mean", type=float, default=0.0)
    g.add_argument("--logit_std", type=float, default=1.0)
    g.add_argument("--mode_scale", type=float, default=1.29)
    g.add_argument("--timestep_shift", default="none", help="none (the example), flux (resolution-dependent, as sampling), or a number")
    g.add_argument("--guidance_scale", type=float, default=3.5, help="guidance embedding value during training")
    g = p.add_argument_group("checkpoints and samples")
    g.add_argument("--checkpoint_every", type=int, default=250, help="accelerator.save_state every N steps (0 = never)")
    g.add_argument("--keep_checkpoints", type=int, default=3)
    g.add_argument("--resume", default=None, help="'latest' or a checkpoint folder")
    g.add_argument("--sample_every", type=int, default=0, help="draw a sample grid (png + mp4) every N steps (0 = never)")
    g.add_argument("--sample_prompt", default=None, help="default: the first grid's caption")
    g.add_argument("--sample_steps", type=int, default=20)
    g.add_argument("--cpu", action="store_true", help="train on the CPU even if a GPU is there (also: gloo between processes)")
    g.add_argument("--no_progress", action="store_true", help="no progress bars (the loss log is still written)")
    return p


def config_from_args(args):
    from .engine.flux.trainer import TrainConfig
    from .engine.flux.training import Objective

    objective = Objective(args.weighting_scheme, args.logit_mean, args.logit_std, args.mode_scale, args.timestep_shift, args.guidance_scale)
    return TrainConfig(
        dataset=args.dataset, model_folder=args.model_folder, output_dir=args.output_dir, transformer_file=args.transformer_file,
        output_name=args.output_name, steps=args.steps, batch_size=args.batch_size, grad_accum=args.grad_accum,
        learning_rate=args.learning_rate, lr_warmup_steps=args.lr_warmup_steps, max_grad_norm=args.max_grad_norm, rank=args.rank,
        alpha=args.alpha, dtype=args.dtype, save_dtype=args.save_dtype, gradient_checkpointing=args.gradient_checkpointing,
        seed=args.seed, max_sequence_length=args.max_sequence_length, objective=objective, checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep_checkpoints, resume=args.resume, sample_every=args.sample_every, sample_prompt=args.sample_prompt,
        sample_steps=args.sample_steps, cache_dir=args.cache_dir, cpu=args.cpu, progress=not args.no_progress,
    )


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from .engine.errors import DrawAVideoError
    from .engine.flux.trainer import train

    try:
        result = train(config_from_args(args))
    except DrawAVideoError as exc:
        print(f"train_lora failed: {exc}", file=sys.stderr)
        return 1
    if result.lora_path:
        print(f"LoRA: {result.lora_path} ({result.steps_done} steps, {result.processes} process(es), {result.seconds:.1f} s); "
              "put it in ComfyUI's models/loras/ for LoraLoaderModelOnly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
