// js/draw_a_video.js (the extension ComfyUI loads) run in Node against small stand-ins for ComfyUI's
// app/api modules, LiteGraph nodes, a recording canvas context and a few DOM elements. The browser check
// (tests/integration/frontend_check.mjs) covers the real frontend; this covers the glue on every CI run.
import assert from "node:assert/strict";
import { before, beforeEach, test } from "node:test";

import { installFakeVideo, serveComfyStandIns } from "./comfy_stand_ins.mjs";

const extensions = [];
const app = { registerExtension: (extension) => extensions.push(extension), nodeOutputs: {}, getRandParam: () => "&rand=1" };
serveComfyStandIns(app, { apiURL: (route) => `/api${route}` });

/** A 2D context that records text and measures 6 px per character. */
function recordingContext() {
    const texts = [];
    const noop = () => {};
    const ctx = new Proxy(
        { texts, globalAlpha: 1, measureText: (text) => ({ width: String(text).length * 6 }), fillText: (text) => texts.push(String(text)) },
        { get: (target, key) => (key in target ? target[key] : noop), set: (target, key, value) => ((target[key] = value), true) },
    );
    return ctx;
}

class FakeElement {
    constructor(tag) {
        this.tagName = tag.toUpperCase();
        this.style = {};
        this.children = [];
        this.listeners = {};
        this.clientWidth = 0; // not laid out: the extension falls back to the node's size
        this.clientHeight = 0;
        this.isConnected = false;
        this.textContent = "";
    }
    addEventListener(type, listener) {
        this.listeners[type] = listener;
    }
    appendChild(child) {
        this.children.push(child);
        return child;
    }
    replaceChildren(...children) {
        this.children = children;
    }
    /** A fresh recorder per draw; the last one stays readable. */
    getContext() {
        this.lastContext = recordingContext();
        return this.lastContext;
    }
}
installFakeVideo(FakeElement);
globalThis.Path2D = class {
    moveTo() {}
    lineTo() {}
};
// The extension's one animation-frame loop: run by hand with tick().
const frames = [];
globalThis.requestAnimationFrame = (callback) => frames.push(callback);
function tick() {
    for (const callback of frames.splice(0)) callback();
}

/** Just enough of a LiteGraph node: widgets, size, custom and DOM widgets. */
class FakeNode {
    constructor(id, widgets) {
        this.id = id;
        this.graph = { isRootGraph: true, getNodeById: (id) => (String(id) === String(this.id) ? this : null) };
        this.widgets = Object.entries(widgets).map(([name, value]) => ({ name, value, callback: null }));
        this.inputs = [];
        this.size = [340, 300];
    }
    addCustomWidget(widget) {
        this.widgets.push(widget);
        return widget;
    }
    addDOMWidget(name, type, element, options) {
        const widget = { name, type, element, options, computedHeight: 150 };
        this.widgets.push(widget);
        return widget;
    }
    /** Like the frontend: plain widgets 24 px each, DOM widgets their getMinHeight(). */
    computeSize() {
        const height = this.widgets.reduce((sum, w) => sum + (w.options?.getMinHeight ? w.options.getMinHeight() : 24), 0);
        return [340, height];
    }
    setSize(size) {
        this.size = size;
    }
    setDirtyCanvas() {}
    widget(name) {
        return this.widgets.find((w) => w.name === name);
    }
}

const GRID_DEFAULTS = { rows: 4, cols: 4, cell_width: 320, cell_height: 192, gutter: 0, order: "row-major", frame_stride: 10 };

function nodeType(name) {
    const type = class extends FakeNode {};
    extensions[0].beforeRegisterNodeDef(type, { name });
    return type;
}

function drawnText(node) {
    const preview = node.widget("drawavideo_grid_preview");
    preview.element.clientWidth = node.size[0];
    preview.element.clientHeight = 300;
    preview.redraw();
    return preview.canvas.lastContext.texts;
}

function setMode({ vue, version }) {
    globalThis.LiteGraph = { vueNodesMode: vue };
    globalThis.__COMFYUI_FRONTEND_VERSION__ = version;
}

before(async () => {
    await import("../../js/draw_a_video.js");
});

beforeEach(() => {
    app.nodeOutputs = {};
    setMode({ vue: false, version: "1.35.9" });
});

test("registers one extension and leaves other packs' nodes alone", () => {
    assert.equal(extensions.length, 1);
    assert.equal(extensions[0].name, "DrawAVideo.NodeUI");
    for (const name of ["KSampler", "SaveVideo", "VHS_VideoCombine", "DrawAVideoLookalike"]) {
        const type = class {};
        const before = Object.getOwnPropertyNames(type.prototype);
        extensions[0].beforeRegisterNodeDef(type, { name });
        assert.deepEqual(Object.getOwnPropertyNames(type.prototype), before, name);
    }
});

test("Grid Layout gets a drawing widget that is never saved nor sent", () => {
    const GridLayout = nodeType("DrawAVideo_GridLayout");
    const node = new GridLayout(1, GRID_DEFAULTS);
    node.onNodeCreated();
    const preview = node.widget("drawavideo_grid_preview");
    assert.equal(preview.serialize, false);
    assert.equal(preview.options.serialize, false);
    assert.equal(preview.element.children[0], preview.canvas, "the drawing is a canvas inside the DOM widget");
    assert.equal(preview.computeSize, undefined); // no computeSize: 1.58.1's wrapper read NaN from one
    assert.ok(preview.options.getMinHeight() >= 150 + 3 * 15);
    assert.ok(node.size[1] >= node.computeSize()[1], "the node is made tall enough for the drawing");
    for (const version of ["1.35.9", "1.58.1"]) {
        setMode({ vue: true, version });
        const height = preview.options.getMinHeight();
        assert.ok(Number.isFinite(height) && height >= 100 + 3 * 15, `Nodes 2.0 ${version}: ${height}`);
    }
    node.onNodeCreated();
    assert.equal(node.widgets.filter((w) => w.name === "drawavideo_grid_preview").length, 1);
});

test("the drawing shows the readout and every frame number, from the widget values", () => {
    const GridLayout = nodeType("DrawAVideo_GridLayout");
    const node = new GridLayout(1, GRID_DEFAULTS);
    node.onNodeCreated();
    let text = drawnText(node);
    assert.ok(text.includes("1280 × 768 px · 16 frames · 3,840 FLUX tokens"), text.join(" | "));
    assert.ok(text.some((t) => t.startsWith("VRAM ≈ 24.8 GB bf16")));
    for (let frame = 1; frame <= 16; frame++) assert.ok(text.includes(String(frame)), `label ${frame}`);

    node.widget("rows").value = 2;
    node.widget("order").value = "serpentine";
    text = drawnText(node);
    assert.ok(text.includes("1280 × 384 px · 8 frames · 1,920 FLUX tokens"), text.join(" | "));
    assert.ok(text.includes("8") && !text.includes("9"));
});

test("a size that is not a multiple of 16 is named in a warning, wrapped to the node", () => {
    const GridLayout = nodeType("DrawAVideo_GridLayout");
    const node = new GridLayout(1, { ...GRID_DEFAULTS, cell_width: 300 });
    node.onNodeCreated();
    const calm = new GridLayout(2, GRID_DEFAULTS);
    calm.onNodeCreated();
    const joined = drawnText(node).join(" ");
    assert.match(joined, /⚠ cell_width 300: not a multiple of 16 \(use 288 or 304\)/);
    const preview = node.widget("drawavideo_grid_preview");
    assert.ok(preview.options.getMinHeight() > calm.widget("drawavideo_grid_preview").options.getMinHeight());
});

test("a layout value fed by a link is flagged: the drawing can only show the widget's value", () => {
    const GridLayout = nodeType("DrawAVideo_GridLayout");
    const node = new GridLayout(1, GRID_DEFAULTS);
    node.onNodeCreated();
    node.inputs = [{ name: "rows", widget: { name: "rows" }, link: 12 }, { name: "cols", widget: { name: "cols" }, link: null }];
    let joined = drawnText(node).join(" ");
    assert.match(joined, /rows comes from a link: drawn with the widget's last value/);
    assert.doesNotMatch(joined, /cols comes from a link/);
    // Where the node has the supported accessor (1.58.1 deprecates input.link), it is what counts.
    node.isInputConnected = (slot) => slot === 1;
    joined = drawnText(node).join(" ");
    assert.match(joined, /cols comes from a link/);
    assert.doesNotMatch(joined, /rows comes from a link/);
});

test("Split nodes show '16 frames, 320x192' after a run and after outputs are restored", () => {
    for (const name of ["DrawAVideo_SplitImageGrid", "DrawAVideo_SplitLatentGrid"]) {
        const Split = nodeType(name);
        const node = new Split(7, {});
        node.onExecuted({ frame_count: [16], frame_size: ["320x192"] });
        assert.equal(node.widget("drawavideo_split_info").value, "16 frames, 320x192");
        assert.equal(node.widget("drawavideo_split_info").serialize, false);

        assert.equal(node.widget("drawavideo_split_info").element.textContent, "16 frames, 320x192");

        // Outputs the frontend restores (switching back to a workflow tab) arrive without onExecuted:
        // the animation-frame loop picks them up, in either rendering mode (no canvas draw hook needed).
        const restored = new Split(8, {});
        restored.onNodeCreated();
        const other = new Split(9, {});
        other.onNodeCreated();
        app.nodeOutputs["8"] = { frame_count: [4], frame_size: ["40x24 latent"] };
        tick();
        assert.equal(restored.widget("drawavideo_split_info").value, "4 frames, 40x24 latent");
        assert.equal(restored.widget("drawavideo_split_info").element.textContent, "4 frames, 40x24 latent");
        assert.equal(other.widget("drawavideo_split_info"), undefined, "no output, no line");
    }
});

test("Save Video plays mp4/webm in a muted, looping, autoplaying <video> and gif/webp in an <img>", () => {
    const SaveVideo = nodeType("DrawAVideo_SaveVideo");
    const node = new SaveVideo(3, { format: "mp4 (h264)" });
    node.onExecuted({ images: [{ filename: "clip_00001_.mp4", subfolder: "DrawAVideo", type: "output", format: "video/mp4" }], animated: [true] });
    const preview = node.widget("drawavideo_media_preview");
    assert.equal(preview.options.serialize, false);
    assert.equal(preview.serialize, false);
    const [video] = preview.element.children;
    assert.equal(video.tagName, "VIDEO");
    assert.equal(video.src, "/api/view?filename=clip_00001_.mp4&subfolder=DrawAVideo&type=output&rand=1");
    assert.deepEqual([video.muted, video.autoplay, video.loop, video.playsInline], [true, true, true, true]);
    assert.equal(node.previewMediaType, "video");

    // The frontend redraws often: the same output must not reload the element.
    app.nodeOutputs["3"] = { images: [{ filename: "clip_00001_.mp4", subfolder: "DrawAVideo", type: "output" }], animated: [true] };
    node.onDrawBackground();
    assert.equal(preview.element.children[0], video);

    // The format changed to gif: the same widget now shows an <img>.
    app.nodeOutputs["3"] = { images: [{ filename: "clip_00002_.gif", subfolder: "", type: "temp", format: "image/gif" }], animated: [true] };
    node.onDrawBackground();
    const [image] = preview.element.children;
    assert.equal(image.tagName, "IMG");
    assert.equal(image.src, "/api/view?filename=clip_00002_.gif&subfolder=&type=temp&rand=1");
    assert.equal(node.previewMediaType, "image");
    assert.equal(node.widgets.filter((w) => w.name === "drawavideo_media_preview").length, 1);

    // Loaded, the node grows so the clip shows at its width (320x192 at 320 px: 192 px).
    node.size = [340, 400];
    preview.computedHeight = 120;
    image.naturalWidth = 320;
    image.naturalHeight = 192;
    image.listeners.load();
    assert.equal(node.size[1], 400 + (192 - 120));
});

test("Save Video replaces the frontend's own preview drawing for its type only", () => {
    const SaveVideo = nodeType("DrawAVideo_SaveVideo");
    const node = new SaveVideo(4, {});
    node.onDrawBackground(); // no output yet: nothing happens, nothing throws
    assert.equal(node.widget("drawavideo_media_preview"), undefined);
    assert.equal(node.hideOutputImages, true, "Nodes 2.0 (1.40+) leaves the outputs to the node");
    const Other = nodeType("PreviewImage");
    assert.equal(Other.prototype.onDrawBackground, undefined);
    assert.equal(Other.prototype.hideOutputImages, undefined);
});

test("Nodes 2.0: a gif is an <img> in 1.58.1; 1.35.9 shows the output itself, told it is an image", () => {
    const SaveVideo = nodeType("DrawAVideo_SaveVideo");
    const gif = { images: [{ filename: "clip_00003_.gif", subfolder: "", type: "temp", format: "image/gif" }], animated: [true] };

    setMode({ vue: true, version: "1.58.1" });
    const node = new SaveVideo("11", {});
    node.onNodeCreated();
    app.nodeOutputs["11"] = gif; // as the frontend stores it; no onExecuted, no canvas drawing
    tick();
    const [image] = node.widget("drawavideo_media_preview").element.children;
    assert.equal(image.tagName, "IMG");
    assert.equal(node.previewMediaType, "image");
    // Nodes 2.0 lays out by CSS: the loaded clip asks for its height on the element.
    node.size = [340, 300];
    image.naturalWidth = 320;
    image.naturalHeight = 192;
    image.listeners.load();
    assert.equal(node.widget("drawavideo_media_preview").element.style.minHeight, "192px");
    assert.equal(node.size[1], 300, "Nodes 2.0: the node is not resized by hand");

    setMode({ vue: true, version: "1.35.9" });
    const old = new SaveVideo("12", {});
    old.onExecuted(gif);
    assert.equal(old.widget("drawavideo_media_preview"), undefined, "no second copy next to the frontend's");
    assert.equal(old.previewMediaType, "image");
});
