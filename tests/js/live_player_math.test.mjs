// Unit tests of js/live_player_math.js (the live player's slicing, timing and graph walk). Run: node --test tests/js
import assert from "node:assert/strict";
import { describe as suite, test } from "node:test";

import { DEFAULTS } from "../../js/grid_preview_math.js";
import { clampFps, findGridTarget, frameAt, localNodeId, matchesGrid, previewCells } from "../../js/live_player_math.js";

const layout = (overrides = {}) => ({ ...DEFAULTS, ...overrides });
const rect = (c) => [c.x, c.y, c.w, c.h];

suite("slicing a preview into frames", () => {
    test("row-major: the latent2rgb preview of the 1280x768 grid (160x96) gives 16 cells of 40x24, row by row", () => {
        const cells = previewCells(layout(), 160, 96);
        assert.equal(cells.length, 16);
        assert.deepEqual(rect(cells[0]), [0, 0, 40, 24]);
        assert.deepEqual(rect(cells[1]), [40, 0, 40, 24]);
        assert.deepEqual(rect(cells[3]), [120, 0, 40, 24]);
        assert.deepEqual(rect(cells[4]), [0, 24, 40, 24]);
        assert.deepEqual(rect(cells[15]), [120, 72, 40, 24]);
        assert.deepEqual(cells.map((c) => c.frame), [...Array(16).keys()]);
    });

    test("column-major: frames go down the first column first", () => {
        const cells = previewCells(layout({ rows: 2, cols: 3, cell_width: 64, cell_height: 32 }), 192, 64);
        assert.deepEqual(cells.map((c) => [c.row, c.col]), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
        const byColumn = previewCells(layout({ rows: 2, cols: 3, cell_width: 64, cell_height: 32, order: "column-major" }), 192, 64);
        assert.deepEqual(byColumn.map((c) => [c.row, c.col]), [[0, 0], [1, 0], [0, 1], [1, 1], [0, 2], [1, 2]]);
        assert.deepEqual(rect(byColumn[1]), [0, 32, 64, 32]);
        assert.deepEqual(rect(byColumn[2]), [64, 0, 64, 32]);
    });

    test("serpentine: every other row runs right to left", () => {
        const cells = previewCells(layout({ rows: 3, cols: 3, cell_width: 16, cell_height: 16, order: "serpentine" }), 48, 48);
        assert.deepEqual(cells.map((c) => [c.row, c.col]), [[0, 0], [0, 1], [0, 2], [1, 2], [1, 1], [1, 0], [2, 0], [2, 1], [2, 2]]);
        assert.deepEqual(rect(cells[3]), [32, 16, 16, 16]);
    });

    test("gutters are skipped and scale with the preview", () => {
        // 2x2 cells of 64x32 with a 16 px gutter: 144x80 px; a half-size preview is 72x40.
        const l = layout({ rows: 2, cols: 2, cell_width: 64, cell_height: 32, gutter: 16 });
        const full = previewCells(l, 144, 80);
        assert.deepEqual(full.map(rect), [[0, 0, 64, 32], [80, 0, 64, 32], [0, 48, 64, 32], [80, 48, 64, 32]]);
        const half = previewCells(l, 72, 40);
        assert.deepEqual(half.map(rect), [[0, 0, 32, 16], [40, 0, 32, 16], [0, 24, 32, 16], [40, 24, 32, 16]]);
        // Every cell ends inside the preview and no cell covers a gutter pixel.
        for (const c of half) assert.ok(c.x + c.w <= 72 && c.y + c.h <= 40);
        assert.ok(half[0].x + half[0].w < half[1].x);
    });

    test("a TAESD preview contained in 512 px keeps fractional cell rects (no drift across the grid)", () => {
        // 1280x768 contained in 512: 512x307 (PIL rounds); cells stay proportional.
        const cells = previewCells(layout(), 512, 307);
        assert.equal(cells[15].x + cells[15].w, 512);
        assert.ok(Math.abs(cells[15].y + cells[15].h - 307) < 1e-9);
        assert.ok(Math.abs(cells[5].w - 128) < 1e-9 && Math.abs(cells[5].h - 76.75) < 1e-9);
    });

    test("an empty preview gives no cells", () => {
        assert.deepEqual(previewCells(layout(), 0, 0), []);
    });

    test("matchesGrid accepts scaled previews of the grid and refuses other shapes", () => {
        assert.ok(matchesGrid(layout(), 160, 96));
        assert.ok(matchesGrid(layout(), 512, 307));
        assert.ok(!matchesGrid(layout(), 40, 24 * 2)); // one 320x192 frame's preview is not a 4x4 grid of them... (5:3 vs 5:6)
        assert.ok(!matchesGrid(layout(), 96, 96));
        assert.ok(!matchesGrid(layout(), 0, 96));
    });
});

suite("timing", () => {
    test("frameAt loops over the frames at the frame rate", () => {
        assert.equal(frameAt(0, 8, 16), 0);
        assert.equal(frameAt(124, 8, 16), 0);
        assert.equal(frameAt(125, 8, 16), 1);
        assert.equal(frameAt(1999, 8, 16), 15);
        assert.equal(frameAt(2000, 8, 16), 0);
        assert.equal(frameAt(1000, 24, 16), 8);
        assert.equal(frameAt(1000, 0, 16), 0);
        assert.equal(frameAt(1000, 8, 0), 0);
    });

    test("clampFps keeps 0.5..60 and falls back on nonsense", () => {
        assert.equal(clampFps(8), 8);
        assert.equal(clampFps("12.5"), 12.5);
        assert.equal(clampFps(0.1), 0.5);
        assert.equal(clampFps(500), 60);
        assert.equal(clampFps("x", 10), 10);
        assert.equal(clampFps(-3), 8);
    });
});

suite("which grid a sampler draws", () => {
    // The text-to-video graph: 4 Grid Layout -> 5 Grid Prompt, 6 EmptySD3LatentImage (INT links), 10 Split, 11 Save Video;
    // 8 KSampler -> 9 VAEDecode -> 10 Split Image Grid -> 11 Save Video; 9 -> 12 PreviewImage.
    const t2v = {
        types: { 4: "DrawAVideo_GridLayout", 5: "DrawAVideo_GridPrompt", 6: "EmptySD3LatentImage", 8: "KSampler", 9: "VAEDecode",
            10: "DrawAVideo_SplitImageGrid", 11: "DrawAVideo_SaveVideo", 12: "PreviewImage", 13: "UNETLoader" },
        links: [
            { from: 4, to: 5, type: "GRID_LAYOUT" }, { from: 4, to: 6, type: "INT" }, { from: 4, to: 6, type: "INT" },
            { from: 4, to: 10, type: "GRID_LAYOUT" }, { from: 4, to: 11, type: "GRID_LAYOUT" },
            { from: 13, to: 8, type: "MODEL" }, { from: 6, to: 8, type: "LATENT" }, { from: 8, to: 9, type: "LATENT" },
            { from: 9, to: 10, type: "IMAGE" }, { from: 9, to: 12, type: "IMAGE" }, { from: 10, to: 11, type: "IMAGE" },
        ],
    };
    const options = { clipTypes: ["DrawAVideo_SaveVideo"] };

    test("a sampler whose output reaches a node taking the layout plays on that Grid Layout, and its Save Video shows the clip", () => {
        assert.deepEqual(findGridTarget(t2v, "8", options), { layoutId: "4", clips: ["11"] });
        assert.deepEqual(findGridTarget(t2v, 8, options), { layoutId: "4", clips: ["11"] });
    });

    test("a node that takes the layout itself (the diffusers sampler) plays too", () => {
        const graph = { types: { 1: "DrawAVideo_GridLayout", 2: "DrawAVideo_DiffusersGridSampler" }, links: [{ from: 1, to: 2, type: "GRID_LAYOUT" }] };
        assert.deepEqual(findGridTarget(graph, "2"), { layoutId: "1", clips: [] });
    });

    test("a sampler whose output never meets the layout (a per-frame pass after the cut) does not play", () => {
        const graph = {
            types: { ...t2v.types, 20: "KSampler", 21: "VAEDecode", 22: "DrawAVideo_SaveVideo" },
            links: [...t2v.links, { from: 10, to: 20, type: "LATENT" }, { from: 20, to: 21, type: "LATENT" }, { from: 21, to: 22, type: "IMAGE" }],
        };
        assert.equal(findGridTarget(graph, "20", options), null);
        assert.equal(findGridTarget(graph, "99", options), null);
    });

    test("INT links from the layout (width, height) and other node types do not count as the layout", () => {
        const graph = { types: { 4: "DrawAVideo_GridLayout", 6: "EmptySD3LatentImage", 8: "KSampler" },
            links: [{ from: 4, to: 6, type: "INT" }, { from: 6, to: 8, type: "LATENT" }] };
        assert.equal(findGridTarget(graph, "6"), null);
    });

    test("the nearest layout-taking node wins when two grids with two layouts are chained", () => {
        const graph = {
            types: { 1: "DrawAVideo_GridLayout", 2: "DrawAVideo_GridLayout", 3: "KSampler", 4: "DrawAVideo_SplitImageGrid",
                5: "DrawAVideo_KeyframeGrid", 6: "KSampler", 7: "DrawAVideo_SplitImageGrid" },
            links: [{ from: 3, to: 4, type: "IMAGE" }, { from: 1, to: 4, type: "GRID_LAYOUT" }, { from: 4, to: 5, type: "IMAGE" },
                { from: 2, to: 5, type: "GRID_LAYOUT" }, { from: 5, to: 6, type: "LATENT" }, { from: 6, to: 7, type: "IMAGE" },
                { from: 2, to: 7, type: "GRID_LAYOUT" }],
        };
        assert.equal(findGridTarget(graph, "3").layoutId, "1");
        assert.equal(findGridTarget(graph, "6").layoutId, "2");
    });

    test("localNodeId strips subgraph prefixes", () => {
        assert.equal(localNodeId("12"), "12");
        assert.equal(localNodeId("5:12"), "12");
        assert.equal(localNodeId(7), "7");
        assert.equal(localNodeId(null), "");
    });
});
