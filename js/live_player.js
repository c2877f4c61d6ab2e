// Draw-a-Video's live player: while a grid samples, the Grid Layout node plays it as a clip.
//
// ComfyUI sends the sampler's preview image over the websocket after each step (--preview-method
// latent2rgb or taesd; nothing new is computed on the server). The player finds the Grid Layout whose
// layout a node downstream of that sampler takes, cuts the latest preview into cells in the layout's
// frame order and loops them at the player's frame rate (the Save Video's fps to start with). Controls:
// pause and frame rate. When the run ends the player stops following previews and shows the final clip
// (the saved video of that Save Video, else the last preview's frames).
//
// It draws in a <canvas> inside a DOM widget of a fixed height, so it looks the same in the classic
// canvas and in Nodes 2.0 (Comfy.VueNodes.Enabled). The maths is in live_player_math.js (unit-tested).
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { FONT_FAMILY } from "./grid_drawing.js";
import { fitRect, gridSize, layoutValuesOf, readLayout } from "./grid_preview_math.js";
import { clampFps, findGridTarget, frameAt, localNodeId, matchesGrid, previewCells } from "./live_player_math.js";
import { pickPreview, viewQuery } from "./output_preview_math.js";

const GRID_LAYOUT = "DrawAVideo_GridLayout";
const SAVE_VIDEO = "DrawAVideo_SaveVideo";
const PLAYER = "drawavideo_live_player";
const HEIGHT = 230; // the player's fixed height: picture + control bar
const WIDGET_HEIGHT = HEIGHT + 24; // the widget's: the frontends draw a DOM widget's element inside a margin
const BAR_HEIGHT = 28;
const DEFAULT_FPS = 8;
const FONT = `12px ${FONT_FAMILY}`;

function el(tag, style = {}, props = {}) {
    const element = document.createElement(tag);
    Object.assign(element.style, style);
    return Object.assign(element, props);
}

/** The workflow as plain data for findGridTarget: node types and typed links. */
function graphView(graph) {
    const types = {};
    for (const node of graph?._nodes ?? graph?.nodes ?? []) {
        if (node.mode === 2 || node.mode === 4) continue; // muted / bypassed nodes don't run
        types[String(node.id)] = node.comfyClass ?? node.type;
    }
    const links = [];
    const raw = graph?.links;
    const all = raw instanceof Map ? raw.values() : Object.values(raw ?? {});
    for (const link of all) {
        if (link) links.push({ from: String(link.origin_id), to: String(link.target_id), type: link.type });
    }
    return { types, links };
}

function layoutOf(node) {
    return readLayout(layoutValuesOf(node.widgets ?? [])).layout;
}

/** The fps a downstream Save Video will write at (a number widget), if any. */
function clipFps(clipIds) {
    for (const id of clipIds) {
        const fps = app.graph?.getNodeById?.(id)?.widgets?.find((w) => w.name === "fps")?.value;
        if (Number(fps) > 0) return Number(fps);
    }
    return null;
}

class LivePlayer {
    constructor(node) {
        this.node = node;
        this.state = "idle"; // idle | live | final
        this.playing = true;
        this.fps = DEFAULT_FPS;
        this.userFps = false;
        this.image = null;
        this.previews = 0;
        this.frame = 0;
        this.frames = gridSize(layoutOf(node)).frames;
        this.started = performance.now();
        this.clips = [];
        this.finalItem = null;
        this.raf = 0;

        // The widget's element is `holder`; a frontend may stretch it (1.58.1's Nodes 2.0 does), so the player
        // itself is a box of a fixed height inside it.
        this.holder = el("div", { width: "100%", display: "flex", flexDirection: "column", overflow: "hidden" }, { className: "drawavideo-live-holder" });
        this.box = el("div", { width: "100%", height: `${HEIGHT}px`, flex: `0 0 ${HEIGHT}px`, display: "flex", flexDirection: "column", gap: "2px",
            boxSizing: "border-box", padding: "2px 0", overflow: "hidden" }, { className: "drawavideo-live-player" });
        this.holder.append(this.box);
        this.stage = el("div", { position: "relative", flex: "1 1 auto", minHeight: "0", background: "#111", borderRadius: "4px", overflow: "hidden" });
        this.canvas = el("canvas", { width: "100%", height: "100%", display: "block" }, { className: "drawavideo-live-canvas" });
        this.stage.append(this.canvas);
        const bar = el("div", { height: `${BAR_HEIGHT}px`, flex: `0 0 ${BAR_HEIGHT}px`, display: "flex", alignItems: "center", gap: "6px",
            font: FONT, color: "var(--input-text, #ddd)" });
        this.pauseButton = el("button", { font: FONT, padding: "1px 8px", cursor: "pointer" }, { type: "button", textContent: "Pause", title: "Pause or play the live clip" });
        this.pauseButton.addEventListener("click", (event) => {
            event.stopPropagation();
            this.setPlaying(!this.playing);
        });
        const fpsLabel = el("label", { display: "flex", alignItems: "center", gap: "3px" }, { textContent: "fps" });
        this.fpsInput = el("input", { width: "48px", font: FONT }, { type: "number", min: "0.5", max: "60", step: "1", value: String(this.fps),
            title: "Frame rate of the live clip (starts at the Save Video's fps)" });
        this.fpsInput.addEventListener("change", () => {
            this.fps = clampFps(this.fpsInput.value, this.fps);
            this.fpsInput.value = String(this.fps);
            this.userFps = true;
            this.restartClock();
        });
        fpsLabel.prepend(this.fpsInput);
        this.status = el("span", { flex: "1 1 auto", overflow: "hidden", whiteSpace: "nowrap", textOverflow: "ellipsis", opacity: "0.8" },
            { className: "drawavideo-live-status" });
        bar.append(this.pauseButton, fpsLabel, this.status);
        this.box.append(this.stage, bar);
        // The canvas under the player gets the wheel (zoom), as on any other node body.
        this.holder.addEventListener("wheel", (event) => {
            const canvas = app.canvas?.canvas;
            if (!canvas || event.target === this.fpsInput) return;
            event.preventDefault();
            canvas.dispatchEvent(new WheelEvent("wheel", event));
        }, { passive: false });
        this.setStatus();
        this.draw();
        // The box has no size until the frontend lays the node out (and changes it on resize): draw again then.
        if (typeof ResizeObserver === "function") {
            this.resizeObserver = new ResizeObserver(() => (this.raf ? undefined : this.draw()));
            this.resizeObserver.observe(this.canvas);
        }
    }

    /** What the browser check and a curious user can read: the player's state. */
    snapshot() {
        return { state: this.state, playing: this.playing, fps: this.fps, frames: this.frames, frame: this.frame,
            previews: this.previews, image: this.image ? [this.image.width, this.image.height] : null,
            final: this.finalItem?.item?.filename ?? null };
    }

    setStatus(text) {
        const base = { idle: "Plays the grid while it samples", live: `live · ${this.previews} preview${this.previews === 1 ? "" : "s"}`,
            final: this.finalItem ? "final clip" : "final preview" }[this.state];
        this.status.textContent = text ?? `${base} · ${this.frames} frames`;
    }

    setPlaying(playing) {
        this.playing = playing;
        this.pauseButton.textContent = playing ? "Pause" : "Play";
        const media = this.stage.querySelector("video");
        if (media) (playing ? media.play().catch(() => {}) : media.pause());
        this.restartClock();
        this.loop();
    }

    restartClock() {
        // Keep the shown frame: restart the clock so that frameAt() continues from it.
        this.started = performance.now() - (this.frame * 1000) / this.fps;
    }

    /** A new preview of this player's grid arrived (a Blob from ComfyUI's websocket). */
    async preview(blob, clips) {
        let bitmap;
        try {
            bitmap = await createImageBitmap(blob);
        } catch {
            return; // not an image we can decode: keep the last one
        }
        const layout = layoutOf(this.node);
        if (!matchesGrid(layout, bitmap.width, bitmap.height)) {
            bitmap.close?.();
            return; // a preview of something else (e.g. a batch of frames): don't cut it as this grid
        }
        if (this.state !== "live") {
            this.showCanvas();
            this.state = "live";
            this.finalItem = null;
            this.previews = 0;
            if (!this.userFps) {
                this.fps = clampFps(clipFps(clips) ?? DEFAULT_FPS);
                this.fpsInput.value = String(this.fps);
            }
            this.restartClock();
        }
        this.clips = clips;
        this.image?.close?.();
        this.image = bitmap;
        this.cells = previewCells(layout, bitmap.width, bitmap.height);
        this.frames = this.cells.length;
        this.previews += 1;
        this.setStatus();
        this.loop();
    }

    /** A Save Video this grid feeds has written its clip. */
    clipSaved(output) {
        const preview = pickPreview(output);
        if (preview) this.finalItem = preview;
    }

    /** The run ended: stop following previews, show the final clip. */
    finish() {
        if (this.state !== "live") return;
        this.state = "final";
        if (this.finalItem) this.showClip(this.finalItem);
        this.setStatus();
        this.loop();
    }

    showCanvas() {
        for (const old of this.stage.querySelectorAll("video, img")) {
            if (old instanceof HTMLVideoElement) {
                old.pause();
                old.removeAttribute("src");
                old.load();
            }
            old.remove();
        }
        this.canvas.style.display = "block";
    }

    showClip({ item, kind }) {
        this.showCanvas();
        const url = api.apiURL(`/view?${viewQuery(item)}${app.getRandParam?.() ?? ""}`);
        const style = { position: "absolute", inset: "0", width: "100%", height: "100%", objectFit: "contain" };
        const media = kind === "video"
            ? el("video", style, { muted: true, defaultMuted: true, loop: true, autoplay: this.playing, playsInline: true, className: "drawavideo-live-final" })
            : el("img", style, { alt: "Final clip", className: "drawavideo-live-final" });
        media.draggable = false;
        media.src = url;
        this.canvas.style.display = "none";
        this.stage.append(media);
        if (kind === "video" && this.playing) media.play?.().catch(() => {});
    }

    loop() {
        if (this.raf) return;
        const tick = () => {
            this.raf = 0;
            if (!this.node.graph) return; // node removed
            this.draw();
            if (this.playing && this.state !== "idle" && this.canvas.style.display !== "none") this.raf = requestAnimationFrame(tick);
        };
        this.raf = requestAnimationFrame(tick);
    }

    draw() {
        const canvas = this.canvas;
        const ratio = window.devicePixelRatio || 1;
        const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
        const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
        if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
        const ctx = canvas.getContext("2d");
        ctx.clearRect(0, 0, width, height);
        if (!this.image || !this.cells?.length) {
            ctx.fillStyle = "#888";
            ctx.font = `${12 * ratio}px ${FONT_FAMILY}`;
            ctx.textAlign = "center";
            ctx.textBaseline = "middle";
            ctx.fillText("Queue the workflow: the grid plays here while it samples", width / 2, height / 2, width - 16 * ratio);
            return;
        }
        if (this.playing) this.frame = frameAt(performance.now() - this.started, this.fps, this.cells.length);
        this.frame = Math.min(this.frame, this.cells.length - 1);
        const cell = this.cells[this.frame];
        const box = fitRect(cell.w, cell.h, { x: 0, y: 0, w: width, h: height });
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(this.image, cell.x, cell.y, cell.w, cell.h, box.x, box.y, box.w, box.h);
        const label = `${this.frame + 1}/${this.cells.length}`;
        ctx.font = `${11 * ratio}px ${FONT_FAMILY}`;
        ctx.textAlign = "left";
        ctx.textBaseline = "top";
        const w = ctx.measureText(label).width + 8 * ratio;
        ctx.fillStyle = "rgba(0,0,0,0.6)";
        ctx.fillRect(4 * ratio, 4 * ratio, w, 16 * ratio);
        ctx.fillStyle = "#fff";
        ctx.fillText(label, 8 * ratio, 6 * ratio);
    }

    remove() {
        cancelAnimationFrame(this.raf);
        this.resizeObserver?.disconnect();
        this.image?.close?.();
        this.showCanvas();
    }
}

function addPlayer(node) {
    if (node.widgets?.some((w) => w.name === PLAYER)) return;
    const player = new LivePlayer(node);
    const widget = node.addDOMWidget(PLAYER, "drawavideo.live_player", player.holder, {
        serialize: false,
        hideOnZoom: false,
        getMinHeight: () => WIDGET_HEIGHT,
        getMaxHeight: () => WIDGET_HEIGHT,
        getHeight: () => WIDGET_HEIGHT,
    });
    widget.serialize = false;
    // A real fixed height: newer frontends read the stored height before computeSize.
    widget.computedHeight = WIDGET_HEIGHT;
    widget.computeSize = (width) => [width, WIDGET_HEIGHT];
    widget.livePlayer = player;
    node.davLivePlayer = player;
    // Below the node's other widgets (the Grid Layout drawing is added after this hook runs): move it last.
    const moveLast = () => {
        const at = node.widgets?.indexOf(widget) ?? -1;
        if (at >= 0 && at !== node.widgets.length - 1) node.widgets.push(...node.widgets.splice(at, 1));
    };
    queueMicrotask(moveLast);
    const onRemoved = node.onRemoved;
    node.onRemoved = function (...args) {
        player.remove();
        return onRemoved?.apply(this, args);
    };
    const grow = () => {
        const [minWidth, minHeight] = node.computeSize();
        if (node.size[0] < minWidth || node.size[1] < minHeight) node.setSize([Math.max(node.size[0], minWidth), Math.max(node.size[1], minHeight)]);
    };
    grow();
    // A workflow saved before the player existed restores its smaller size after nodeCreated: make room again.
    const onConfigure = node.onConfigure;
    node.onConfigure = function (...args) {
        const result = onConfigure?.apply(this, args);
        grow();
        return result;
    };
}

// --- routing websocket previews to players ----------------------------------------------------------

let executing = null; // the node running now (for servers that send previews without metadata)
let sawMetadata = false;
const targets = new Map(); // sampler id -> { layoutId, clips } | null, for the current run

function playerFor(samplerId) {
    if (!targets.has(samplerId)) {
        targets.set(samplerId, findGridTarget(graphView(app.graph), samplerId, { layoutType: GRID_LAYOUT, clipTypes: [SAVE_VIDEO] }));
    }
    const target = targets.get(samplerId);
    const player = target && app.graph?.getNodeById?.(target.layoutId)?.davLivePlayer;
    return player ? { player, clips: target.clips } : null;
}

function allPlayers() {
    return (app.graph?._nodes ?? app.graph?.nodes ?? []).map((n) => n.davLivePlayer).filter(Boolean);
}

function onPreview(samplerId, blob) {
    const found = samplerId && blob ? playerFor(localNodeId(samplerId)) : null;
    found?.player.preview(blob, found.clips);
}

function finishAll() {
    for (const player of allPlayers()) player.finish();
    targets.clear();
}

api.addEventListener("b_preview_with_metadata", ({ detail }) => {
    sawMetadata = true;
    onPreview(detail?.displayNodeId ?? detail?.nodeId, detail?.blob);
});
api.addEventListener("b_preview", ({ detail }) => {
    if (!sawMetadata) onPreview(executing, detail);
});
api.addEventListener("execution_start", () => targets.clear());
api.addEventListener("executing", ({ detail }) => {
    executing = detail == null ? null : String(detail?.node ?? detail);
    if (detail == null) finishAll();
});
api.addEventListener("executed", ({ detail }) => {
    const id = localNodeId(detail?.display_node ?? detail?.node);
    for (const player of allPlayers()) if (player.clips.includes(id)) player.clipSaved(detail.output);
});
for (const event of ["execution_success", "execution_error", "execution_interrupted"]) api.addEventListener(event, finishAll);

app.registerExtension({
    name: "DrawAVideo.LivePlayer",
    nodeCreated(node) {
        if ((node.comfyClass ?? node.type) === GRID_LAYOUT) addPlayer(node);
    },
});
