// Pure logic behind the live player (live_player.js): where each frame of a grid sits in ComfyUI's
// preview image, which frame to show when, and which Grid Layout a sampling node's grid belongs to.
// No DOM, no ComfyUI: tests/js/live_player_math.test.mjs unit-tests it. The geometry is
// nodes/engine/layout.py's (through grid_preview_math.js, which mirrors it).
//
//   import { previewCells, frameAt, findGridTarget } from "./live_player_math.js";
//   const layout = readLayout({ rows: 4, cols: 4, cell_width: 320, cell_height: 192 }).layout;
//   previewCells(layout, 160, 96);   // latent2rgb preview of a 1280x768 grid: 16 rects of 40x24, in frame order
//   frameAt(1250, 8, 16);            // 1.25 s at 8 fps: frame 10
import { cellOfFrame, gridSize } from "./grid_preview_math.js";

export const GRID_LAYOUT_TYPE = "GRID_LAYOUT";

/**
 * The source rectangle of every frame in a preview image of the whole grid, in the layout's frame order.
 * A sampler's preview is the grid scaled (latent2rgb: 1/8 of the pixels; TAESD: contained in
 * --preview-size), so cells and gutters are scaled by previewWidth / gridWidth (and heights alike).
 * Rects are in preview pixels and may be fractional (canvas drawImage takes that).
 * Returns [{ frame, row, col, x, y, w, h }].
 */
export function previewCells(layout, previewWidth, previewHeight) {
    const { width, height, frames } = gridSize(layout);
    if (!(previewWidth > 0 && previewHeight > 0)) return [];
    const sx = previewWidth / width;
    const sy = previewHeight / height;
    const cells = [];
    for (let frame = 0; frame < frames; frame++) {
        const [row, col] = cellOfFrame(layout, frame);
        cells.push({
            frame,
            row,
            col,
            x: col * (layout.cell_width + layout.gutter) * sx,
            y: row * (layout.cell_height + layout.gutter) * sy,
            w: layout.cell_width * sx,
            h: layout.cell_height * sy,
        });
    }
    return cells;
}

/**
 * Whether a preview can be a picture of this grid: the same aspect ratio within the rounding of a
 * scaled-down image (one preview pixel either way). A preview of another shape (a batch of frames,
 * another node's latent) would be cut in the wrong places.
 */
export function matchesGrid(layout, previewWidth, previewHeight) {
    const { width, height } = gridSize(layout);
    if (!(previewWidth > 0 && previewHeight > 0)) return false;
    const expectedHeight = (previewWidth * height) / width;
    return Math.abs(expectedHeight - previewHeight) <= 1 + previewHeight * 0.01;
}

/** The frame to show `elapsedMs` after the loop started, at `fps`, looping over `frames` frames. */
export function frameAt(elapsedMs, fps, frames) {
    if (!(frames > 0)) return 0;
    if (!(fps > 0) || !(elapsedMs > 0)) return 0;
    return Math.floor((elapsedMs * fps) / 1000) % frames;
}

/** A frame rate the player accepts: a number in 0.5..60, else `fallback`. */
export function clampFps(value, fallback = 8) {
    const fps = Number(value);
    if (!Number.isFinite(fps) || fps <= 0) return fallback;
    return Math.min(60, Math.max(0.5, fps));
}

/**
 * Which Grid Layout a sampling node's grid belongs to, and which output nodes show its clip.
 * `graph` is a plain view of the workflow:
 *   { types: { id: nodeType }, links: [{ from, to, type }] }   (ids as strings; type = the link's data type)
 * Starting at `startId` (the node sending previews), follows links downstream, breadth first; the first
 * node reached (the start included) that has a GRID_LAYOUT input names the layout: the node at the
 * other end of that link, if it is of `layoutType`. Nodes of a type in `clipTypes` reached on the way
 * are listed as `clips` (e.g. Save Video, to show the final clip).
 * Returns { layoutId, clips } or null when no layout-taking node is downstream (e.g. a sampler refining
 * a batch of frames after the grid was cut).
 */
export function findGridTarget(graph, startId, { layoutType = "DrawAVideo_GridLayout", clipTypes = [] } = {}) {
    const start = String(startId);
    if (!(start in graph.types)) return null;
    const downstream = new Map();
    const layoutInputs = new Map();
    for (const link of graph.links) {
        const from = String(link.from);
        const to = String(link.to);
        if (!downstream.has(from)) downstream.set(from, []);
        downstream.get(from).push(to);
        if (link.type === GRID_LAYOUT_TYPE && graph.types[from] === layoutType) {
            if (!layoutInputs.has(to)) layoutInputs.set(to, from);
        }
    }
    const seen = new Set([start]);
    const queue = [start];
    let layoutId = null;
    const clips = [];
    while (queue.length) {
        const id = queue.shift();
        if (layoutId === null && layoutInputs.has(id)) layoutId = layoutInputs.get(id);
        if (clipTypes.includes(graph.types[id])) clips.push(id);
        for (const next of downstream.get(id) ?? []) {
            if (seen.has(next)) continue;
            seen.add(next);
            queue.push(next);
        }
    }
    return layoutId === null ? null : { layoutId, clips };
}

/** The last part of an execution id ("12" or "<subgraph node>:12"): the node's id inside its graph. */
export function localNodeId(executionId) {
    const text = String(executionId ?? "");
    return text.includes(":") ? text.slice(text.lastIndexOf(":") + 1) : text;
}
