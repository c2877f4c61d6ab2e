// Unit tests of js/grid_preview_math.js (the Grid Layout node's drawing and readout). Run: node --test tests/js
import assert from "node:assert/strict";
import { describe as suite, test } from "node:test";

import {
    DEFAULTS,
    cellOfFrame,
    cellRects,
    describe,
    fitRect,
    fluxWarnings,
    formatCount,
    formatGB,
    frameAt,
    gridSize,
    isLightColour,
    labelSize,
    nearestMultiples,
    readLayout,
    sizeNotes,
    vramEstimate,
    wrapText,
} from "../../js/grid_preview_math.js";

const layout = (overrides = {}) => ({ ...DEFAULTS, ...overrides });

/** The frame numbers as the node draws them: one row of the grid per array, 0-based. */
function numbering(l) {
    return Array.from({ length: l.rows }, (_, r) => Array.from({ length: l.cols }, (_, c) => frameAt(l, r, c)));
}

suite("geometry", () => {
    test("the method's default 4x4 of 320x192 is 1280x768, 16 frames, 3840 tokens", () => {
        assert.deepEqual(gridSize(layout()), { width: 1280, height: 768, frames: 16, tokens: 3840 });
    });

    test("gutters sit between cells only: cols*cell + (cols-1)*gutter", () => {
        assert.deepEqual(gridSize(layout({ rows: 2, cols: 3, cell_width: 64, cell_height: 32, gutter: 16 })), {
            width: 3 * 64 + 2 * 16,
            height: 2 * 32 + 16,
            frames: 6,
            tokens: (224 / 16) * (80 / 16),
        });
    });

    test("a 16x1 strip (16 rows, one column) is tall", () => {
        const size = gridSize(layout({ rows: 16, cols: 1, cell_width: 320, cell_height: 192 }));
        assert.equal(size.width, 320);
        assert.equal(size.height, 16 * 192);
    });

    test("tokens floor sides that are not multiples of 16, like GridLayout.flux_tokens", () => {
        assert.equal(gridSize(layout({ rows: 1, cols: 1, cell_width: 300, cell_height: 40 })).tokens, 18 * 2);
    });
});

suite("frame order", () => {
    test("row-major fills rows left to right", () => {
        assert.deepEqual(numbering(layout({ rows: 2, cols: 3 })), [[0, 1, 2], [3, 4, 5]]);
    });

    test("column-major fills columns top to bottom", () => {
        assert.deepEqual(numbering(layout({ rows: 2, cols: 3, order: "column-major" })), [[0, 2, 4], [1, 3, 5]]);
    });

    test("serpentine runs every other row right to left", () => {
        assert.deepEqual(numbering(layout({ rows: 3, cols: 3, order: "serpentine" })), [
            [0, 1, 2],
            [5, 4, 3],
            [6, 7, 8],
        ]);
    });

    for (const order of ["row-major", "column-major", "serpentine"]) {
        test(`${order}: cellOfFrame and frameAt are inverse, every cell used once`, () => {
            const l = layout({ rows: 3, cols: 5, order });
            const seen = new Set();
            for (let frame = 0; frame < 15; frame++) {
                const [row, col] = cellOfFrame(l, frame);
                assert.equal(frameAt(l, row, col), frame);
                seen.add(`${row},${col}`);
            }
            assert.equal(seen.size, 15);
        });
    }

    test("cellOfFrame refuses frames outside the grid", () => {
        assert.throws(() => cellOfFrame(layout(), 16), RangeError);
        assert.throws(() => cellOfFrame(layout(), -1), RangeError);
    });
});

suite("multiple-of-16 warnings", () => {
    test("a valid layout has none", () => {
        assert.deepEqual(fluxWarnings(layout({ gutter: 16 })), []);
    });

    test("cell_width 300 names the value and both neighbours", () => {
        assert.deepEqual(fluxWarnings(layout({ cell_width: 300 })), [
            "cell_width 300: not a multiple of 16 (use 288 or 304)",
        ]);
    });

    test("every bad size gets its own line, in widget order", () => {
        assert.deepEqual(fluxWarnings(layout({ cell_width: 100, cell_height: 200, gutter: 8 })), [
            "cell_width 100: not a multiple of 16 (use 96 or 112)",
            "cell_height 200: not a multiple of 16 (use 192 or 208)",
            "gutter 8: not a multiple of 16 (use 0 or 16)",
        ]);
    });

    test("below 16 a cell can only grow; a gutter can also drop to 0", () => {
        assert.deepEqual(nearestMultiples(10), [16, 16]);
        assert.deepEqual(nearestMultiples(10, 16, true), [0, 16]);
        assert.deepEqual(nearestMultiples(20, 16, true), [16, 32]);
        assert.deepEqual(fluxWarnings(layout({ cell_height: 10 })), ["cell_height 10: not a multiple of 16 (use 16)"]);
    });

    test("describe() puts the warnings next to the readout", () => {
        const info = describe({ ...DEFAULTS, cell_width: 300 });
        assert.deepEqual(info.warnings, ["cell_width 300: not a multiple of 16 (use 288 or 304)"]);
        assert.match(info.lines[0], /^1200 × 768 px/);
    });
});

suite("reading widget values", () => {
    test("missing values take the node's defaults", () => {
        assert.deepEqual(readLayout({}).layout, DEFAULTS);
    });

    test("numbers given as strings are read, bad ones reported and replaced by defaults", () => {
        const { layout: l, problems } = readLayout({ rows: "2", cols: 0, cell_width: 1.5, gutter: -16, order: "diagonal" });
        assert.equal(l.rows, 2);
        assert.equal(l.cols, DEFAULTS.cols);
        assert.equal(l.cell_width, DEFAULTS.cell_width);
        assert.equal(l.gutter, DEFAULTS.gutter);
        assert.equal(l.order, DEFAULTS.order);
        assert.deepEqual(problems, [
            "cols 0: must be a whole number, at least 1",
            "cell_width 1.5: must be a whole number, at least 1",
            "gutter -16: must be a whole number, at least 0",
            'order "diagonal": choose row-major, column-major, serpentine',
        ]);
    });
});

suite("VRAM estimate (rough)", () => {
    test("1280x768: weights + ComfyUI's FLUX activation reservation", () => {
        const v = vramEstimate({ width: 1280, height: 768 });
        const latentArea = 160 * 96;
        const activations = latentArea * 2 * 0.01 * 3.1 * 1024 * 1024;
        assert.equal(v.tokens, 3840);
        assert.ok(Math.abs(v.activations - activations) < 1);
        assert.ok(Math.abs(v.bf16 - (23.8e9 + activations)) < 1);
        assert.ok(Math.abs(v.fp8 - (11.9e9 + activations)) < 1);
        assert.equal(formatGB(v.bf16), "24.8 GB");
        assert.equal(formatGB(v.fp8), "12.9 GB");
        assert.equal(formatGB(v.vaeDecode), "4.5 GB");
    });

    test("activations grow linearly with tokens; weights don't", () => {
        const small = vramEstimate({ width: 512, height: 512 });
        const big = vramEstimate({ width: 1024, height: 1024 });
        assert.ok(Math.abs(big.activations - 4 * small.activations) < 1);
        assert.ok(Math.abs(big.fp8 - small.fp8 - 3 * small.activations) < 1);
        assert.ok(big.bf16 - big.fp8 === 11.9e9);
    });

    test("the readout shows size, frames, tokens and both precisions", () => {
        const { lines } = describe(DEFAULTS);
        assert.deepEqual(lines, [
            "1280 × 768 px · 16 frames · 3,840 FLUX tokens",
            "VRAM ≈ 24.8 GB bf16 · 12.9 GB fp8 (rough, FLUX.1-dev)",
            "VAE decode ≈ 4.5 GB afterwards (tiled if short)",
        ]);
        assert.match(describe({ rows: 1, cols: 1 }).lines[0], / 1 frame · /);
    });

    test("above ~2 MP a note warns that FLUX draws worse", () => {
        assert.deepEqual(sizeNotes({ width: 1280, height: 768 }), []);
        assert.deepEqual(sizeNotes({ width: 2560, height: 1536 }), ["3.9 MP is above FLUX's ~2 MP range: expect broken grids"]);
    });

    test("counts get thousands separators", () => {
        assert.equal(formatCount(3840), "3,840");
        assert.equal(formatCount(1234567), "1,234,567");
        assert.equal(formatCount(16), "16");
    });
});

suite("drawing geometry", () => {
    test("fitRect keeps the aspect ratio and centres", () => {
        const r = fitRect(1280, 768, { x: 10, y: 20, w: 300, h: 300 });
        assert.equal(r.w, 300);
        assert.equal(r.h, 180);
        assert.equal(r.x, 10);
        assert.equal(r.y, 20 + 60);
        const tall = fitRect(320, 3072, { x: 0, y: 0, w: 300, h: 200 });
        assert.equal(tall.h, 200);
        assert.ok(Math.abs(tall.w - 200 * (320 / 3072)) < 1e-9);
        assert.ok(Math.abs(tall.x - (300 - tall.w) / 2) < 1e-9);
    });

    test("cellRects tile the fitted rect in frame order, gutters scaled", () => {
        const l = layout({ rows: 2, cols: 2, cell_width: 96, cell_height: 48, gutter: 16, order: "serpentine" });
        const { width, height } = gridSize(l); // 208 x 112
        const rect = fitRect(width, height, { x: 0, y: 0, w: 208, h: 112 });
        const cells = cellRects(l, rect);
        assert.deepEqual(
            cells.map(({ frame, row, col, x, y, w, h }) => [frame, row, col, x, y, w, h]),
            [
                [0, 0, 0, 0, 0, 96, 48],
                [1, 0, 1, 112, 0, 96, 48],
                [2, 1, 1, 112, 64, 96, 48],
                [3, 1, 0, 0, 64, 96, 48],
            ],
        );
    });

    test("a gutter too thin to see is widened to one screen pixel; no gutter stays none", () => {
        const l = layout({ rows: 1, cols: 2, cell_width: 1024, cell_height: 1024, gutter: 16 });
        const rect = fitRect(2064, 1024, { x: 0, y: 0, w: 100, h: 100 });
        const [a, b] = cellRects(l, rect);
        assert.ok(Math.abs(b.x - (a.x + a.w) - 1) < 1e-9);
        const [c, d] = cellRects({ ...l, gutter: 0 }, fitRect(2048, 1024, { x: 0, y: 0, w: 100, h: 100 }));
        assert.equal(d.x, c.x + c.w);
    });

    test("labels shrink with the cell and vanish when they would not fit", () => {
        assert.equal(labelSize(80, 48, 2), 16);
        assert.equal(labelSize(24, 16, 2), 8);
        assert.equal(labelSize(6, 6, 3), 0);
    });
});

suite("text", () => {
    const measure = (text) => text.length * 6;

    test("wrapText wraps on spaces to the width", () => {
        assert.deepEqual(wrapText("cell_width 300: not a multiple of 16 (use 288 or 304)", 120, measure), [
            "cell_width 300: not",
            "a multiple of 16",
            "(use 288 or 304)",
        ]);
    });

    test("a word longer than the width gets a line of its own rather than being lost", () => {
        assert.deepEqual(wrapText("a verylongword b", 30, measure), ["a", "verylongword", "b"]);
        assert.deepEqual(wrapText("", 30, measure), []);
    });

    test("isLightColour tells the light theme from the dark one", () => {
        assert.equal(isLightColour("#353535"), false);
        assert.equal(isLightColour("#fff"), true);
        assert.equal(isLightColour("#e0e0e0"), true);
        assert.equal(isLightColour("rgb(250, 250, 250)"), true);
        assert.equal(isLightColour("not a colour"), false);
    });
});
