// Browser check of the live player (js/live_player.js) against a running ComfyUI (run by test_live_player.py).
//
//   node tests/integration/live_player_check.mjs --base http://127.0.0.1:8188 --artifacts tests/integration/artifacts \
//        --workflow workflows/draw_a_video_t2v.json --models '{"dit": ..., "clip_l": ..., ...}' [--chromium /usr/bin/chromium]
//        [--modes classic,vue] [--steps 40] [--tag 1.35.9]
//
// For each rendering mode (classic canvas; Nodes 2.0 = Comfy.VueNodes.Enabled):
//   1. opens ComfyUI, loads the text-to-video workflow, points its loaders at the tiny model files, makes the cells
//      128x64 (a 512x256 grid), gives the sampler --steps steps, and queues it like a user (app.queuePrompt);
//   2. while the KSampler samples (ComfyUI sends latent2rgb previews), takes two screenshots of the Grid Layout
//      node's player some time apart and reads the player's state: it must be live, hold the layout's 16 frames,
//      show two different frames (by number and by pixels), and have taken more than one preview;
//   3. after the run: the player shows the final clip (the Save Video's mp4).
// Prints one JSON object: { checks: [{ name, ok, detail }], errors: { ours, others }, screenshots, states }.
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

import { args, launchChromium, setSetting as setServerSetting } from "./browser_common.mjs";

const base = (args.base ?? "http://127.0.0.1:8188").replace(/\/$/, "");
const artifacts = resolve(args.artifacts ?? "artifacts");
const executablePath = args.chromium ?? "/usr/bin/chromium";
const workflow = JSON.parse(readFileSync(args.workflow, "utf8"));
const models = JSON.parse(args.models ?? "{}");
const modes = (args.modes ?? "classic,vue").split(",");
const steps = Number(args.steps ?? 40);
const tag = args.tag ? `_${args.tag}` : "";
const previewMethod = args["preview-method"] ?? "default";
mkdirSync(artifacts, { recursive: true });

const OURS = /ComfyUI-Draw-a-Video|draw_a_video\.js|live_player|grid_preview_math|output_preview_math|drawavideo/i;
const checks = [];
const errors = { ours: [], others: [] };
const screenshots = [];
const states = {};
const check = (name, ok, detail = "") => checks.push({ name, ok: Boolean(ok), detail: String(detail).slice(0, 1500) });

const setSetting = (id, value) => setServerSetting(base, id, value);
await setSetting("Comfy.TutorialCompleted", true);
await setSetting("Comfy.Workflow.ShowMissingModelsWarning", false);
await setSetting("Comfy.Workflow.ShowMissingNodesWarning", false);
await setSetting("Comfy.Minimap.Visible", false);
await setSetting("Comfy.Execution.PreviewMethod", previewMethod);

const browser = await launchChromium(executablePath);
try {
    for (const mode of modes) {
        await setSetting("Comfy.VueNodes.Enabled", mode === "vue");
        const page = await browser.newPage({ viewport: { width: 1400, height: 1100 }, deviceScaleFactor: 1 }); // the whole 800 px Grid Layout node
        await page.route((url) => !url.href.startsWith(base), (route) => route.abort());
        const ourBefore = errors.ours.length;
        page.on("console", (message) => {
            if (message.type() !== "error") return;
            const entry = `[${mode}] ${message.text()} @ ${message.location()?.url ?? ""}`;
            (OURS.test(entry) ? errors.ours : errors.others).push(entry);
        });
        page.on("pageerror", (error) => {
            const entry = `[${mode}] ${error.message}\n${error.stack ?? ""}`;
            (OURS.test(entry) ? errors.ours : errors.others).push(entry);
        });
        await page.goto(base);
        await page.waitForFunction(() => window.app?.graph && window.app?.canvas && window.LiteGraph?.registered_node_types?.DrawAVideo_GridLayout, null, { timeout: 120000 });
        await page.waitForTimeout(1000);

        // A new seed per mode: the same prompt again would come from ComfyUI's cache, with nothing to preview.
        const seed = 1000 + modes.indexOf(mode) + Math.floor(Math.random() * 1e6) * 10;
        const gridId = await page.evaluate(async ({ workflow, models, steps, seed }) => {
            const { app } = window;
            await app.loadGraphData(workflow, true, true, null, { showMissingNodesDialog: false, showMissingModelsDialog: false });
            const set = (type, values) => {
                for (const node of app.graph._nodes.filter((n) => n.type === type)) {
                    for (const [name, value] of Object.entries(values)) {
                        const widget = node.widgets.find((w) => w.name === name);
                        if (!widget) continue;
                        widget.value = value;
                        widget.callback?.(value);
                    }
                }
            };
            set("UNETLoader", { unet_name: models.dit });
            set("DualCLIPLoader", { clip_name1: models.clip_l, clip_name2: models.t5xxl });
            set("VAELoader", { vae_name: models.vae_fast });
            set("LoraLoaderModelOnly", { lora_name: models.lora });
            set("DrawAVideo_GridLayout", { cell_width: 128, cell_height: 64 });
            set("DrawAVideo_GridPrompt", { subject: "a test scene", template: "Generate a video arranged in a grid, where the blocks represent continuous scenes." });
            set("KSampler", { steps, seed, control_after_generate: "fixed" });
            const grid = app.graph._nodes.find((n) => n.type === "DrawAVideo_GridLayout");
            // The Grid Layout node in view at 100 %, near the top left.
            app.canvas.ds.scale = 1;
            app.canvas.ds.offset = [60 - grid.pos[0], 120 - grid.pos[1]];
            app.canvas.setDirty(true, true);
            return grid.id;
        }, { workflow, models, steps, seed });
        await page.waitForTimeout(800);

        const player = page.locator(".drawavideo-live-player").first();
        const state = () => page.evaluate((id) => window.app.graph.getNodeById(id).davLivePlayer?.snapshot() ?? null, gridId);
        const canvasPixels = () => page.evaluate(() => document.querySelector(".drawavideo-live-canvas")?.toDataURL() ?? "");
        const idle = await state();
        check(`[${mode}] the Grid Layout node has a live player`, idle && (await player.count()) === 1, JSON.stringify(idle));
        const box = await player.boundingBox();
        check(`[${mode}] the player has its fixed height on screen`, box && box.height >= 200 && box.height <= 260, JSON.stringify(box));
        const idleShot = join(artifacts, `live_player_${mode}${tag}_idle.png`);
        await page.screenshot({ path: idleShot });
        screenshots.push(idleShot);

        await page.evaluate(() => window.app.queuePrompt(0, 1));
        // Wait for sampling: the T5 encode comes first (minutes on a busy CPU when not cached).
        await page.waitForFunction((id) => (window.app.graph.getNodeById(id).davLivePlayer?.snapshot().previews ?? 0) >= 2, gridId, { timeout: 900000, polling: 200 });
        const shots = [];
        for (let i = 0; i < 2; i++) {
            // The second one once the player has moved on to another frame (8 fps: within 1/8 s unless paused).
            if (i) await page.waitForFunction(({ id, frame }) => window.app.graph.getNodeById(id).davLivePlayer?.snapshot().frame !== frame,
                { id: gridId, frame: shots[0].snapshot.frame }, { timeout: 10000, polling: 50 });
            const path = join(artifacts, `live_player_${mode}${tag}_sampling_${i + 1}.png`);
            const snapshot = await state();
            const pixels = await canvasPixels();
            await page.screenshot({ path });
            screenshots.push(path);
            await player.screenshot({ path: path.replace(".png", "_player.png") });
            screenshots.push(path.replace(".png", "_player.png"));
            shots.push({ snapshot, pixels, progress: await page.evaluate(() => document.title) });
        }
        states[mode] = shots.map((s) => ({ ...s.snapshot, title: s.progress }));
        const [a, b] = shots.map((s) => s.snapshot);
        check(`[${mode}] both screenshots were taken while sampling (player live)`, a.state === "live" && b.state === "live", JSON.stringify([a, b]));
        check(`[${mode}] the player holds the layout's 16 frames`, a.frames === 16 && b.frames === 16, JSON.stringify([a.frames, b.frames]));
        // latent2rgb draws the latent (64x32 for 512x256); the server scales previews to --preview-size (512).
        check(`[${mode}] the preview is a picture of the whole 512x256 grid`, a.image && a.image[0] === 2 * a.image[1], JSON.stringify(a.image));
        check(`[${mode}] the two screenshots show different frames`, a.frame !== b.frame && shots[0].pixels !== shots[1].pixels, `${a.frame} vs ${b.frame}`);
        check(`[${mode}] the player follows new previews`, b.previews >= a.previews && a.previews >= 2, `${a.previews} then ${b.previews}`);

        // Controls: pause holds the frame, the frame rate input sets the rate.
        await page.locator(".drawavideo-live-player button").first().click();
        const paused = await state();
        await page.waitForTimeout(600);
        const stillPaused = await state();
        check(`[${mode}] pause holds the frame`, !paused.playing && paused.frame === stillPaused.frame, JSON.stringify([paused, stillPaused]));
        await page.locator(".drawavideo-live-player button").first().click();
        await page.locator(".drawavideo-live-player input").first().fill("16");
        await page.locator(".drawavideo-live-player input").first().dispatchEvent("change");
        check(`[${mode}] the frame rate input sets the rate`, (await state()).fps === 16, JSON.stringify(await state()));

        await page.waitForFunction((id) => window.app.graph.getNodeById(id).davLivePlayer?.snapshot().state === "final", gridId, { timeout: 900000, polling: 500 });
        await page.waitForTimeout(1500);
        const final = await state();
        const finalShot = join(artifacts, `live_player_${mode}${tag}_final.png`);
        await page.screenshot({ path: finalShot });
        screenshots.push(finalShot);
        const shownClip = await page.evaluate(() => {
            const video = document.querySelector(".drawavideo-live-final");
            return video ? { src: video.src, playing: video instanceof HTMLVideoElement ? !video.paused && video.readyState >= 2 : true, w: video.videoWidth ?? video.naturalWidth } : null;
        });
        check(`[${mode}] when the run ends the player shows the final clip`, final.state === "final" && final.final?.endsWith(".mp4") && shownClip?.src.includes(".mp4"),
            JSON.stringify({ final, shownClip }));
        states[`${mode}_final`] = { ...final, shownClip };
        check(`[${mode}] no console errors from the extension`, errors.ours.length === ourBefore, errors.ours.slice(ourBefore).join("\n"));
        await page.close();
    }
} catch (error) {
    check("browser check ran to the end", false, `${error.stack ?? error}`);
} finally {
    await setSetting("Comfy.VueNodes.Enabled", false);
    await setSetting("Comfy.Execution.PreviewMethod", "default");
    await browser.close();
}

console.log(JSON.stringify({ checks, errors, screenshots, states }, null, 1));
process.exit(checks.every((c) => c.ok) ? 0 : 1);
