// Draw-a-Video's front-end. Works in ComfyUI frontend 1.35.9 (ComfyUI 0.8.0's) and newer (tested with
// 1.58.1), in both rendering modes: the classic canvas and Nodes 2.0 (setting Comfy.VueNodes.Enabled).
// It only touches node types whose id starts with "DrawAVideo_":
//   - Grid Layout: a drawing of the grid under its widgets (true aspect ratio, gutters, frame numbers
//     in the chosen order, the reading path) and a readout: image size, frames, FLUX tokens, a rough
//     VRAM estimate, and a warning naming any size that is not a multiple of 16.
//   - Save Video: the saved clip plays in the node, looped and muted, for mp4, webm, gif and webp.
//   - Split Image/Latent Grid: "16 frames, 320x192" on the node after a run.
// Everything shown is a DOM widget (an element the frontend places in the node in either mode): the
// drawing is a <canvas> of its own, never the graph canvas's draw hooks, which Nodes 2.0 does not call.
// One animation-frame loop keeps what the nodes show in step with their widget values and with the
// outputs the frontend stores (also restored on switching workflow tabs, without onExecuted).
// The logic is in the side-effect-free modules next to this file, which tests/js/ unit-tests.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { drawGridPreview, FONT_FAMILY, LINE_HEIGHT, PAD, readoutHeight, themeColours } from "./grid_drawing.js";
import { describe, LAYOUT_WIDGETS, layoutValuesOf } from "./grid_preview_math.js";
import { fittedHeight, pickPreview, splitSummary, viewQuery } from "./output_preview_math.js";

const PACK_PREFIX = "DrawAVideo_";
const GRID_LAYOUT = "DrawAVideo_GridLayout";
const SAVE_VIDEO = "DrawAVideo_SaveVideo";
const SPLIT_NODES = new Set(["DrawAVideo_SplitImageGrid", "DrawAVideo_SplitLatentGrid"]);

const GRID_PREVIEW = "drawavideo_grid_preview";
const SPLIT_INFO = "drawavideo_split_info";
const MEDIA_PREVIEW = "drawavideo_media_preview";

const GRID_MIN_HEIGHT = 150; // the grid's least height; the readout above it adds its own
const GRID_MAX_HEIGHT = 360; // Nodes 2.0 sizes the drawing by the grid's aspect ratio, within these
const SPLIT_INFO_HEIGHT = LINE_HEIGHT + 6;
const MEDIA_MIN_HEIGHT = 120;

const VRAM_TOOLTIP =
    "Rough planning numbers for FLUX.1-dev at this image size. VRAM = transformer weights (23.8 GB bf16, " +
    "11.9 GB fp8) + ComfyUI's own activation reservation for FLUX (~0.26 MB per image token). The VAE " +
    "decode runs after sampling (ComfyUI tiles it when short). Text encoders, CUDA context and LoRAs are " +
    "not counted; ComfyUI's partial offloading lets smaller cards run, slower.";

const liteGraph = () => globalThis.LiteGraph ?? {};
const vueNodesMode = () => Boolean(liteGraph().vueNodesMode);

function chain(prototype, method, after) {
    const original = prototype[method];
    prototype[method] = function (...args) {
        const result = original?.apply(this, args);
        after.apply(this, args);
        return result;
    };
}

/** "1.58.1" -> [1, 58, 1]; unknown -> null. */
function frontendVersion() {
    const match = /^(\d+)\.(\d+)\.(\d+)/.exec(String(globalThis.__COMFYUI_FRONTEND_VERSION__ ?? ""));
    return match ? match.slice(1).map(Number) : null;
}

/**
 * Whether Nodes 2.0 leaves a node's outputs to the node when it sets hideOutputImages (frontend PR #8857,
 * February 2026, in 1.40). Older Nodes 2.0 (1.35.9) always shows the outputs itself, by previewMediaType.
 */
function frontendHonoursHideOutputImages() {
    const version = frontendVersion();
    return !version || version[0] > 1 || (version[0] === 1 && version[1] >= 40);
}

/**
 * A node's last output as the frontend stores it, found by the frontend's key: the node id, or
 * "<subgraph id>:<node id>" for a node inside a subgraph. Ids are compared as strings (1.58.1's are).
 */
function storedOutput(node) {
    const graph = node.graph;
    const key = graph && graph.isRootGraph === false ? `${graph.id}:${node.id}` : String(node.id);
    return app.nodeOutputs?.[key];
}

function forwardWheelToCanvas(element) {
    element.addEventListener(
        "wheel",
        (event) => {
            if (vueNodesMode()) return; // Nodes 2.0 handles zoom over nodes itself
            const canvas = app.canvas?.canvas;
            if (!canvas) return;
            event.preventDefault();
            canvas.dispatchEvent(new WheelEvent("wheel", event));
        },
        { passive: false },
    );
}

/** A DOM widget that is never saved in the workflow nor sent to the server. */
function addDisplayWidget(node, name, type, element, options) {
    const widget = node.addDOMWidget(name, type, element, { serialize: false, hideOnZoom: false, margin: 0, ...options });
    widget.serialize = false;
    return widget;
}

// --- Keeping the nodes in step: one loop for all of the pack's live nodes ---------------------------

const liveNodes = new Map(); // node -> sync(node)
let loopRunning = false;

function stillInGraph(node) {
    const graph = node.graph;
    return Boolean(graph) && (typeof graph.getNodeById !== "function" || graph.getNodeById(node.id) === node);
}

function syncAll() {
    for (const [node, sync] of liveNodes) {
        if (!stillInGraph(node)) {
            liveNodes.delete(node);
            continue;
        }
        try {
            sync(node);
        } catch (error) {
            console.error("[Draw-a-Video] drawavideo node UI:", error);
            liveNodes.delete(node);
        }
    }
}

function loop() {
    syncAll();
    if (liveNodes.size) globalThis.requestAnimationFrame(loop);
    else loopRunning = false;
}

function keepInStep(node, sync) {
    liveNodes.set(node, sync);
    if (!loopRunning && typeof globalThis.requestAnimationFrame === "function") {
        loopRunning = true;
        globalThis.requestAnimationFrame(loop);
    }
}

// --- Grid Layout: the drawing ----------------------------------------------------------------------

/** Current widget values of the layout inputs: the drawing is recomputed from them. */
function layoutValues(node) {
    return layoutValuesOf(node.widgets ?? []);
}

/** Whether input `slot` has a link: the supported accessor where there is one (1.58.1 deprecates input.link). */
function inputConnected(node, slot) {
    if (typeof node.isInputConnected === "function") return Boolean(node.isInputConnected(slot));
    return node.inputs?.[slot]?.link != null;
}

/** Layout inputs fed by a link: their widget value is not what will run. */
function linkedLayoutInputs(node) {
    const linked = [];
    (node.inputs ?? []).forEach((input, slot) => {
        const name = input.widget?.name;
        if (LAYOUT_WIDGETS.includes(name) && inputConnected(node, slot)) linked.push(name);
    });
    return linked;
}

/** The width the drawing has: its element's, else the node's (before the element is laid out). */
function previewWidth(node, element) {
    return element?.clientWidth || Math.max(0, (node.size?.[0] ?? 0) - 2 * PAD) + 2 * PAD;
}

/** Least height of the drawing: the readout plus a grid; in Nodes 2.0 the grid at its aspect ratio. */
function gridPreviewHeight(node, width, byAspect) {
    const info = describe(layoutValues(node));
    const readout = readoutHeight(info, linkedLayoutInputs(node), width);
    if (!byAspect) return readout + GRID_MIN_HEIGHT;
    const { width: w, height: h } = info.size;
    const grid = Math.min(GRID_MAX_HEIGHT, Math.max(100, ((width - 2 * PAD) * h) / w));
    return Math.round(readout + grid + PAD + 4);
}

function drawGridWidget(node, widget, force = false) {
    const { element: box, canvas } = widget;
    const vue = vueNodesMode();
    const width = previewWidth(node, box);
    const values = layoutValues(node);
    const linked = linkedLayoutInputs(node);
    // Nodes 2.0 lays the node out around its elements: the drawing asks for its height by CSS. The classic
    // canvas gives the widget the room left in the node (at least getMinHeight) and sizes the element.
    // The loop comes here every frame: the height (which wraps and measures the readout) is worked out
    // again only when what it depends on changed.
    const heightKey = JSON.stringify([values, linked, width, vue]);
    if (heightKey !== widget.heightKey) {
        widget.heightKey = heightKey;
        widget.wantedHeight = `${gridPreviewHeight(node, width, vue)}px`;
    }
    const wanted = widget.wantedHeight;
    if (box.style.minHeight !== wanted) box.style.minHeight = wanted;
    const height = box.clientHeight || parseFloat(wanted);
    if (!box.isConnected && !force) return;
    const ratio = Math.min(4, (globalThis.devicePixelRatio || 1) * Math.max(1, app.canvas?.ds?.scale ?? 1));
    const key = JSON.stringify([values, linked, width, height, ratio, liteGraph().NODE_DEFAULT_BGCOLOR]);
    if (!force && key === widget.drawnKey) return;
    widget.drawnKey = key;
    canvas.width = Math.max(1, Math.round(width * ratio));
    canvas.height = Math.max(1, Math.round(height * ratio));
    const ctx = canvas.getContext("2d");
    ctx.setTransform?.(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const cells = drawGridPreview(ctx, describe(values), linked, width, 0, height);
    // What the browser check measures: where the cells are, in the element's CSS pixels.
    widget.drawnCells = cells.map(({ x, y, w, h, frame }) => ({ x, y, w, h, frame }));
}

function addGridPreview(node) {
    if (node.widgets?.some((w) => w.name === GRID_PREVIEW)) return;
    const box = document.createElement("div");
    box.className = "drawavideo-grid-preview";
    box.title = VRAM_TOOLTIP;
    Object.assign(box.style, { position: "relative", width: "100%", height: "100%", overflow: "hidden", boxSizing: "border-box" });
    const canvas = document.createElement("canvas");
    canvas.className = "drawavideo-grid-canvas";
    Object.assign(canvas.style, { position: "absolute", left: "0", top: "0", width: "100%", height: "100%", display: "block", pointerEvents: "none" });
    box.appendChild(canvas);
    forwardWheelToCanvas(box);
    const widget = addDisplayWidget(node, GRID_PREVIEW, "drawavideo.grid_preview", box, {
        // A real number in every mode (1.58.1's legacy wrapper read a NaN height from a computeSize getter).
        getMinHeight: () => gridPreviewHeight(node, previewWidth(node, box), vueNodesMode()),
    });
    widget.canvas = canvas;
    widget.tooltip = VRAM_TOOLTIP;
    /** Draws now (the loop draws on changes only); the browser check and the unit tests call it. */
    widget.redraw = () => drawGridWidget(node, widget, true);
    keepInStep(node, () => drawGridWidget(node, widget));
    const [minWidth, minHeight] = node.computeSize();
    node.setSize([Math.max(node.size[0], minWidth, 240), Math.max(node.size[1], minHeight)]);
}

// --- Split nodes: "16 frames, 320x192" after a run -------------------------------------------------

function splitInfoWidget(node) {
    let widget = node.widgets?.find((w) => w.name === SPLIT_INFO);
    if (widget) return widget;
    const line = document.createElement("div");
    line.className = "drawavideo-split-info";
    Object.assign(line.style, {
        height: `${SPLIT_INFO_HEIGHT}px`,
        minHeight: `${SPLIT_INFO_HEIGHT}px`,
        lineHeight: `${SPLIT_INFO_HEIGHT}px`,
        font: `12px ${FONT_FAMILY}`,
        textAlign: "center",
        whiteSpace: "nowrap",
        overflow: "hidden",
        textOverflow: "ellipsis",
        color: themeColours().text,
        pointerEvents: "none",
    });
    widget = addDisplayWidget(node, SPLIT_INFO, "drawavideo.split_info", line, { getMinHeight: () => SPLIT_INFO_HEIGHT, getMaxHeight: () => SPLIT_INFO_HEIGHT });
    widget.value = "";
    return widget;
}

function syncSplitSummary(node, output = storedOutput(node)) {
    const text = splitSummary(output);
    if (!text) return;
    const widget = splitInfoWidget(node);
    if (widget.value === text) return;
    widget.value = text;
    widget.element.textContent = text;
    node.setSize([node.size[0], Math.max(node.size[1], node.computeSize()[1])]);
    node.setDirtyCanvas?.(true, true);
}

function setUpSplitNode(nodeType) {
    chain(nodeType.prototype, "onNodeCreated", function () {
        keepInStep(this, (node) => syncSplitSummary(node));
    });
    chain(nodeType.prototype, "onExecuted", function (output) {
        syncSplitSummary(this, output);
    });
}

// --- Save Video: a playing, looping preview ---------------------------------------------------------
// The frontends' own previews of an {"images": [...], "animated": [true]} output go wrong for a clip:
// 1.35.9's canvas (litegraphService updatePreviews) and 1.58.1's Nodes 2.0 hand any animated file but
// webp/png to a <video>, which cannot play a gif; 1.35.9 leaves mp4/webm paused and, once a node showed
// a video, keeps <video> after the format changes. So this node shows its output itself, with the element
// picked by the file's media type: <video autoplay loop muted> for mp4/webm, <img> (which animates) for
// gif/webp. It turns the frontend's own preview off: onDrawBackground (classic canvas) and
// hideOutputImages (Nodes 2.0 from 1.40). 1.35.9's Nodes 2.0 cannot be told: there the frontend shows the
// output, as an image or a video by the previewMediaType set here.

function ownPreviewShown() {
    return !vueNodesMode() || frontendHonoursHideOutputImages();
}

function mediaWidget(node) {
    let widget = node.widgets?.find((w) => w.name === MEDIA_PREVIEW);
    if (widget) return widget;
    const box = document.createElement("div");
    box.className = "drawavideo-media-preview";
    Object.assign(box.style, {
        width: "100%",
        height: "100%",
        minHeight: `${MEDIA_MIN_HEIGHT}px`,
        display: "flex",
        alignItems: "center",
        justifyContent: "center",
        overflow: "hidden",
    });
    forwardWheelToCanvas(box);
    widget = addDisplayWidget(node, MEDIA_PREVIEW, "drawavideo.media_preview", box, {
        getMinHeight: () => widget.fittedHeight ?? MEDIA_MIN_HEIGHT,
    });
    return widget;
}

function releaseMedia(element) {
    if (element instanceof HTMLVideoElement) {
        element.pause();
        element.removeAttribute("src");
        element.load(); // frees the decoder now rather than at garbage collection
    }
}

/** Grows the node once so the picture shows at the node's width (never shrinks a node the user sized). */
function growToFit(node, widget, mediaW, mediaH) {
    const wanted = fittedHeight(mediaW, mediaH, node.size[0] - 2 * PAD);
    if (vueNodesMode()) {
        // Nodes 2.0 sizes the node around its elements: ask by CSS.
        widget.fittedHeight = wanted;
        widget.element.style.minHeight = `${wanted}px`;
        return;
    }
    const current = widget.computedHeight ?? 0;
    if (current < wanted) node.setSize([node.size[0], node.size[1] + (wanted - current)]);
    node.setDirtyCanvas?.(true, true);
}

function showMedia(node, kind, url) {
    const widget = mediaWidget(node);
    let element;
    if (kind === "video") {
        element = document.createElement("video");
        Object.assign(element, { muted: true, defaultMuted: true, autoplay: true, loop: true, playsInline: true, controls: true });
        element.addEventListener(
            "loadedmetadata",
            () => {
                growToFit(node, widget, element.videoWidth, element.videoHeight);
                element.play().catch(() => {}); // autoplay may be refused; the controls still work
            },
            { once: true },
        );
    } else {
        element = document.createElement("img");
        element.alt = "Saved clip";
        element.addEventListener("load", () => growToFit(node, widget, element.naturalWidth, element.naturalHeight), { once: true });
    }
    Object.assign(element.style, { maxWidth: "100%", maxHeight: "100%", width: "100%", height: "100%", objectFit: "contain" });
    element.draggable = false;
    element.src = url;
    for (const old of widget.element.children) releaseMedia(old);
    widget.element.replaceChildren(element);
}

function syncMediaPreview(node, output = storedOutput(node)) {
    const preview = pickPreview(output);
    if (!preview) return;
    // What the frontend's own renderers read (1.35.9's Nodes 2.0 and the output-format logic).
    node.previewMediaType = preview.kind === "video" ? "video" : "image";
    node.animatedImages = preview.kind === "image";
    if (!ownPreviewShown()) return;
    const query = viewQuery(preview.item);
    if (node.widgets?.find((w) => w.name === MEDIA_PREVIEW)?.shownQuery === query) return;
    showMedia(node, preview.kind, api.apiURL(`/view?${query}${app.getRandParam?.() ?? ""}`));
    mediaWidget(node).shownQuery = query;
}

function setUpSaveVideo(nodeType) {
    // Nodes 2.0 (1.40+) leaves the outputs of a node with this flag to the node.
    nodeType.prototype.hideOutputImages = true;
    // Replaces the classic canvas's own preview drawing for this node type only.
    nodeType.prototype.onDrawBackground = function () {
        syncMediaPreview(this);
    };
    chain(nodeType.prototype, "onNodeCreated", function () {
        this.hideOutputImages = true; // on the node too, as the frontend's own extensions set it
        keepInStep(this, (node) => syncMediaPreview(node));
    });
    chain(nodeType.prototype, "onExecuted", function (output) {
        syncMediaPreview(this, output);
    });
}

function setUpGridLayout(nodeType) {
    chain(nodeType.prototype, "onNodeCreated", function () {
        addGridPreview(this);
    });
}

app.registerExtension({
    name: "DrawAVideo.NodeUI",
    beforeRegisterNodeDef(nodeType, nodeData) {
        const name = nodeData?.name ?? "";
        if (!name.startsWith(PACK_PREFIX)) return;
        if (name === GRID_LAYOUT) setUpGridLayout(nodeType);
        else if (name === SAVE_VIDEO) setUpSaveVideo(nodeType);
        else if (SPLIT_NODES.has(name)) setUpSplitNode(nodeType);
    },
});
