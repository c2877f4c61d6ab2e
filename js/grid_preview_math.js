// Pure logic behind the Grid Layout node's drawing: geometry, frame order, FLUX checks and the
// rough VRAM estimate. No DOM, no ComfyUI: the extension (draw_a_video.js) and the Node unit tests
// (tests/js/) both import it. It mirrors nodes/engine/layout.py; keep the two in step.
//
//   import { readLayout, gridSize, frameAt, fluxWarnings } from "./grid_preview_math.js";
//   const layout = readLayout({ rows: 4, cols: 4, cell_width: 320, cell_height: 192 });
//   gridSize(layout);      // { width: 1280, height: 768, frames: 16, tokens: 3840 }
//   frameAt(layout, 1, 0); // 4   (row 1, col 0 holds the fifth frame, 0-based 4)

export const FLUX_MULTIPLE = 16; // FLUX's VAE downsamples by 8, its transformer packs 2x2 latent patches
export const ORDERS = ["row-major", "column-major", "serpentine"];
export const DEFAULTS = Object.freeze({
    rows: 4, cols: 4, cell_width: 320, cell_height: 192, gutter: 0, order: "row-major", frame_stride: 10,
});
export const LAYOUT_WIDGETS = Object.keys(DEFAULTS);

/** Layout values from widget values (missing ones take the node's defaults), plus what is wrong with them. */
/** The layout inputs' current values among a node's widgets ({ rows: 4, ... }): what readLayout reads. */
export function layoutValuesOf(widgets = []) {
    const values = {};
    for (const widget of widgets) if (LAYOUT_WIDGETS.includes(widget.name)) values[widget.name] = widget.value;
    return values;
}

export function readLayout(values = {}) {
    const layout = { ...DEFAULTS };
    const problems = [];
    for (const name of LAYOUT_WIDGETS) {
        const raw = values[name];
        if (raw === undefined || raw === null) continue;
        if (name === "order") {
            if (ORDERS.includes(raw)) layout.order = raw;
            else problems.push(`order "${raw}": choose ${ORDERS.join(", ")}`);
            continue;
        }
        const value = Number(raw);
        const least = name === "gutter" ? 0 : 1;
        if (!Number.isInteger(value) || value < least) {
            problems.push(`${name} ${raw}: must be a whole number, at least ${least}`);
            continue;
        }
        layout[name] = value;
    }
    return { layout, problems };
}

/** FLUX image tokens of a width x height image (GridLayout.flux_tokens): one per 16x16 px patch. */
function fluxTokens(width, height) {
    return Math.floor(width / FLUX_MULTIPLE) * Math.floor(height / FLUX_MULTIPLE);
}

/** Image size, frame count and FLUX image tokens of a layout (as GridLayout.width/.height/.frames/.flux_tokens). */
export function gridSize({ rows, cols, cell_width, cell_height, gutter }) {
    const width = cols * cell_width + (cols - 1) * gutter;
    const height = rows * cell_height + (rows - 1) * gutter;
    return { width, height, frames: rows * cols, tokens: fluxTokens(width, height) };
}

/** [row, col] of the cell holding 0-based frame `frame` (GridLayout.cell_of_frame). */
export function cellOfFrame({ rows, cols, order }, frame) {
    if (!(frame >= 0 && frame < rows * cols)) throw new RangeError(`frame ${frame} is outside the ${rows}x${cols} grid`);
    if (order === "column-major") return [frame % rows, Math.floor(frame / rows)];
    const row = Math.floor(frame / cols);
    let col = frame % cols;
    if (order === "serpentine" && row % 2 === 1) col = cols - 1 - col;
    return [row, col];
}

/** The 0-based frame drawn in cell (row, col): the inverse of cellOfFrame. */
export function frameAt({ rows, cols, order }, row, col) {
    if (order === "column-major") return col * rows + row;
    if (order === "serpentine" && row % 2 === 1) return row * cols + (cols - 1 - col);
    return row * cols + col;
}

/** Valid values either side of `value` (GridLayout's nearest_multiples); a gutter may also drop to 0. */
export function nearestMultiples(value, multiple = FLUX_MULTIPLE, allowZero = false) {
    let lower = Math.max(multiple, Math.floor(value / multiple) * multiple);
    const upper = lower <= value ? lower + multiple : lower;
    if (allowZero && value < multiple) lower = 0;
    return [lower, upper];
}

/** One line per size FLUX cannot draw exactly, e.g. "cell_width 300: not a multiple of 16 (use 288 or 304)". */
export function fluxWarnings(layout) {
    const warnings = [];
    for (const name of ["cell_width", "cell_height", "gutter"]) {
        const value = layout[name];
        if (value % FLUX_MULTIPLE === 0) continue;
        const [lower, upper] = nearestMultiples(value, FLUX_MULTIPLE, name === "gutter");
        const use = lower === upper ? `${lower}` : `${lower} or ${upper}`;
        warnings.push(`${name} ${value}: not a multiple of ${FLUX_MULTIPLE} (use ${use})`);
    }
    return warnings;
}

// FLUX.1 was trained for 0.1 to 2 megapixels; beyond that grids fall apart more often.
export const FLUX_MAX_PIXELS = 2 * 1024 * 1024;

/** Softer notes than fluxWarnings: the layout works but is outside what FLUX draws well. */
export function sizeNotes({ width, height }) {
    const pixels = width * height;
    if (pixels <= FLUX_MAX_PIXELS) return [];
    return [`${(pixels / 1e6).toFixed(1)} MP is above FLUX's ~2 MP range: expect broken grids`];
}

// --- rough VRAM estimate for FLUX.1-dev ------------------------------------------------------------
// ROUGH, for planning only. It adds what ComfyUI 0.8 itself reserves:
//   weights:      FLUX.1-dev transformer, 11.9 B parameters -> 23.8 GB in bf16, 11.9 GB in fp8.
//   activations:  ComfyUI's own reservation for one FLUX sampling step (comfy/model_base.py
//                 memory_required with memory_usage_factor 3.1 for Flux, flash/PyTorch attention):
//                 latent_area * 2 bytes * 0.01 * 3.1 MiB, latent_area = (W/8)*(H/8) = 4 * image tokens,
//                 i.e. ~0.26 MB per FLUX token (~1 GB at 1280x768). CFG > 1 doubles it (FLUX-dev uses 1).
//   VAE decode:   ComfyUI's reservation for the VAE decode (comfy/sd.py memory_used_decode):
//                 2178 * latent_area * 64 * 2 bytes, + 0.17 GB of VAE weights. It runs after sampling,
//                 when the transformer can be offloaded, and ComfyUI tiles it when memory is short,
//                 so it is shown apart, not added.
// Not counted: the T5-XXL/CLIP text encoders (9.8 GB fp16 / 5 GB fp8, run and offloaded before
// sampling), the CUDA context (~0.5 GB), allocator slack, LoRA patches, and ComfyUI's partial
// offloading, which lets a smaller card run slower instead of failing.
export const FLUX_DEV_WEIGHTS = Object.freeze({ bf16: 23.8e9, fp8: 11.9e9 });
const MIB = 1024 * 1024;
const FLUX_MEMORY_USAGE_FACTOR = 3.1;
const VAE_WEIGHTS = 0.17e9;

/** Rough bytes for FLUX.1-dev at this image size: { tokens, activations, bf16, fp8, vaeDecode }. */
export function vramEstimate({ width, height }) {
    const latentArea = Math.floor(width / 8) * Math.floor(height / 8);
    const activations = latentArea * 2 * 0.01 * FLUX_MEMORY_USAGE_FACTOR * MIB;
    return {
        tokens: fluxTokens(width, height),
        activations,
        bf16: FLUX_DEV_WEIGHTS.bf16 + activations,
        fp8: FLUX_DEV_WEIGHTS.fp8 + activations,
        vaeDecode: VAE_WEIGHTS + 2178 * latentArea * 64 * 2,
    };
}

export function formatGB(bytes) {
    return `${(bytes / 1e9).toFixed(1)} GB`;
}

export function formatCount(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Everything the node shows under its widgets, as text.
 * Returns { layout, size, lines: [info lines], warnings: [problems, warning colour], notes: [softer] }.
 */
export function describe(values) {
    const { layout, problems } = readLayout(values);
    const size = gridSize(layout);
    const vram = vramEstimate(size);
    const lines = [
        `${size.width} × ${size.height} px · ${formatCount(size.frames)} frame${size.frames === 1 ? "" : "s"} · ${formatCount(size.tokens)} FLUX tokens`,
        `VRAM ≈ ${formatGB(vram.bf16)} bf16 · ${formatGB(vram.fp8)} fp8 (rough, FLUX.1-dev)`,
        `VAE decode ≈ ${formatGB(vram.vaeDecode)} afterwards (tiled if short)`,
    ];
    return { layout, size, vram, lines, warnings: [...problems, ...fluxWarnings(layout)], notes: sizeNotes(size) };
}

// --- drawing geometry ------------------------------------------------------------------------------

/** The largest rect of aspect `contentW:contentH` centred in the box {x, y, w, h}; `scale` is box px per image px. */
export function fitRect(contentW, contentH, box) {
    const scale = Math.max(0, Math.min(box.w / contentW, box.h / contentH));
    const w = contentW * scale;
    const h = contentH * scale;
    return { x: box.x + (box.w - w) / 2, y: box.y + (box.h - h) / 2, w, h, scale };
}

/**
 * The cells of `layout` drawn into `rect` (from fitRect): [{ row, col, frame, x, y, w, h }] in frame order.
 * Gutters narrower than `minGap` screen px are widened to it so cells stay visibly apart.
 */
export function cellRects(layout, rect, minGap = 1) {
    const { rows, cols, cell_width, cell_height, gutter } = layout;
    const gap = gutter > 0 ? Math.max(minGap, gutter * rect.scale) : 0;
    const w = Math.max(0, (rect.w - (cols - 1) * gap) / cols);
    const h = Math.max(0, (rect.h - (rows - 1) * gap) / rows);
    const cells = [];
    for (let frame = 0; frame < rows * cols; frame++) {
        const [row, col] = cellOfFrame(layout, frame);
        cells.push({ row, col, frame, x: rect.x + col * (w + gap), y: rect.y + row * (h + gap), w, h });
    }
    return cells;
}

/** Words of `text` wrapped into lines no wider than `maxWidth`, as measured by `measure(text) -> px`. */
export function wrapText(text, maxWidth, measure) {
    const lines = [];
    let line = "";
    for (const word of text.split(/\s+/).filter(Boolean)) {
        const candidate = line ? `${line} ${word}` : word;
        if (!line || measure(candidate) <= maxWidth) line = candidate;
        else {
            lines.push(line);
            line = word;
        }
    }
    if (line) lines.push(line);
    return lines;
}

/** Font size (px) at which a frame number fits its cell, or 0 when the cell is too small to label. */
export function labelSize(cellW, cellH, digits, { min = 7, max = 16 } = {}) {
    const size = Math.min(max, cellH * 0.55, cellW / (0.62 * digits + 0.6));
    return size >= min ? Math.floor(size) : 0;
}

/** True for a light CSS colour ("#rgb", "#rrggbb", "rgb(r, g, b)"), so text and warnings pick readable shades. */
export function isLightColour(colour) {
    const text = String(colour ?? "").trim().toLowerCase();
    let rgb = null;
    const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(text);
    if (hex) {
        const digits = hex[1].length === 3 ? [...hex[1]].map((d) => d + d).join("") : hex[1];
        rgb = [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16));
    } else {
        const fn = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/.exec(text);
        if (fn) rgb = fn.slice(1, 4).map(Number);
    }
    if (!rgb) return false;
    const [r, g, b] = rgb;
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 140; // perceived brightness, 0..255
}
