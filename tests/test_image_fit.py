"""Fit Image to Cell: a picture at exactly the cell size, aspect kept; bad pictures refused by name.

And the image-to-video recipe end to end on tensors: the fitted picture goes into a cell of a
Keyframe Grid, a stand-in sampler draws the masked cells, the known cells are pasted back, and
Split Image Grid gives the picture back bit for bit as frame 1 (and/or the last frame).
"""

import numpy as np
import pytest
import torch
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.grid import split_image
from draw_a_video.nodes.engine.image_fit import FITS, fit_picture, fitted_size, pad_frame
from draw_a_video.nodes.engine.keyframes import keyframe_grids
from draw_a_video.nodes.engine.layout import GridLayout
from draw_a_video.nodes.image_nodes import FitImageToCellNode

LAYOUT = GridLayout(rows=2, cols=3, cell_width=64, cell_height=32)
COVER, PAD = FITS


def picture(height, width, seed=0):
    """A picture of 8-bit values (what Load Image gives): a smooth gradient plus a marked centre."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randint(0, 256, (1, 1, 1, 3), generator=g).float()
    yy, xx = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    pixels = (base + torch.stack([xx * 255 / width, yy * 255 / height, (xx + yy) % 64 * 2.0], -1)) % 256
    return pixels.round().clamp(0, 255) / 255.0


def test_a_picture_of_the_cell_size_comes_back_unchanged():
    pic = picture(32, 64)
    for fit in FITS:
        assert torch.equal(fit_picture(pic, LAYOUT, fit), pic)


def test_cover_fills_the_cell_and_crops_the_centre():
    # 4:3 into 2:1: rows are cut top and bottom; a 2:1 picture twice the cell is a plain 2x downscale.
    pic = torch.zeros(1, 96, 128, 3)
    pic[:, 16:80] = 1.0                     # the central 2:1 band is white, the cut rows black
    out = fit_picture(pic, LAYOUT, COVER)
    assert out.shape == (1, 32, 64, 3)
    # Lanczos reads a few source rows past the crop box, so the outermost rows dim a little.
    assert out[0, 2:-2].min() > 0.99 and out.min() > 0.9, "cover kept rows outside the centre band"


def test_pad_keeps_the_whole_picture_and_centres_it_on_bands():
    pic = torch.ones(1, 100, 100, 3)       # square into 64x32: 32x32 in the middle, bands left and right
    out = fit_picture(pic, LAYOUT, PAD, "black")
    assert out.shape == (1, 32, 64, 3)
    assert torch.equal(out[0, :, 16:48], torch.ones(32, 32, 3))
    assert out[0, :, :16].max() == 0 and out[0, :, 48:].max() == 0
    grey = fit_picture(torch.ones(1, 50, 200, 3), LAYOUT, PAD, "grey")    # 4:1 into 2:1: bands above and below
    assert torch.equal(grey[0, 8:24], torch.ones(16, 64, 3))
    assert torch.allclose(grey[0, :8], torch.full((8, 64, 3), 128 / 255)) and torch.allclose(grey[0, 24:], grey[0, :8])
    assert fitted_size(200, 50, 64, 32, "pad")[:2] == (64, 16)
    assert pad_frame(np.zeros((3, 5, 3), np.uint8), 5, 3).shape == (3, 5, 3)


def test_every_picture_of_a_batch_is_fitted():
    pics = torch.cat([picture(64, 128, seed=s) for s in range(3)])
    out = fit_picture(pics, LAYOUT, COVER)
    assert out.shape == (3, 32, 64, 3)
    assert not torch.equal(out[0], out[1])


@pytest.mark.parametrize(("shape", "fit", "message"), [
    ((1, 20, 60, 3), COVER, r"image is 60x20 px, too small for the layout's 64x32 cell: fitting it \(cover\) would enlarge it 1.60x"),
    ((1, 31, 63, 3), PAD, r"too small .* Use a picture at least 64 px wide or 32 px high"),
    ((1, 64, 128, 4), COVER, r"image has an alpha channel \(4 channels, RGBA\)"),
    ((1, 64, 128, 1), COVER, r"image has 1 channel\(s\); connect an RGB picture"),
    ((0, 64, 128, 3), COVER, r"image is an empty batch"),
])
def test_bad_pictures_are_refused_by_name(shape, fit, message):
    with pytest.raises(DrawAVideoError, match=message):
        fit_picture(torch.rand(*shape), LAYOUT, fit)


def test_bad_choices_are_refused():
    with pytest.raises(DrawAVideoError, match="fit is 'stretch'"):
        fit_picture(picture(32, 64), LAYOUT, "stretch")
    with pytest.raises(DrawAVideoError, match="pad_color is 'red'"):
        fit_picture(picture(32, 64), LAYOUT, PAD, "red")


@pytest.mark.parametrize(("cells", "where"), [("0", [0]), ("-1", [5]), ("0,-1", [0, 5])])
@pytest.mark.parametrize("order", ["row-major", "column-major", "serpentine"])
def test_image_to_video_on_tensors_gives_the_picture_back_exactly(cells, where, order):
    """The i2v workflow's graph with a stand-in sampler: Fit -> Keyframe Grid (custom cells) -> 'sample' the
    masked cells -> paste the known cells back (ImageCompositeMasked with the inverted mask) -> split."""
    from dataclasses import replace

    layout = replace(LAYOUT, order=order)
    pics = torch.cat([picture(300, 400, seed=s) for s in range(len(where))])
    fitted = FitImageToCellNode().fit(pics, layout, COVER, "black")[0]
    grid, mask, plan = keyframe_grids(fitted, layout, "custom", cells=cells)
    assert plan.draw_count == layout.frames - len(where)
    drawn = torch.rand_like(grid)                                   # the sampler + VAE round trip: all pixels change
    keep = (1.0 - mask).unsqueeze(-1)                               # InvertMask
    pasted = fitted.new_zeros(1) + grid * keep + drawn * (1 - keep)  # ImageCompositeMasked(destination=drawn, source=grid)
    frames = split_image(pasted, layout)
    for k, cell in enumerate(where):
        assert torch.equal(frames[cell], fitted[k])
    others = [i for i in range(layout.frames) if i not in where]
    assert all(not torch.equal(frames[i], fitted[0]) for i in others)
