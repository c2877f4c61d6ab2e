"""Edited clips made from real footage with ffmpeg's own filters: shots joined by dissolves or cuts.

    python tests/dav_testkit/footage.py SOURCE OUT --size 320x180 --fps 25 --shot 0:56 --shot 60:132:hflip --join 20

A dissolve of d frames is ffmpeg's `xfade=transition=fade` (a cross-fade): the new shot's weight at
the j-th frame of it is j/d, so frames offset+1 .. offset+d-1 are mixes of the two shots (offset: where
the dissolve starts). The labels follow from the recipe, frame for frame, and were checked by eye on
contact sheets (tests/data/footage/README.md). Used to make the committed `bbb_dissolve.mp4` and, at test
time, dissolve clips from footage that may not be redistributed.
"""

from __future__ import annotations

import argparse
import subprocess
from fractions import Fraction


def edit(source: str, out: str, size: tuple[int, int], fps: str, shots: list[tuple[int, int, str]], joins: list[int]) -> dict:
    """Write `out`: shots (first frame, end frame exclusive, extra ffmpeg filters) of `source`, joined by
    a dissolve of joins[i] frames (0: a cut). Returns its labels: frames, cuts, dissolves (first, last)."""
    import imageio_ffmpeg

    if len(joins) != len(shots) - 1:
        raise ValueError("one join between each two shots")
    rate = Fraction(fps)
    width, height = size
    graph = [f"[0:v]scale={width}:{height}:flags=lanczos,fps={fps},split={len(shots)}" + "".join(f"[w{i}]" for i in range(len(shots))) + ";"]
    for i, (first, end, extra) in enumerate(shots):
        graph.append(f"[w{i}]trim=start_frame={first}:end_frame={end},setpts=PTS-STARTPTS{',' + extra if extra else ''}[s{i}];")
    total, current, cuts, dissolves = shots[0][1] - shots[0][0], "s0", [], []
    for i, frames in enumerate(joins, start=1):
        length = shots[i][1] - shots[i][0]
        if frames == 0:
            graph.append(f"[{current}][s{i}]concat=n=2:v=1:a=0[x{i}];")
            cuts.append(total)
            total += length
        else:
            offset = total - frames
            graph.append(f"[{current}][s{i}]xfade=transition=fade:duration={float(frames / rate):.6f}:offset={float(offset / rate):.6f}[x{i}];")
            dissolves.append([offset + 1, offset + frames - 1])
            total = offset + length
        current = f"x{i}"
    graph.append(f"[{current}]format=yuv420p,setpts=N/({fps})/TB[out]")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", source, "-filter_complex", "".join(graph),
                    "-map", "[out]", "-an", "-c:v", "libx264", "-crf", "20", "-preset", "slow", "-r", fps, out], check=True)
    return {"frames": total, "cuts": cuts, "dissolves": dissolves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--fps", default="25")
    parser.add_argument("--shot", action="append", required=True, help="FIRST:END[:FILTERS]")
    parser.add_argument("--join", action="append", type=int, default=[], help="frames of dissolve (0: cut)")
    args = parser.parse_args()
    shots = [(int(a), int(b), rest[0] if rest else "") for a, b, *rest in (s.split(":", 2) for s in args.shot)]
    width, height = (int(v) for v in args.size.split("x"))
    print(edit(args.source, args.out, (width, height), args.fps, shots, args.join))


if __name__ == "__main__":
    main()
