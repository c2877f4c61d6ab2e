// Draw-a-Video's front-end (ComfyUI frontend 1.35, classic canvas nodes). It only touches node types
// whose id starts with "DrawAVideo_":
//   - Grid Layout: a drawing of the grid under its widgets (true aspect ratio, gutters, frame numbers
//     in the chosen order, the reading path) and a readout: image size, frames, FLUX tokens, a rough
//     VRAM estimate, and a warning naming any size that is not a multiple of 16.
//   - Save Video: the saved clip plays in the node, looped and muted, for mp4, webm, gif and webp.
//   - Split Image/Latent Grid: "16 frames, 320x192" on the node after a run.
// The logic is in the side-effect-free modules next to this file, which tests/js/ unit-tests.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { cellRects, describe, fitRect, isLightColour, labelSize, LAYOUT_WIDGETS, wrapText } from "./grid_preview_math.js";
import { fittedHeight, pickPreview, splitSummary, viewQuery } from "./output_preview_math.js";

const PACK_PREFIX = "DrawAVideo_";
const GRID_LAYOUT = "DrawAVideo_GridLayout";
const SAVE_VIDEO = "DrawAVideo_SaveVideo";
const SPLIT_NODES = new Set(["DrawAVideo_SplitImageGrid", "DrawAVideo_SplitLatentGrid"]);

const GRID_PREVIEW = "drawavideo_grid_preview";
const SPLIT_INFO = "drawavideo_split_info";
const MEDIA_PREVIEW = "drawavideo_media_preview";

const PAD = 10;
const LINE_HEIGHT = 15;
const GRID_MIN_HEIGHT = 150; // the grid's least height; the readout above it adds its own
const GRID_MIN_WIDTH = 240;
const FONT_FAMILY = "Inter, Arial, sans-serif";

const VRAM_TOOLTIP =
    "Rough planning numbers for FLUX.1-dev at this image size. VRAM = transformer weights (23.8 GB bf16, " +
    "11.9 GB fp8) + ComfyUI's own activation reservation for FLUX (~0.26 MB per image token). The VAE " +
    "decode runs after sampling (ComfyUI tiles it when short). Text encoders, CUDA context and LoRAs are " +
    "not counted; ComfyUI's partial offloading lets smaller cards run, slower.";

const liteGraph = () => globalThis.LiteGraph ?? {};

function chain(prototype, method, after) {
    const original = prototype[method];
    prototype[method] = function (...args) {
        const result = original?.apply(this, args);
        after.apply(this, args);
        return result;
    };
}

/**
 * A node's last output as the frontend stores it (also restored on switching workflow tabs), found by
 * the frontend's key: the node id, or "<subgraph id>:<node id>" for a node inside a subgraph.
 */
function storedOutput(node) {
    const graph = node.graph;
    const key = graph && graph.isRootGraph === false ? `${graph.id}:${node.id}` : String(node.id);
    return app.nodeOutputs?.[key];
}

// --- Grid Layout: the drawing ----------------------------------------------------------------------

/** Current widget values of the layout inputs: the drawing is recomputed from them on every frame. */
function layoutValues(node) {
    const values = {};
    for (const widget of node.widgets ?? []) {
        if (LAYOUT_WIDGETS.includes(widget.name)) values[widget.name] = widget.value;
    }
    return values;
}

/** Layout inputs fed by a link: their widget value is not what will run. */
function linkedLayoutInputs(node) {
    return (node.inputs ?? [])
        .filter((input) => input.link != null && LAYOUT_WIDGETS.includes(input.widget?.name))
        .map((input) => input.widget.name);
}

function themeColours() {
    const lg = liteGraph();
    const light = isLightColour(lg.NODE_DEFAULT_BGCOLOR ?? "#353535");
    return {
        text: lg.WIDGET_TEXT_COLOR ?? (light ? "#222" : "#ddd"),
        secondary: lg.WIDGET_SECONDARY_TEXT_COLOR ?? (light ? "#555" : "#999"),
        warning: light ? "#b45309" : "#ffb020",
        note: light ? "#7c5a00" : "#d8c27a",
        gutter: light ? "#c9ced6" : "#15171a",
        outline: light ? "#6b7280" : "#8a8f98",
        separator: light ? "rgba(255,255,255,0.8)" : "rgba(0,0,0,0.55)",
        path: light ? "rgba(120,53,15,0.75)" : "rgba(255,196,80,0.8)",
        label: "#ffffff",
        labelHalo: "rgba(0,0,0,0.65)",
    };
}

/** Cell fill: darker for the first frame, lighter for the last, so the order shows even without numbers. */
function cellColour(frame, frames) {
    const t = frames > 1 ? frame / (frames - 1) : 0;
    return `hsl(${Math.round(212 - 40 * t)}, 48%, ${Math.round(27 + 20 * t)}%)`;
}

function drawReadingPath(ctx, cells, colours) {
    const centre = (c) => [c.x + c.w / 2, c.y + c.h / 2];
    ctx.save();
    ctx.strokeStyle = colours.path;
    ctx.fillStyle = colours.path;
    ctx.lineWidth = Math.max(1, Math.min(2, Math.min(cells[0].w, cells[0].h) / 12));
    ctx.lineJoin = "round";
    // Steps to a neighbouring cell are solid; jumps (row-major's return to the next row's start) dashed
    // and fainter, so serpentine (no jumps) and row-major read differently at a glance.
    const steps = new Path2D();
    const jumps = new Path2D();
    for (let i = 1; i < cells.length; i++) {
        const [a, b] = [cells[i - 1], cells[i]];
        const path = Math.abs(a.row - b.row) + Math.abs(a.col - b.col) > 1 ? jumps : steps;
        path.moveTo(...centre(a));
        path.lineTo(...centre(b));
    }
    ctx.stroke(steps);
    ctx.save();
    ctx.globalAlpha *= 0.6;
    ctx.setLineDash([4, 4]);
    ctx.stroke(jumps);
    ctx.restore();
    // A dot where the clip starts, an arrowhead where it ends.
    const [sx, sy] = centre(cells[0]);
    const radius = Math.max(2, ctx.lineWidth * 1.8);
    ctx.beginPath();
    ctx.arc(sx, sy, radius, 0, 2 * Math.PI);
    ctx.fill();
    const [ex, ey] = centre(cells[cells.length - 1]);
    const [px, py] = centre(cells[cells.length - 2]);
    const angle = Math.atan2(ey - py, ex - px);
    const head = radius * 2.6;
    ctx.beginPath();
    ctx.moveTo(ex, ey);
    ctx.lineTo(ex - head * Math.cos(angle - 0.45), ey - head * Math.sin(angle - 0.45));
    ctx.lineTo(ex - head * Math.cos(angle + 0.45), ey - head * Math.sin(angle + 0.45));
    ctx.closePath();
    ctx.fill();
    ctx.restore();
}

function drawGrid(ctx, info, box, colours, lowQuality) {
    const { layout, size } = info;
    const rect = fitRect(size.width, size.height, box);
    if (rect.w < 2 || rect.h < 2) return;
    const cells = cellRects(layout, rect);
    const frames = cells.length;

    const { w: cellW, h: cellH } = cells[0];
    ctx.fillStyle = colours.gutter;
    ctx.fillRect(rect.x, rect.y, rect.w, rect.h);
    if (Math.min(cellW, cellH) < 4) {
        // Cells of a few pixels (e.g. 64x64 grids): one gradient along the filling direction looks the
        // same and costs one fill instead of thousands.
        const down = layout.order !== "column-major";
        const gradient = down
            ? ctx.createLinearGradient(0, rect.y, 0, rect.y + rect.h)
            : ctx.createLinearGradient(rect.x, 0, rect.x + rect.w, 0);
        gradient.addColorStop(0, cellColour(0, 2));
        gradient.addColorStop(1, cellColour(1, 2));
        ctx.fillStyle = gradient;
        ctx.fillRect(rect.x, rect.y, rect.w, rect.h);
    } else {
        for (const cell of cells) {
            ctx.fillStyle = cellColour(cell.frame, frames);
            ctx.fillRect(cell.x, cell.y, cell.w, cell.h);
        }
    }
    if (!layout.gutter && cellW >= 3 && cellH >= 3) {
        // Touching cells: hairlines on the shared borders so each frame reads as its own box.
        ctx.strokeStyle = colours.separator;
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (let c = 1; c < layout.cols; c++) {
            const x = Math.round(rect.x + c * cellW) + 0.5;
            ctx.moveTo(x, rect.y);
            ctx.lineTo(x, rect.y + rect.h);
        }
        for (let r = 1; r < layout.rows; r++) {
            const y = Math.round(rect.y + r * cellH) + 0.5;
            ctx.moveTo(rect.x, y);
            ctx.lineTo(rect.x + rect.w, y);
        }
        ctx.stroke();
    }
    if (!lowQuality && frames > 1 && Math.min(cellW, cellH) >= 6) drawReadingPath(ctx, cells, colours);

    const fontSize = lowQuality ? 0 : labelSize(cellW, cellH, String(frames).length);
    if (fontSize) {
        ctx.font = `bold ${fontSize}px ${FONT_FAMILY}`;
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.lineJoin = "round";
        ctx.lineWidth = Math.max(2, fontSize / 4);
        for (const cell of cells) {
            const label = String(cell.frame + 1);
            const x = cell.x + cell.w / 2;
            const y = cell.y + cell.h / 2;
            ctx.strokeStyle = colours.labelHalo;
            ctx.strokeText(label, x, y);
            ctx.fillStyle = colours.label;
            ctx.fillText(label, x, y);
        }
    }
    ctx.strokeStyle = colours.outline;
    ctx.lineWidth = 1;
    ctx.strokeRect(Math.round(rect.x) + 0.5, Math.round(rect.y) + 0.5, Math.round(rect.w) - 1, Math.round(rect.h) - 1);
}

/** The text under the widgets: [text, colour] pairs, wrapped to the node's width. */
function readoutRows(info, node, colours) {
    const [size, vram, decode] = info.lines;
    const rows = [
        [size, colours.text],
        [vram, colours.secondary],
        [decode, colours.secondary],
    ];
    for (const name of linkedLayoutInputs(node)) {
        rows.push([`${name} comes from a link: drawn with the widget's last value`, colours.note]);
    }
    for (const warning of info.warnings) rows.push([`⚠ ${warning}`, colours.warning]);
    for (const note of info.notes) rows.push([note, colours.note]);
    return rows;
}

let measuringContext = null;

/** The readout wrapped to the node's width: [{ line, colour }], measured with the drawing's font. */
function readoutLines(info, node, colours, width, ctx = null) {
    if (!ctx) {
        measuringContext ??= document.createElement("canvas").getContext("2d");
        ctx = measuringContext;
    }
    ctx.font = `12px ${FONT_FAMILY}`;
    const measure = (text) => ctx.measureText(text).width;
    return readoutRows(info, node, colours).flatMap(([text, colour]) => wrapText(text, width, measure).map((line) => ({ line, colour })));
}

function drawGridPreview(ctx, node, width, y, height, lowQuality) {
    const info = describe(layoutValues(node));
    const colours = themeColours();
    const inner = Math.max(0, width - 2 * PAD);
    ctx.save();
    // LiteGraph halves the alpha of disabled widgets; this one is only "disabled" so clicks reach the node.
    ctx.globalAlpha = Math.min(1, ctx.globalAlpha * 2);
    let textY = y + 4;
    if (!lowQuality) {
        ctx.textAlign = "left";
        ctx.textBaseline = "top";
        for (const { line, colour } of readoutLines(info, node, colours, inner, ctx)) {
            ctx.fillStyle = colour;
            ctx.fillText(line, PAD, textY);
            textY += LINE_HEIGHT;
        }
    }
    const top = textY + 4;
    const box = { x: PAD, y: top, w: inner, h: y + height - PAD - top };
    if (box.w >= 8 && box.h >= 8) drawGrid(ctx, info, box, colours, lowQuality);
    ctx.restore();
}

/** Height of the readout above the grid at this node width (more lines when there are warnings). */
function readoutHeight(node, width) {
    const lines = readoutLines(describe(layoutValues(node)), node, themeColours(), Math.max(0, width - 2 * PAD));
    return 8 + lines.length * LINE_HEIGHT;
}

function addGridPreview(node) {
    if (node.widgets?.some((w) => w.name === GRID_PREVIEW)) return;
    const preview = node.addCustomWidget({
        name: GRID_PREVIEW,
        type: "drawavideo.grid_preview",
        value: "",
        // Display only: never saved in the workflow nor sent to the server; recomputed from the widgets.
        serialize: false,
        options: { serialize: false },
        // Disabled widgets are skipped by hit-testing, so dragging the drawing moves the node.
        disabled: true,
        tooltip: VRAM_TOOLTIP,
        // Classic canvas: the drawing takes the room left in the node, at least the readout plus a grid.
        computeLayoutSize(laidOutNode) {
            const minHeight = readoutHeight(laidOutNode, laidOutNode.size[0]) + GRID_MIN_HEIGHT;
            if (this.lastMinHeight !== undefined && this.lastMinHeight !== minHeight) {
                // LiteGraph grows the node after painting its body: ask for one more frame so it paints right.
                laidOutNode.setDirtyCanvas?.(true, true);
            }
            this.lastMinHeight = minHeight;
            return { minHeight, minWidth: GRID_MIN_WIDTH };
        },
        // Nodes 2.0 (experimental) sizes legacy widgets by computeSize; the classic canvas would take it
        // as a fixed height, so it only exists in that mode.
        get computeSize() {
            if (!liteGraph().vueNodesMode) return undefined;
            return (width) => {
                const { width: w, height: h } = describe(layoutValues(node)).size;
                const gridHeight = Math.min(360, Math.max(100, ((width - 2 * PAD) * h) / w));
                return [width, readoutHeight(node, width) + gridHeight + PAD + 4];
            };
        },
        draw(ctx, drawnNode, width, y, height, lowQuality) {
            const room = liteGraph().vueNodesMode ? height : this.computedHeight ?? GRID_MIN_HEIGHT;
            drawGridPreview(ctx, drawnNode, width, y, room, lowQuality);
        },
    });
    // Nodes 2.0 redraws a legacy widget only on its own changes: redraw the drawing when a layout widget changes.
    for (const widget of node.widgets) {
        if (!LAYOUT_WIDGETS.includes(widget.name)) continue;
        const callback = widget.callback;
        widget.callback = function (...args) {
            const result = callback?.apply(this, args);
            preview.triggerDraw?.();
            return result;
        };
    }
    const [minWidth, minHeight] = node.computeSize();
    node.setSize([Math.max(node.size[0], minWidth), Math.max(node.size[1], minHeight + 60)]);
}

function setUpGridLayout(nodeType) {
    chain(nodeType.prototype, "onNodeCreated", function () {
        addGridPreview(this);
    });
}

// --- Split nodes: "16 frames, 320x192" after a run -------------------------------------------------

function showSplitSummary(node, text) {
    let widget = node.widgets?.find((w) => w.name === SPLIT_INFO);
    if (!widget) {
        widget = node.addCustomWidget({
            name: SPLIT_INFO,
            type: "drawavideo.split_info",
            value: "",
            serialize: false,
            options: { serialize: false },
            disabled: true,
            computeSize: (width) => [width, LINE_HEIGHT + 6],
            draw(ctx, _node, width, y) {
                if (!this.value) return;
                ctx.save();
                ctx.globalAlpha = Math.min(1, ctx.globalAlpha * 2);
                ctx.font = `12px ${FONT_FAMILY}`;
                ctx.textAlign = "center";
                ctx.textBaseline = "middle";
                ctx.fillStyle = themeColours().text;
                ctx.fillText(this.value, width / 2, y + (LINE_HEIGHT + 6) / 2, width - 2 * PAD);
                ctx.restore();
            },
        });
    }
    widget.value = text;
    node.setSize([node.size[0], Math.max(node.size[1], node.computeSize()[1])]);
    node.setDirtyCanvas?.(true, true);
}

function syncSplitSummary(node, output = storedOutput(node)) {
    const text = splitSummary(output);
    if (!text) return;
    if (node.widgets?.find((w) => w.name === SPLIT_INFO)?.value === text) return;
    showSplitSummary(node, text);
}

function setUpSplitNode(nodeType) {
    chain(nodeType.prototype, "onExecuted", function (output) {
        syncSplitSummary(this, output);
    });
    // Outputs the frontend restores (e.g. switching back to a workflow tab) come without onExecuted.
    chain(nodeType.prototype, "onDrawBackground", function () {
        syncSplitSummary(this);
    });
}

// --- Save Video: a playing, looping preview ---------------------------------------------------------
// Frontend 1.35.9 on its own (litegraphService updatePreviews) treats an {"images": [...], "animated":
// [true]} output as a video unless the file name contains "webp" or "png": mp4/webm get a <video>
// with controls and loop but neither autoplay nor mute, so it sits paused; a gif goes into a <video>
// too, which browsers cannot play, so no preview at all; and once a node showed a video it keeps
// using <video> (isVideoNode), so switching the format to webp would break it. This node therefore
// shows its output itself: <video autoplay loop muted> for mp4/webm, <img> (which animates) for gif/webp.

function forwardWheelToCanvas(element) {
    element.addEventListener(
        "wheel",
        (event) => {
            const canvas = app.canvas?.canvas;
            if (!canvas) return;
            event.preventDefault();
            canvas.dispatchEvent(new WheelEvent("wheel", event));
        },
        { passive: false },
    );
}

function mediaWidget(node) {
    let widget = node.widgets?.find((w) => w.name === MEDIA_PREVIEW);
    if (widget) return widget;
    const box = document.createElement("div");
    box.className = "drawavideo-media-preview";
    Object.assign(box.style, {
        width: "100%",
        height: "100%",
        display: "flex",
        alignItems: "center",
        justifyContent: "center",
        overflow: "hidden",
    });
    forwardWheelToCanvas(box);
    widget = node.addDOMWidget(MEDIA_PREVIEW, "drawavideo.media_preview", box, {
        serialize: false,
        hideOnZoom: false,
        getMinHeight: () => 120,
    });
    widget.serialize = false;
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
    const query = viewQuery(preview.item);
    const widget = node.widgets?.find((w) => w.name === MEDIA_PREVIEW);
    if (widget?.shownQuery === query) return;
    // What the frontend's own renderers read (Nodes 2.0 and the output-format logic).
    node.previewMediaType = preview.kind === "video" ? "video" : "image";
    node.animatedImages = preview.kind === "image";
    // Nodes 2.0 (experimental) renders outputs itself from previewMediaType; don't show a second copy there.
    if (liteGraph().vueNodesMode) return;
    showMedia(node, preview.kind, api.apiURL(`/view?${query}${app.getRandParam?.() ?? ""}`));
    mediaWidget(node).shownQuery = query;
}

function setUpSaveVideo(nodeType) {
    // Replaces the frontend's preview drawing (see above) for this node type only. It also runs when the
    // frontend restores outputs, e.g. on switching back to a workflow tab.
    nodeType.prototype.onDrawBackground = function () {
        syncMediaPreview(this);
    };
    chain(nodeType.prototype, "onExecuted", function (output) {
        syncMediaPreview(this, output);
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
