"""Where the diffusers backend's time goes, on the tiny FLUX at the method's 1280x768 grid.

    python -m benchmarks.diffusers_step [--quick] [--steps 4] [--repeat 3]

Builds the tiny FLUX in code, then times one whole `sample_grid` call (text
encoding + steps + VAE decode) and its parts: a transformer step, the text
encoders, the VAE decode -- with 1 torch thread and with torch's default. Each
figure is the best of --repeat runs, as wall seconds and CPU seconds of this
process. The ratios show what a grid costs beyond its denoising steps, and what
extra threads buy (or cost) for a model this small. It has no target: it shows where time goes.
--quick: 2 steps, 1 repeat.
"""

from __future__ import annotations

import os
import time

from benchmarks.common import cli, run

ARGS = cli(__doc__, __name__, {
    "--steps": dict(type=int, default=4, help="denoising steps per grid (default 4; --quick: 2)"),
    "--repeat": dict(type=int, default=3, help="runs per figure, best kept (default 3; --quick: 1)"),
})

import torch  # noqa: E402  (after cli(): --help answers without importing torch)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from nodes.engine.flux.sampling import decode_vae_latent, sample_grid  # noqa: E402
from nodes.engine.flux.tiny import build_tiny_flux_pipeline, parameter_counts  # noqa: E402
from nodes.engine.layout import GridLayout  # noqa: E402
from nodes.engine.prompt import word_prompt  # noqa: E402


def best(fn, repeat: int) -> tuple[float, float]:
    """(wall, cpu) seconds of the fastest of `repeat` calls."""
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(runs)


def main(args) -> None:
    if args.quick:
        args.steps, args.repeat = min(args.steps, 2), 1

    layout = GridLayout()
    prompt = word_prompt(layout)
    pipe = build_tiny_flux_pipeline()
    pipe.set_progress_bar_config(disable=True)
    counts = parameter_counts(pipe)
    print("tiny FLUX parameters: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + f"; total {sum(counts.values()):,}")
    print(f"layout: {layout.describe()}; torch threads: {torch.get_num_threads()}")

    default_threads = torch.get_num_threads()
    with torch.no_grad():
        sample_grid(pipe, layout, prompt, steps=1)  # warm-up: first calls allocate
        prompt_embeds, pooled, text_ids = pipe.encode_prompt(prompt=prompt, prompt_2=None, max_sequence_length=512)
        latents = torch.randn(1, layout.flux_tokens, 64)
        image_ids = pipe._prepare_latent_image_ids(1, layout.height // 16, layout.width // 16, "cpu", torch.float32)
        raw = torch.randn(1, 16, layout.height // 8, layout.width // 8)

        def step():
            pipe.transformer(hidden_states=latents, timestep=torch.tensor([0.5]), guidance=torch.tensor([3.5]),
                             pooled_projections=pooled, encoder_hidden_states=prompt_embeds, txt_ids=text_ids,
                             img_ids=image_ids, return_dict=False)

        parts = {
            f"whole grid ({args.steps} steps)": lambda: sample_grid(pipe, layout, prompt, steps=args.steps),
            "one transformer step": step,
            "text encoders": lambda: pipe.encode_prompt(prompt=prompt, prompt_2=None, max_sequence_length=512),
            "VAE decode": lambda: decode_vae_latent(pipe, raw),
        }
        results = {}
        for threads in sorted({1, default_threads}):
            torch.set_num_threads(threads)
            results[threads] = {name: best(fn, args.repeat) for name, fn in parts.items()}
        torch.set_num_threads(default_threads)
    for threads, timings in results.items():
        print(f"-- {threads} thread{'s' if threads > 1 else ''}")
        for name, (wall, cpu) in timings.items():
            print(f"{name:>28}: {wall:6.3f} s wall  {cpu:6.3f} s CPU")
    one = results[1]
    whole = one[f"whole grid ({args.steps} steps)"][0]
    print(f"1 thread, share of a grid's wall time: steps {args.steps * one['one transformer step'][0] / whole:.0%}, "
          f"VAE decode {one['VAE decode'][0] / whole:.0%}, text {one['text encoders'][0] / whole:.0%}")
    if default_threads > 1:
        ratio = results[default_threads][f"whole grid ({args.steps} steps)"][0] / whole
        print(f"{default_threads} threads take {ratio:.2f}x the wall time of 1 thread for a whole grid "
              "(the tiny model's ops are too small to split; on a busy machine thread sync dominates)")
    print(f"1 thread, a grid's wall time / its denoising steps': {whole / (args.steps * one['one transformer step'][0]):.2f}x "
          "(no target: this shows where the time goes)")


if __name__ == "__main__":
    raise SystemExit(run(main, ARGS))
