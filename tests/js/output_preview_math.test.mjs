// Unit tests of js/output_preview_math.js (Save Video's preview, the Split nodes' line). Run: node --test tests/js
import assert from "node:assert/strict";
import { test } from "node:test";

import { extensionOf, fittedHeight, mediaKind, pickPreview, splitSummary, viewQuery } from "../../js/output_preview_math.js";

test("mp4 and webm play in <video>; gif and webp animate in <img>", () => {
    assert.equal(mediaKind({ filename: "clip_00001_.mp4", format: "video/mp4" }), "video");
    assert.equal(mediaKind({ filename: "clip_00001_.webm", format: "video/webm" }), "video");
    assert.equal(mediaKind({ filename: "clip_00001_.gif", format: "image/gif" }), "image");
    assert.equal(mediaKind({ filename: "clip_00001_.webp", format: "image/webp" }), "image");
    assert.equal(mediaKind({ filename: "CLIP.MP4" }), "video");
});

test("the extension decides; the MIME format is the fallback; unknown gives null", () => {
    assert.equal(mediaKind({ filename: "clip", format: "video/h264-mp4" }), "video");
    assert.equal(mediaKind({ filename: "clip", format: "image/gif" }), "image");
    assert.equal(mediaKind({ filename: "clip.gif", format: "video/mp4" }), "image");
    assert.equal(mediaKind({ filename: "notes.txt" }), null);
    assert.equal(mediaKind(null), null);
    assert.equal(extensionOf("a.b.WEBM"), "webm");
    assert.equal(extensionOf("noext"), "");
});

test("viewQuery encodes filename, subfolder and type for /view", () => {
    assert.equal(
        viewQuery({ filename: "my clip&1.mp4", subfolder: "draw a video/run 1", type: "output", format: "video/mp4" }),
        "filename=my+clip%261.mp4&subfolder=draw+a+video%2Frun+1&type=output",
    );
    assert.equal(viewQuery({ filename: "a.gif" }), "filename=a.gif&subfolder=&type=output");
    const back = new URLSearchParams(viewQuery({ filename: "x y.webp", subfolder: "s", type: "temp" }));
    assert.deepEqual(Object.fromEntries(back), { filename: "x y.webp", subfolder: "s", type: "temp" });
});

test("pickPreview takes the first playable item of a Save Video output", () => {
    const output = {
        images: [
            { filename: "clip.json", subfolder: "", type: "output" },
            { filename: "clip.webm", subfolder: "", type: "output", format: "video/webm" },
        ],
        animated: [true],
    };
    assert.deepEqual(pickPreview(output), { item: output.images[1], kind: "video" });
    assert.equal(pickPreview({ images: [] }), null);
    assert.equal(pickPreview(undefined), null);
});

test("splitSummary reads the Split nodes' ui output", () => {
    assert.equal(splitSummary({ frame_count: [16], frame_size: ["320x192"] }), "16 frames, 320x192");
    assert.equal(splitSummary({ frame_count: [1], frame_size: ["40x24 latent"] }), "1 frame, 40x24 latent");
    assert.equal(splitSummary({ frame_count: [16, 16], frame_size: ["320x192", "320x192"] }), "32 frames, 320x192");
    assert.equal(splitSummary({ frame_count: [4, 4], frame_size: ["64x64", "32x32"] }), "8 frames, 64x64 / 32x32");
    assert.equal(splitSummary({ images: [] }), null);
    assert.equal(splitSummary(undefined), null);
});

test("fittedHeight shows the picture at the node's width, within limits", () => {
    assert.equal(fittedHeight(320, 192, 300), 180);
    assert.equal(fittedHeight(320, 3072, 300), 640);
    assert.equal(fittedHeight(1280, 64, 300), 120);
    assert.equal(fittedHeight(0, 0, 300), 120);
});
