// Pure logic behind what Draw-a-Video nodes show after a run: which element plays a saved file,
// the /view address of a ComfyUI output, and the Split nodes' "16 frames, 320x192" line.
// No DOM, no ComfyUI: draw_a_video.js and the Node unit tests (tests/js/) both import it.
//
//   mediaKind({ filename: "clip_00001.mp4", format: "video/mp4" });   // "video"
//   viewQuery({ filename: "a.gif", subfolder: "", type: "output" });  // "filename=a.gif&subfolder=&type=output"
//   splitSummary({ frame_count: [16], frame_size: ["320x192"] });     // "16 frames, 320x192"

// A <video> element plays these; browsers never play a gif or an animated webp in <video>.
const VIDEO_EXTENSIONS = new Set(["mp4", "webm", "mov", "mkv", "m4v", "ogv"]);
// An <img> element animates these.
const IMAGE_EXTENSIONS = new Set(["gif", "webp", "png", "apng", "avif", "jpg", "jpeg"]);

export function extensionOf(filename = "") {
    const match = /\.([A-Za-z0-9]+)$/.exec(String(filename));
    return match ? match[1].toLowerCase() : "";
}

/**
 * "video" (play in <video>), "image" (show in <img>, which animates gif/webp) or null (unknown).
 * The file's extension decides; the item's `format` (a MIME type such as "video/mp4") is the fallback.
 */
export function mediaKind(item) {
    if (!item || typeof item !== "object") return null;
    const extension = extensionOf(item.filename);
    if (VIDEO_EXTENSIONS.has(extension)) return "video";
    if (IMAGE_EXTENSIONS.has(extension)) return "image";
    const format = String(item.format ?? "").toLowerCase();
    if (format.startsWith("video/")) return "video";
    if (format.startsWith("image/")) return "image";
    return null;
}

/** The query string of ComfyUI's /view route for a saved item (filename, subfolder, type). */
export function viewQuery(item) {
    const params = new URLSearchParams();
    params.set("filename", String(item.filename ?? ""));
    params.set("subfolder", String(item.subfolder ?? ""));
    params.set("type", String(item.type ?? "output"));
    return params.toString();
}

/** The first playable item of a Save Video ui output ({ images: [...], animated: [true] }), with its kind. */
export function pickPreview(output) {
    for (const item of output?.images ?? []) {
        const kind = mediaKind(item);
        if (kind && item.filename) return { item, kind };
    }
    return null;
}

/**
 * The Split nodes' line after a run, from their ui output { frame_count: [n], frame_size: ["WxH"] }.
 * A node run once per list item reports one entry per run: counts add up, distinct sizes are listed.
 */
export function splitSummary(output) {
    const counts = (output?.frame_count ?? []).map(Number).filter(Number.isFinite);
    if (!counts.length) return null;
    const total = counts.reduce((a, b) => a + b, 0);
    const sizes = [...new Set((output.frame_size ?? []).map(String))];
    const frames = `${total} frame${total === 1 ? "" : "s"}`;
    return sizes.length ? `${frames}, ${sizes.join(" / ")}` : frames;
}

/** Height (px) that shows a mediaW x mediaH picture at `width` px, kept within [min, max]. */
export function fittedHeight(mediaW, mediaH, width, { min = 120, max = 640 } = {}) {
    if (!(mediaW > 0 && mediaH > 0 && width > 0)) return min;
    return Math.round(Math.min(max, Math.max(min, (width * mediaH) / mediaW)));
}
