// js/live_player.js (the extension ComfyUI loads) run in Node against small stand-ins for ComfyUI's app/api
// modules, a LiteGraph graph, a recording canvas and a few DOM elements: websocket previews reach the right
// Grid Layout's player, are cut in the layout's frame order, and the run's end shows the saved clip.
// The browser check (tests/integration/live_player_check.mjs) covers the real frontend.
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { installFakeVideo, serveComfyStandIns } from "./comfy_stand_ins.mjs";

const drawn = [];
class FakeElement {
    constructor(tag) {
        this.tagName = tag.toUpperCase();
        this.style = {};
        this.children = [];
        this.listeners = {};
        this.clientWidth = 300;
        this.clientHeight = 180;
    }
    addEventListener(type, listener) {
        this.listeners[type] = listener;
    }
    append(...children) {
        this.children.push(...children);
        for (const child of children) child.parent = this;
    }
    prepend(child) {
        this.children.unshift(child);
    }
    remove() {
        this.parent.children = this.parent.children.filter((c) => c !== this);
    }
    querySelectorAll(selector) {
        const tags = selector.split(",").map((s) => s.trim().toUpperCase());
        const found = [];
        const walk = (el) => el.children.forEach((c) => (tags.includes(c.tagName) && found.push(c), walk(c)));
        walk(this);
        return found;
    }
    querySelector(selector) {
        return this.querySelectorAll(selector)[0] ?? null;
    }
    getContext() {
        const noop = () => {};
        return new Proxy({ measureText: (t) => ({ width: t.length * 6 }), drawImage: (...a) => drawn.push(a) },
            { get: (t, k) => (k in t ? t[k] : noop), set: (t, k, v) => ((t[k] = v), true) });
    }
}
installFakeVideo(FakeElement);
globalThis.window = { devicePixelRatio: 1 };
const frames = [];
globalThis.requestAnimationFrame = (callback) => frames.push(callback);
globalThis.cancelAnimationFrame = () => {};
globalThis.createImageBitmap = async (blob) => ({ width: blob.width, height: blob.height, close() {} });

const listeners = {};
const api = {
    addEventListener: (type, listener) => (listeners[type] ??= []).push(listener),
    apiURL: (route) => `/api${route}`,
};
const emit = (type, detail) => (listeners[type] ?? []).forEach((listener) => listener({ detail }));
const extensions = [];
const app = { registerExtension: (e) => extensions.push(e), graph: null, getRandParam: () => "" };
serveComfyStandIns(app, api);

class FakeNode {
    constructor(id, type, widgets = {}) {
        Object.assign(this, { id, type, comfyClass: type, mode: 0, size: [380, 300] });
        this.widgets = Object.entries(widgets).map(([name, value]) => ({ name, value }));
    }
    addDOMWidget(name, type, element, options) {
        const widget = { name, type, element, options };
        this.widgets.push(widget);
        return widget;
    }
    computeSize() {
        return [380, 7 * 24 + 240];
    }
    setSize(size) {
        this.size = size;
    }
}

/** The text-to-video graph: sampler 8 -> decode 9 -> split 10 -> Save Video 11, Grid Layout 4 feeding 10 and 11;
 *  and a second sampler 20 refining frames after the cut, which must not play. */
function t2vGraph(layout) {
    const nodes = [
        new FakeNode(4, "DrawAVideo_GridLayout", layout), new FakeNode(8, "KSampler"), new FakeNode(9, "VAEDecode"),
        new FakeNode(10, "DrawAVideo_SplitImageGrid"), new FakeNode(11, "DrawAVideo_SaveVideo", { fps: 12 }), new FakeNode(20, "KSampler"),
    ];
    const links = new Map([[1, [8, 9, "LATENT"]], [2, [9, 10, "IMAGE"]], [3, [10, 11, "IMAGE"]], [4, [4, 10, "GRID_LAYOUT"]],
        [5, [4, 11, "GRID_LAYOUT"]], [6, [10, 20, "IMAGE"]]].map(([id, [from, to, type]]) => [id, { origin_id: from, target_id: to, type }]));
    const graph = { _nodes: nodes, links, getNodeById: (id) => nodes.find((n) => String(n.id) === String(id)) };
    for (const node of nodes) node.graph = graph;
    return graph;
}

async function settle() {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    for (const callback of frames.splice(0)) callback(); // one animation frame (a playing loop asks for the next)
}

before(async () => {
    await import("../../js/live_player.js");
});

test("a Grid Layout node gets one player widget of a fixed height, not saved with the workflow", () => {
    const node = new FakeNode(1, "DrawAVideo_GridLayout");
    extensions[0].nodeCreated(node);
    extensions[0].nodeCreated(node);
    const players = node.widgets.filter((w) => w.name === "drawavideo_live_player");
    assert.equal(players.length, 1);
    const [widget] = players;
    assert.equal(widget.serialize, false);
    assert.equal(widget.options.getMinHeight(), widget.options.getMaxHeight());
    assert.equal(widget.computeSize(380)[1], widget.computedHeight);
    assert.equal(widget.options.getMinHeight(), widget.computedHeight);
    assert.ok(node.size[1] >= node.computeSize()[1]);
    const other = new FakeNode(2, "KSampler");
    extensions[0].nodeCreated(other);
    assert.equal(other.widgets.length, 0);
});

test("previews of a sampler upstream of the layout play on its Grid Layout, cut in frame order; the run's end shows the saved clip", async () => {
    app.graph = t2vGraph({ rows: 2, cols: 2, cell_width: 128, cell_height: 64, gutter: 0, order: "serpentine" });
    const grid = app.graph.getNodeById(4);
    extensions[0].nodeCreated(grid);
    const player = grid.davLivePlayer;
    assert.equal(player.snapshot().state, "idle");

    emit("execution_start", {});
    emit("b_preview_with_metadata", { blob: { width: 256, height: 128 }, displayNodeId: "8", nodeId: "8" });
    emit("b_preview", { width: 256, height: 128 }); // the same preview without metadata: ignored once metadata is seen
    await settle();
    let state = player.snapshot();
    assert.equal(state.state, "live");
    assert.equal(state.frames, 4);
    assert.equal(state.previews, 1);
    assert.equal(state.fps, 12, "starts at the downstream Save Video's fps");

    // Serpentine 2x2: frame 2 is the bottom-right cell, frame 3 the bottom-left one.
    drawn.length = 0;
    for (const [frame, source] of [[2, [128, 64, 128, 64]], [3, [0, 64, 128, 64]], [1, [128, 0, 128, 64]]]) {
        player.setPlaying(false);
        player.frame = frame;
        player.draw();
        assert.deepEqual(drawn.at(-1).slice(1, 5), source, `frame ${frame}`);
    }
    player.setPlaying(true);

    // A preview from the sampler after the cut (frames, not the grid) and one of another shape are ignored.
    emit("b_preview_with_metadata", { blob: { width: 128, height: 64 }, displayNodeId: "20" });
    emit("b_preview_with_metadata", { blob: { width: 100, height: 100 }, displayNodeId: "8" });
    await settle();
    assert.equal(player.snapshot().previews, 1);

    emit("executed", { node: "11", display_node: "11", output: { images: [{ filename: "t2v_00001_.mp4", subfolder: "DrawAVideo", type: "output" }], animated: [true] } });
    emit("execution_success", {});
    await settle();
    state = player.snapshot();
    assert.equal(state.state, "final");
    assert.equal(state.final, "t2v_00001_.mp4");
    const video = player.stage.querySelector("video");
    assert.ok(video && video.src.includes("filename=t2v_00001_.mp4"), "the saved clip plays in the player");
    assert.equal(player.canvas.style.display, "none");

    // The next run goes live again and puts the canvas back.
    emit("execution_start", {});
    emit("b_preview_with_metadata", { blob: { width: 256, height: 128 }, displayNodeId: "8" });
    await settle();
    assert.equal(player.snapshot().state, "live");
    assert.equal(player.stage.querySelector("video"), null);
    assert.equal(player.canvas.style.display, "block");
});
