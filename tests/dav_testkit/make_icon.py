"""Draw the pack's registry icon: a 4x4 grid of frames, darker to lighter in reading order, with a play mark.

    python tests/dav_testkit/make_icon.py   # rewrites js/icon.png (400x400, the registry icon)
"""
import colorsys
from pathlib import Path

from PIL import Image, ImageDraw

S = 400
img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
d.rounded_rectangle((0, 0, S - 1, S - 1), radius=64, fill=(24, 27, 33, 255))
m, g = 44, 10
cell = (S - 2 * m - 3 * g) / 4
for i in range(16):
    r, c = divmod(i, 4)
    t = i / 15
    rgb = colorsys.hls_to_rgb((212 - 40 * t) / 360, 0.30 + 0.28 * t, 0.55)
    x0 = m + c * (cell + g)
    y0 = m + r * (cell + g)
    d.rounded_rectangle((x0, y0, x0 + cell, y0 + cell), radius=10, fill=tuple(round(255 * v) for v in rgb) + (255,))
# reading path: a dot at frame 1, arrow into frame 16


def cx(c):
    return m + c * (cell + g) + cell / 2


pts = [(cx(c), cx(r)) for r in range(4) for c in range(4)]
for a, b in zip(pts, pts[1:]):
    if a[1] == b[1]:
        d.line((a, b), fill=(255, 196, 80, 235), width=7)
d.ellipse((pts[0][0] - 13, pts[0][1] - 13, pts[0][0] + 13, pts[0][1] + 13), fill=(255, 196, 80, 255))
# play triangle over the centre
px, py, h = S / 2, S / 2, 70
d.ellipse((px - h, py - h, px + h, py + h), fill=(255, 255, 255, 230))
d.polygon([(px - 22, py - 36), (px - 22, py + 36), (px + 40, py)], fill=(24, 27, 33, 255))
img.save(Path(__file__).resolve().parents[2] / "js" / "icon.png", optimize=True)
print(img.size)
