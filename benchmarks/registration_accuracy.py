"""How exactly does cell registration find borders the model drew off the layout?

Run from the repo root:  python -m benchmarks.registration_accuracy [--quick] [--grids 200] [--seed 0]

Draws random 4x4 grids of 320x192 cells (1280x768): every cell a distinct
picture (a random colour gradient, a smooth random texture, a few shapes,
pixel noise), every internal border moved by a random offset of up to +-12 px.
Borders come in four styles: a plain cut between two pictures, a drawn
separator line 2-6 px wide (gutter-less layout), a 16 px gutter band (a
layout with gutter 16), and "video": every cell a frame of one scene under a
slowly panning camera, so neighbouring cells are alike and borders are only
where the frames don't line up. Half the grids are slightly blurred, as a VAE
softens edges. It prints, per style and overall, the share of found border
edges within 1 px of the truth, the mean and max error, and the time per grid.
It also prints the adherence score of clean grids, of the same grids with
their borders moved, and of continuous pictures with no grid at all.
Target: >= 95 % of border edges found within 1 px. --quick: 10 grids.
"""

from __future__ import annotations

import math
import time

from benchmarks.common import Targets, cli, run

ARGS = cli(__doc__, __name__, {
    "--grids": dict(type=int, default=200, help="random grids to register (default 200; --quick: 10)"),
    "--seed": dict(type=int, default=0),
    "--threads": dict(type=int, default=1, help="torch CPU threads (1 gives steady timings on a shared machine)"),
})

import torch  # noqa: E402  (after cli(): --help answers without importing torch)
import torch.nn.functional as F  # noqa: E402

from nodes.engine.layout import GridLayout  # noqa: E402
from nodes.engine.registration import register_grid  # noqa: E402

WITHIN_1PX_TARGET = 0.95

STYLES = ("cut", "line", "gutter", "video")


def picture(gen: torch.Generator, height: int, width: int, detail: int = 1) -> torch.Tensor:
    """A random picture [H,W,3]: colour gradient + smooth texture + shapes + noise.

    `detail` > 1 draws a scene that many frames share: a finer texture and more, smaller shapes.
    """
    y = torch.linspace(0, 1, height)[:, None, None]
    x = torch.linspace(0, 1, width)[None, :, None]
    angle = torch.rand(1, generator=gen) * 2 * math.pi
    ramp = (x * torch.cos(angle) + y * torch.sin(angle) - (torch.cos(angle) + torch.sin(angle)) / 2 + 0.5).clamp(0, 1)
    a, b = torch.rand(3, generator=gen), torch.rand(3, generator=gen)
    img = a + (b - a) * ramp
    coarse = torch.rand(1, 3, 6 * detail, 10 * detail, generator=gen) - 0.5
    img = img + 0.3 * F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)[0].permute(1, 2, 0)
    for _ in range(int(torch.randint(2, 5, (1,), generator=gen)) * detail * detail):
        cy, cx, r = torch.rand(3, generator=gen).tolist()
        r = r / detail
        color = torch.rand(3, generator=gen)
        if torch.rand(1, generator=gen) < 0.5:
            inside = ((y - cy) ** 2 + ((x - cx) * width / height) ** 2) < (0.1 / detail + 0.3 * r) ** 2
        else:
            inside = ((y - cy).abs() < 0.05 / detail + 0.2 * r) & ((x - cx).abs() < 0.05 / detail + 0.2 * r)
        img = torch.where(inside, color, img)
    img = img + 0.02 * torch.randn(height, width, 3, generator=gen)
    return img.clamp(0, 1)


def _cuts(gen, count, cell, max_offset):
    """Cut positions of the internal borders, each moved by up to +-max_offset."""
    expected = torch.arange(1, count) * cell
    return expected + torch.randint(-max_offset, max_offset + 1, (count - 1,), generator=gen)


def synthetic_grid(gen: torch.Generator, layout, style: str = "cut", max_offset: int = 12, blur: bool = False):
    """A grid drawn with borders off the layout: (image [H,W,3], true row spans [R,2], true col spans [C,2]).

    Spans are (start, end) pixels of each cell, end exclusive, as `GridRegistration.rows/cols`.
    """
    height, width, gutter = layout.height, layout.width, layout.gutter
    step_h, step_w = layout.cell_height + gutter, layout.cell_width + gutter
    # The cut between cells k-1 and k is where the layout's gutter (or cell) starts, moved.
    row_cut = _cuts(gen, layout.rows, step_h, max_offset) - gutter
    col_cut = _cuts(gen, layout.cols, step_w, max_offset) - gutter
    band = torch.zeros(2, dtype=torch.long)
    if style == "line":
        band = torch.randint(2, 7, (2,), generator=gen)  # line widths, rows then cols
    elif style == "gutter":
        band[:] = gutter

    def spans(cut, size, length):
        half = band[size] // 2 if style == "line" else 0
        ends = cut - half
        starts = ends + band[size]
        return torch.stack([torch.cat([torch.tensor([0]), starts]), torch.cat([ends, torch.tensor([length])])], dim=1)

    rows, cols = spans(row_cut, 0, height), spans(col_cut, 1, width)
    img = torch.rand(3, generator=gen).expand(height, width, 3).clone()  # line / gutter colour
    if torch.rand(1, generator=gen) < 0.5:
        img[:] = float(torch.rand(1, generator=gen) < 0.5)  # often white or black separators
    if style == "video":  # frames of one scene, the camera panning 12 px and dipping 4 px per frame
        scene = picture(gen, height, width * 2, detail=4)
    frame = 0
    for top, bottom in rows.tolist():
        for left, right in cols.tolist():
            if style == "video":
                y, x = (frame * 4) % (height // 2), frame * 12
                cell = scene[y : y + bottom - top, x : x + right - left]
            else:
                cell = picture(gen, bottom - top, right - left)
            img[top:bottom, left:right] = cell
            frame += 1
    if blur:
        kernel = torch.tensor([0.25, 0.5, 0.25])
        x = img.permute(2, 0, 1)[:, None]
        x = F.conv2d(F.pad(x, (1, 1, 0, 0), mode="replicate"), kernel.view(1, 1, 1, 3))
        x = F.conv2d(F.pad(x, (0, 0, 1, 1), mode="replicate"), kernel.view(1, 1, 3, 1))
        img = x[:, 0].permute(1, 2, 0)
    return img, rows, cols


def continuous_picture(gen: torch.Generator, layout) -> torch.Tensor:
    """One picture over the whole grid (no cells), as a model that ignored the layout would draw."""
    return picture(gen, layout.height, layout.width)


def edge_errors(found: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """|found - truth| of every internal cell edge (ends of cells 0..n-2, starts of 1..n-1)."""
    return torch.cat([(found[:-1, 1] - truth[:-1, 1]).abs(), (found[1:, 0] - truth[1:, 0]).abs()])


def main(args) -> None:
    if args.quick:
        args.grids = min(args.grids, 10)
    torch.set_num_threads(args.threads)
    plain, gutter_layout = GridLayout(), GridLayout(gutter=16)
    gen = torch.Generator().manual_seed(args.seed)

    errors = {style: [] for style in STYLES}
    seconds, cpu_seconds, adherence = [], [], {"clean": [], "moved": [], "no grid": []}
    for i in range(args.grids):
        style = STYLES[i % len(STYLES)]
        layout = gutter_layout if style == "gutter" else plain
        img, rows, cols = synthetic_grid(gen, layout, style, max_offset=12, blur=bool(i % 2))
        start, cpu_start = time.perf_counter(), time.process_time()
        found = register_grid(img[None], layout)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        errors[style].append(torch.cat([edge_errors(found.rows[0], rows), edge_errors(found.cols[0], cols)]))
        if i < (5 if args.quick else 30):  # adherence of clean, moved and grid-less pictures on the plain layout
            clean, _, _ = synthetic_grid(gen, plain, "cut", max_offset=0)
            moved, _, _ = synthetic_grid(gen, plain, "cut", max_offset=12)
            adherence["clean"].append(float(register_grid(clean[None], plain).adherence[0]))
            adherence["moved"].append(float(register_grid(moved[None], plain).adherence[0]))
            adherence["no grid"].append(float(register_grid(continuous_picture(gen, plain)[None], plain).adherence[0]))

    print(f"registration accuracy over {args.grids} random 1280x768 grids (borders moved up to +-12 px, search +-16 px)")
    print(f"{'style':<8} {'edges':>6} {'within 1px':>11} {'mean err':>9} {'max err':>8}")
    every = []
    for style in STYLES:
        e = torch.cat(errors[style]).float()
        every.append(e)
        print(f"{style:<8} {e.numel():>6} {float((e <= 1).float().mean()):>11.2%} {float(e.mean()):>9.3f} {int(e.max()):>8d}")
    e = torch.cat(every)
    print(f"{'all':<8} {e.numel():>6} {float((e <= 1).float().mean()):>11.2%} {float(e.mean()):>9.3f} {int(e.max()):>8d}")
    s, c = torch.tensor(seconds[1:] or seconds), torch.tensor(cpu_seconds[1:] or cpu_seconds)
    print(
        f"time per 1280x768 grid: {float(s.median()) * 1000:.1f} ms median wall ({float(s.mean()) * 1000:.1f} mean), "
        f"{float(c.median()) * 1000:.1f} ms median CPU, torch threads: {torch.get_num_threads()}"
    )
    for name, values in adherence.items():
        v = torch.tensor(values)
        print(f"adherence, {name:<8}: mean {float(v.mean()):.3f}  min {float(v.min()):.3f}  max {float(v.max()):.3f}  ({v.numel()} grids)")
    within = float((e <= 1).float().mean())
    targets = Targets()
    targets.check("border edges found within 1 px", f"{within:.2%}", f">= {WITHIN_1PX_TARGET:.0%}", within >= WITHIN_1PX_TARGET)
    targets.report()


if __name__ == "__main__":
    raise SystemExit(run(main, ARGS))
