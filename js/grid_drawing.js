// Draws the Grid Layout node's picture onto a 2D canvas context: the readout (image size, frames, FLUX
// tokens, VRAM, warnings) and the grid (true aspect ratio, gutters, frame numbers in the chosen order,
// the reading path). No ComfyUI import: draw_a_video.js gives it a context of its own canvas element (a DOM
// widget, so it shows the same in the classic canvas and in Nodes 2.0), and tests/js/ gives it a recorder.
//
//   const info = describe({ rows: 4, cols: 4, cell_width: 320, cell_height: 192 });
//   drawGridPreview(ctx, info, [], 320, 0, 260);       // [] = names of layout inputs fed by links
//   readoutHeight(info, [], 320);                      // px the readout takes at that width
import { cellRects, fitRect, isLightColour, labelSize, wrapText } from "./grid_preview_math.js";

export const PAD = 10;
export const LINE_HEIGHT = 15;
export const FONT_FAMILY = "Inter, Arial, sans-serif";

const liteGraph = () => globalThis.LiteGraph ?? {};

export function themeColours() {
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

function drawGrid(ctx, info, box, colours) {
    const { layout, size } = info;
    const rect = fitRect(size.width, size.height, box);
    if (rect.w < 2 || rect.h < 2) return [];
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
    if (frames > 1 && Math.min(cellW, cellH) >= 6) drawReadingPath(ctx, cells, colours);

    const fontSize = labelSize(cellW, cellH, String(frames).length);
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
    return cells;
}

/** The text under the widgets: [text, colour] pairs, wrapped to the node's width. */
function readoutRows(info, linked, colours) {
    const [size, vram, decode] = info.lines;
    const rows = [
        [size, colours.text],
        [vram, colours.secondary],
        [decode, colours.secondary],
    ];
    for (const name of linked) {
        rows.push([`${name} comes from a link: drawn with the widget's last value`, colours.note]);
    }
    for (const warning of info.warnings) rows.push([`⚠ ${warning}`, colours.warning]);
    for (const note of info.notes) rows.push([note, colours.note]);
    return rows;
}

let measuringContext = null;

/** The readout wrapped to the node's width: [{ line, colour }], measured with the drawing's font. */
function readoutLines(info, linked, colours, width, ctx = null) {
    if (!ctx) {
        measuringContext ??= document.createElement("canvas").getContext("2d");
        ctx = measuringContext;
    }
    ctx.font = `12px ${FONT_FAMILY}`;
    const measure = (text) => ctx.measureText(text).width;
    return readoutRows(info, linked, colours).flatMap(([text, colour]) => wrapText(text, width, measure).map((line) => ({ line, colour })));
}

/**
 * The readout, then the grid in the room left, inside x 0..width and y..y+height. Returns the cells drawn
 * ([{ x, y, w, h, frame, row, col }] in the context's units; [] when there was no room for the grid).
 */
export function drawGridPreview(ctx, info, linked, width, y, height) {
    const colours = themeColours();
    const inner = Math.max(0, width - 2 * PAD);
    ctx.save();
    let textY = y + 4;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    for (const { line, colour } of readoutLines(info, linked, colours, inner, ctx)) {
        ctx.fillStyle = colour;
        ctx.fillText(line, PAD, textY);
        textY += LINE_HEIGHT;
    }
    const top = textY + 4;
    const box = { x: PAD, y: top, w: inner, h: y + height - PAD - top };
    const cells = box.w >= 8 && box.h >= 8 ? drawGrid(ctx, info, box, colours) : [];
    ctx.restore();
    return cells;
}

/** Height of the readout above the grid at this width (more lines when there are warnings). */
export function readoutHeight(info, linked, width) {
    return 8 + readoutLines(info, linked, themeColours(), Math.max(0, width - 2 * PAD)).length * LINE_HEIGHT;
}
