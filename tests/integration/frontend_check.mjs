// Browser check of Draw-a-Video's front-end against a running ComfyUI (run by test_frontend.py).
//
//   node tests/integration/frontend_check.mjs --base http://127.0.0.1:8188 --artifacts tests/integration/artifacts/bundled-classic \
//        [--mode classic|nodes2] [--workflow workflows/draw_a_video_t2v.json] [--grid-image dav_grid_test.png] \
//        [--chromium /usr/bin/chromium] [--workflows-dir workflows] [--locale-check zh]
//
// One cell of the browser matrix (test_frontend.py runs it for each frontend x rendering mode): --mode picks
// the classic canvas or Nodes 2.0 (setting Comfy.VueNodes.Enabled); the frontend is whatever the server
// serves. Node ids are compared as strings (1.58.1's live ids are strings, saved workflows hold numbers).
// Opens ComfyUI in Chromium (playwright-core, installed by `npm ci` in this folder), then:
//   1. loads the text-to-video workflow (or builds a Grid Layout node), changes rows / cols / order by
//      clicking the widgets (canvas arrows, or Nodes 2.0's +/- buttons and dropdown) and checks what the node
//      draws (the fillText calls on its canvas), measures the drawing (the canvas is on screen, and has
//      non-blank pixels where the cells are) and screenshots it;
//   2. checks the multiple-of-16 warning, save/reload of the workflow, and a resized node;
//   3. with --grid-image (a 1280x768 4x4 grid in ComfyUI's input folder) runs LoadImage -> Split Image Grid
//      -> Save Video in mp4, webm, gif and webp, and checks each preview plays and the split line shows;
//   4. with --workflows-dir (the repo's workflows/ folder) loads EVERY UI workflow there with app.loadGraphData:
//      records the node types the frontend reports missing, the console errors our extension logs while
//      loading, the API prompt app.graphToPrompt makes of it (test_frontend.py compares it with the API twin),
//      and a screenshot of the whole graph (workflow_<name>.png);
//   5. opens Grid Layout's page in the docs panel (the selection toolbox's info button), and with
//      --locale-check zh switches the editor to Chinese (Comfy.Locale) and checks the node and its docs.
// Console errors are sorted: ours (the pack's files), backend (requests a newer frontend makes of an older
// ComfyUI, e.g. 1.58.1's job list asking 0.8.0 for status=cancelled -> 400; a missing user.css),
// environment (the test server's fresh user folder, missing workflow inputs, blocked outside addresses),
// the docs panel's by-design fallback, and others (anything else: the test fails on those too).
// Writes <artifacts>/frontend_report.json: { frontend, mode, checks: [{ name, ok, detail }],
// errors: { ours, backend, environment, docsFallback, others }, screenshots, workflows }, and prints how many
// checks passed.
// Exit code 0 when every check passed and no console error came from the extension.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

import { args, launchChromium, setSetting as setServerSetting } from "./browser_common.mjs";

const base = (args.base ?? "http://127.0.0.1:8188").replace(/\/$/, "");
const artifacts = resolve(args.artifacts ?? "artifacts");
const executablePath = args.chromium ?? "/usr/bin/chromium";
const workflow = args.workflow ? JSON.parse(readFileSync(args.workflow, "utf8")) : null;
const nodes2 = (args.mode ?? "classic") !== "classic";
mkdirSync(artifacts, { recursive: true });

const OURS = /ComfyUI-Draw-a-Video|draw_a_video\.js|grid_preview_math|output_preview_math|drawavideo/i;
// Console errors that are not the pack's, by cause:
// backend mismatch: requests a newer frontend makes of ComfyUI 0.8.0's API (1.58.1's job list asks for
// status=cancelled -> 400), and the optional user.css;
const BACKEND = [/\/api\/jobs\b/, /status=cancelled/, /Jobs API\] Error fetching jobs/, /user\.css/];
// environment: the test server's fresh user folder (no saved workflows, subgraphs or template settings yet),
// the workflows' input files it does not have, and addresses off the server, which this check blocks;
const ENVIRONMENT = [/\/api\/userdata(\?dir=|\/comfy\.templates\.json)/, /\/api\/view\?type=input&filename=draw_a_video_input\.mp4/];
// docs fallback: the docs panel asks for docs/<node id>/<locale>.md first and falls back to docs/<node id>.md
// (the English page), so a 404 for docs/<id>/en.md is that fallback, by the frontend's design.
const DOCS_FALLBACK = /\/extensions\/[^/]+\/docs\/DrawAVideo_\w+\/en\.md/;
const checks = [];
const errors = { ours: [], backend: [], environment: [], docsFallback: [], others: [] };
const offServer = (entry) => /(?:@|GET|POST) (https?:\/\/\S+)/.test(entry) && !entry.match(/(?:@|GET|POST) (https?:\/\/\S+)/)[1].startsWith(base);
const file = (entry) =>
    (DOCS_FALLBACK.test(entry)
        ? errors.docsFallback
        : OURS.test(entry)
          ? errors.ours
          : BACKEND.some((re) => re.test(entry))
            ? errors.backend
            : ENVIRONMENT.some((re) => re.test(entry)) || offServer(entry)
              ? errors.environment
              : errors.others
    ).push(entry);
const screenshots = [];
const workflows = [];
const check = (name, ok, detail = "") => checks.push({ name, ok: Boolean(ok), detail: String(detail).slice(0, 1500) });

const setSetting = (id, value) => setServerSetting(base, id, value);

// A fresh user folder would open the template browser and missing-model dialogs over the canvas.
await setSetting("Comfy.TutorialCompleted", true);
await setSetting("Comfy.Workflow.ShowMissingModelsWarning", false);
await setSetting("Comfy.Workflow.ShowMissingNodesWarning", false);
await setSetting("Comfy.VueNodes.Enabled", nodes2); // false: the classic canvas, ComfyUI 0.8.0's default
await setSetting("Comfy.Locale", "en");
await setSetting("Comfy.Minimap.Visible", false); // it would cover part of the workflow screenshots
await setSetting("Comfy.RightSidePanel.IsOpen", false); // 1.58.1's side panel, likewise (the docs check opens it)

let frontend = null;
const browser = await launchChromium(executablePath);
try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
    // Offline: only the ComfyUI server (the frontend also asks api.comfy.org for release notes).
    await page.route((url) => !url.href.startsWith(base), (route) => route.abort());
    page.on("console", (message) => {
        if (message.type() !== "error") return;
        file(`${message.text()} @ ${message.location()?.url ?? ""}`);
    });
    page.on("pageerror", (error) => file(`${error.message}\n${error.stack ?? ""}`));
    // A failed load's console line names no address: the response does.
    page.on("response", (response) => {
        if (response.status() >= 400) file(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
    });
    // A node's box as the editor draws it, title bar included: in Nodes 2.0 its element's (the element holds
    // the title, and its height is the content's), on the classic canvas LiteGraph's geometry.
    await page.addInitScript(() => {
        window.__davNodeBox = (n) => {
            const element = window.LiteGraph?.vueNodesMode ? document.querySelector(`[data-node-id="${n.id}"]`) : null;
            if (element) {
                const rect = element.getBoundingClientRect();
                const scale = window.app.canvas.ds.scale || 1;
                const [x, y] = window.app.canvas.ds.convertCanvasToOffset([rect.left - window.app.canvas.canvas.getBoundingClientRect().left, rect.top - window.app.canvas.canvas.getBoundingClientRect().top]);
                return [x, y, rect.width / scale, rect.height / scale];
            }
            const title = window.LiteGraph.NODE_TITLE_HEIGHT;
            return [n.pos[0], n.pos[1] - title, n.size[0], n.size[1] + title];
        };
    });
    // Records the text LiteGraph draws on the canvas, to check what the nodes show.
    await page.addInitScript(() => {
        const fillText = CanvasRenderingContext2D.prototype.fillText;
        CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
            window.__drawnText?.push(String(text));
            return fillText.call(this, text, ...rest);
        };
    });

    await page.goto(base);
    await page.waitForFunction(() => window.app?.graph && window.app?.canvas && window.LiteGraph?.registered_node_types?.DrawAVideo_GridLayout, null, { timeout: 90000 });
    await page.waitForTimeout(1000);
    frontend = await page.evaluate(() => ({ version: window.__COMFYUI_FRONTEND_VERSION__ ?? null, nodes2: Boolean(window.LiteGraph.vueNodesMode) }));
    check(`the editor runs in the ${nodes2 ? "Nodes 2.0" : "classic canvas"} mode`, frontend.nodes2 === nodes2, JSON.stringify(frontend));

    // What the graph canvas and the pack's own canvases draw now (the pack's widgets redraw on request).
    const drawnText = () =>
        page.evaluate(() => {
            window.__drawnText = [];
            for (const node of window.app.graph._nodes) for (const widget of node.widgets ?? []) widget.redraw?.();
            window.app.canvas.draw(true, true);
            const text = window.__drawnText.join(" ");
            window.__drawnText = null;
            return text;
        });
    const nextFrames = () => page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    /**
     * The Grid Layout drawing as the user sees it: its canvas's size on screen, and for every cell the pack
     * drew, whether the canvas holds opaque pixels there and whether the canvas is the topmost thing there.
     */
    const measureDrawing = (nodeId) =>
        page.evaluate((id) => {
            const node = window.app.graph.getNodeById(id);
            const widget = node?.widgets?.find((w) => w.name === "drawavideo_grid_preview");
            if (!widget?.canvas) return { error: "no drawing widget" };
            widget.redraw();
            const { canvas, element } = widget;
            const rect = canvas.getBoundingClientRect();
            const cells = widget.drawnCells ?? [];
            const ctx = canvas.getContext("2d");
            const ratio = canvas.width / Math.max(1, canvas.clientWidth);
            const onScreen = rect.width / Math.max(1, canvas.clientWidth);
            let painted = 0;
            let visible = 0;
            for (const cell of cells) {
                // Off the frame number and the reading path: a quarter in from the cell's bottom left.
                const x = cell.x + cell.w * 0.2;
                const y = cell.y + cell.h * 0.8;
                const [, , , alpha] = ctx.getImageData(Math.floor(x * ratio), Math.floor(y * ratio), 1, 1).data;
                if (alpha > 200) painted++;
                const top = document.elementFromPoint(rect.left + x * onScreen, rect.top + y * onScreen);
                if (top && (top === canvas || element.contains(top))) visible++;
            }
            // A transparent corner: the canvas is not simply filled.
            const [, , , cornerAlpha] = ctx.getImageData(canvas.width - 1, 0, 1, 1).data;
            return { screen: [Math.round(rect.width), Math.round(rect.height)], backing: [canvas.width, canvas.height], cells: cells.length, painted, visible, cornerAlpha };
        }, nodeId);
    const drawingOk = (m, frames) => m && !m.error && m.cells === frames && m.painted === frames && m.visible === frames && m.screen[1] >= 100 && m.cornerAlpha === 0;
    const shot = async (name, mouse = [900, 960]) => {
        await page.mouse.move(...mouse); // off the nodes: no tooltip in the picture
        await page.evaluate(() => window.app.canvas.draw(true, true));
        await page.waitForTimeout(300);
        await nextFrames();
        const path = join(artifacts, `${name}.png`);
        await page.screenshot({ path });
        screenshots.push(path);
    };
    /**
     * Changes a widget like a user would: the classic canvas's right (+1 / next) or left arrow; in Nodes 2.0
     * the number's +/- button, or the dropdown's next / previous choice.
     */
    const clickArrow = async (nodeId, widgetName, side) => {
        if (nodes2) {
            const label = page.locator(`[data-node-id="${nodeId}"]`).getByText(widgetName, { exact: true }).first();
            const row = label.locator("xpath=..");
            const combo = row.locator("[role=combobox]");
            if (await combo.count()) {
                const next = await page.evaluate(
                    ({ nodeId, widgetName, side }) => {
                        const widget = window.app.graph.getNodeById(nodeId).widgets.find((w) => w.name === widgetName);
                        const values = widget.options.values;
                        const i = values.indexOf(widget.value) + (side === "right" ? 1 : -1);
                        return values[Math.max(0, Math.min(values.length - 1, i))];
                    },
                    { nodeId, widgetName, side },
                );
                await combo.first().click();
                await page.getByRole("option", { name: next, exact: true }).click();
            } else {
                const up = "[data-pc-section=incrementbutton], [data-testid=increment], [aria-label=Increment]";
                const down = "[data-pc-section=decrementbutton], [data-testid=decrement], [aria-label=Decrement]";
                await row.locator(side === "right" ? up : down).first().click();
            }
            await page.waitForTimeout(200);
            return;
        }
        const point = await page.evaluate(
            ({ nodeId, widgetName, side }) => {
                const { app, LiteGraph } = window;
                const node = app.graph.getNodeById(nodeId);
                const widget = node.widgets.find((w) => w.name === widgetName);
                const x = node.pos[0] + (side === "right" ? node.size[0] - 22 : 22);
                const y = node.pos[1] + widget.y + LiteGraph.NODE_WIDGET_HEIGHT / 2;
                const [cx, cy] = app.canvas.ds.convertOffsetToCanvas([x, y]);
                const rect = app.canvas.canvas.getBoundingClientRect();
                return [rect.left + cx, rect.top + cy];
            },
            { nodeId, widgetName, side },
        );
        await page.mouse.click(point[0], point[1]);
        await page.waitForTimeout(150);
    };
    const widgetValues = (nodeId) =>
        page.evaluate((id) => Object.fromEntries(window.app.graph.getNodeById(id).widgets.map((w) => [w.name, w.value])), nodeId);

    /** Loads the text-to-video workflow (or one Grid Layout node) and brings Grid Layout to the top left at
     *  100 %, clear of the floating menus; returns its id as the frontend holds it (a number or a string). */
    const showGridLayout = () =>
        page.evaluate(async (workflow) => {
            const { app, LiteGraph } = window;
            if (workflow) await app.loadGraphData(workflow);
            else {
                app.graph.clear();
                const made = LiteGraph.createNode("DrawAVideo_GridLayout");
                made.pos = [100, 100];
                app.graph.add(made);
            }
            const node = app.graph.findNodesByType("DrawAVideo_GridLayout")[0];
            app.canvas.ds.scale = 1;
            app.canvas.ds.offset = [-node.pos[0] + 120, -node.pos[1] + 130];
            app.canvas.setDirty(true, true);
            return node.id;
        }, workflow);

    // --- 1. Grid Layout in the text-to-video workflow ----------------------------------------------
    const gridId = await showGridLayout();
    check("workflow loaded with a Grid Layout node", gridId != null, workflow ? "draw_a_video_t2v.json" : "built in the page");
    const preview = await page.evaluate((id) => {
        const widget = window.app.graph.getNodeById(id).widgets.find((w) => w.name === "drawavideo_grid_preview");
        return widget ? { serialize: widget.serialize, options: widget.options } : null;
    }, gridId);
    check("Grid Layout has the drawing widget, never serialised", preview && preview.serialize === false && preview.options?.serialize === false, JSON.stringify(preview));

    let text = await drawnText();
    // The drawing makes the node taller than a plain widget list: the workflow must leave it room.
    const overlaps = await page.evaluate((id) => {
        const { app, LiteGraph } = window;
        const box = window.__davNodeBox;
        const grid = box(app.graph.getNodeById(id));
        const hit = (a, b) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
        return app.graph._nodes
            .filter((n) => String(n.id) !== String(id) && hit(grid, box(n)))
            .map((n) => `${n.type} #${n.id} at [${n.pos}] (Grid Layout spans y ${grid[1]}..${grid[1] + grid[3]}, size [${app.graph.getNodeById(id).size.map(Math.round)}])`);
    }, gridId);
    check("no other node of the workflow covers the Grid Layout drawing", overlaps.length === 0, overlaps.join("; "));
    check("draws the 4x4 readout", text.includes("1280 × 768 px · 16 frames · 3,840 FLUX tokens") && text.includes("VRAM ≈ 24.8 GB bf16 · 12.9 GB fp8"), text);
    let drawing = await measureDrawing(gridId);
    check("the 4x4 drawing is on screen, its canvas painted where the 16 cells are", drawingOk(drawing, 16), JSON.stringify(drawing));
    await shot("grid_layout_4x4");

    // rows 4 -> 6 with two clicks, cols 4 -> 3 with one, order row-major -> column-major -> serpentine.
    await clickArrow(gridId, "rows", "right");
    await clickArrow(gridId, "rows", "right");
    await clickArrow(gridId, "cols", "left");
    await clickArrow(gridId, "order", "right");
    await clickArrow(gridId, "order", "right");
    const values = await widgetValues(gridId);
    check("clicking the widgets changed rows, cols and order", values.rows === 6 && values.cols === 3 && values.order === "serpentine", JSON.stringify(values));
    text = await drawnText();
    const labels = text.split(" ");
    const numbered = Array.from({ length: 18 }, (_, i) => String(i + 1)).every((n) => labels.includes(n));
    check("the drawing follows the widgets (6x3: 960 × 1152 px, 18 frames numbered)", text.includes("960 × 1152 px · 18 frames · 4,320 FLUX tokens") && numbered, text);
    await nextFrames();
    drawing = await measureDrawing(gridId);
    check("the 6x3 drawing is painted where its 18 cells are", drawingOk(drawing, 18), JSON.stringify(drawing));
    await shot("grid_layout_6x3_serpentine");

    // A loaded workflow (or the API) can hold sizes the widget's step would round away.
    await page.evaluate((id) => {
        const node = window.app.graph.getNodeById(id);
        node.widgets.find((w) => w.name === "cell_width").value = 300;
        node.widgets.find((w) => w.name === "gutter").value = 8;
    }, gridId);
    text = await drawnText();
    check(
        "warns about sizes that are not multiples of 16, naming the value",
        text.includes("cell_width 300: not a multiple of 16 (use 288 or 304)") && text.includes("gutter 8: not a multiple of 16 (use 0 or 16)"),
        text,
    );
    await shot("grid_layout_warning");

    // Save and reload: the drawing comes back from the widget values alone.
    const reload = await page.evaluate(async (id) => {
        const { app } = window;
        const node = app.graph.getNodeById(id);
        node.widgets.find((w) => w.name === "cell_width").value = 256;
        node.widgets.find((w) => w.name === "gutter").value = 16;
        const saved = JSON.parse(JSON.stringify(app.graph.serialize()));
        const savedNode = saved.nodes.find((n) => String(n.id) === String(id));
        const prompt = await app.graphToPrompt();
        await app.loadGraphData(saved);
        const again = app.graph.getNodeById(id);
        app.canvas.ds.scale = 1;
        app.canvas.ds.offset = [-again.pos[0] + 120, -again.pos[1] + 130];
        return {
            widgets_values: savedNode.widgets_values,
            promptInputs: Object.keys(prompt.output[String(id)].inputs),
            reloaded: Object.fromEntries(again.widgets.filter((w) => w.serialize !== false).map((w) => [w.name, w.value])),
            hasPreview: again.widgets.some((w) => w.name === "drawavideo_grid_preview"),
        };
    }, gridId);
    check(
        "saved workflow holds only the real widget values",
        JSON.stringify(reload.widgets_values) === JSON.stringify([6, 3, 256, 192, 16, "serpentine", 10]),
        JSON.stringify(reload.widgets_values),
    );
    check("the prompt sent to the server has no drawing input", !reload.promptInputs.includes("drawavideo_grid_preview"), reload.promptInputs.join(","));
    text = await drawnText();
    check(
        "after reload the node draws the same grid (6x3 of 256x192, gutter 16)",
        reload.hasPreview && text.includes("800 × 1232 px · 18 frames · 3,850 FLUX tokens") && !text.includes("not a multiple of 16"),
        `${JSON.stringify(reload.reloaded)} ${text}`,
    );
    await shot("grid_layout_reloaded");

    // Reloading the page: the frontend restores the open workflow from the browser's storage.
    await page.waitForTimeout(1500); // the frontend saves the open workflow shortly after changes
    await page.reload();
    await page.waitForFunction(() => window.app?.graph?.findNodesByType?.("DrawAVideo_GridLayout")?.length > 0, null, { timeout: 90000 });
    await page.waitForTimeout(1000);
    const restored = await page.evaluate(() => {
        const node = window.app.graph.findNodesByType("DrawAVideo_GridLayout")[0];
        const { app } = window;
        app.canvas.ds.scale = 1;
        app.canvas.ds.offset = [-node.pos[0] + 120, -node.pos[1] + 130];
        app.canvas.setDirty(true, true);
        return { id: node.id, values: node.widgets.filter((w) => w.serialize !== false).map((w) => w.value), preview: node.widgets.some((w) => w.name === "drawavideo_grid_preview") };
    });
    text = await drawnText();
    check(
        "after a page reload the restored workflow draws the same grid",
        restored.preview && JSON.stringify(restored.values) === JSON.stringify([6, 3, 256, 192, 16, "serpentine", 10]) && text.includes("800 × 1232 px · 18 frames"),
        `${JSON.stringify(restored)} ${text}`,
    );
    // The mode is on when the workflow loads (the normal case after a reload): 1.58.1 used to draw nothing here.
    drawing = await measureDrawing(restored.id);
    check("after a page reload the drawing is on screen and painted where the 18 cells are", drawingOk(drawing, 18), JSON.stringify(drawing));

    await page.evaluate((id) => {
        const { app } = window;
        const node = app.graph.getNodeById(id);
        // Alone on the canvas, so nothing overlaps it (Nodes 2.0 of 1.35.9 does not move a node's element when
        // its pos is assigned, so the node stays where it is and the others go).
        for (const other of [...app.graph._nodes]) if (other !== node) app.graph.remove(other);
        app.canvas.ds.offset = [-node.pos[0] + 120, -node.pos[1] + 130];
        node.setSize([560, node.size[1] + 200]);
        window.app.canvas.draw(true, true);
    }, restored.id);
    await page.waitForTimeout(500);
    await nextFrames();
    const resizedSize = await page.evaluate((id) => {
        const node = window.app.graph.getNodeById(id);
        const widget = node.widgets.find((w) => w.name === "drawavideo_grid_preview");
        return { size: [...node.size], box: [widget.element.clientWidth, widget.element.clientHeight], minSize: node.computeSize() };
    }, restored.id);
    drawing = await measureDrawing(restored.id);
    check(
        "a resized node gives the drawing the room (and it is redrawn at the new size)",
        resizedSize.box[0] > 400 && resizedSize.box[1] > 300 && drawingOk(drawing, 18) && drawing.screen[0] > 400,
        JSON.stringify({ ...resizedSize, drawing }),
    );
    await shot("grid_layout_resized");

    // --- 2. Split Image Grid + Save Video in every format ------------------------------------------
    if (args["grid-image"]) {
        await page.evaluate(async (image) => {
            const { app, LiteGraph } = window;
            app.graph.clear();
            const make = (type, pos, values = {}) => {
                const node = LiteGraph.createNode(type);
                node.pos = pos;
                app.graph.add(node);
                for (const [name, value] of Object.entries(values)) node.widgets.find((w) => w.name === name).value = value;
                return node;
            };
            // A frame_stride new to this run: ComfyUI's cache would skip the nodes and their reports.
            const layout = make("DrawAVideo_GridLayout", [20, 20], { frame_stride: 1 + (Date.now() % 997) });
            const load = make("LoadImage", [400, 190], { image });
            const split = make("DrawAVideo_SplitImageGrid", [400, 20]);
            layout.connect(0, split, "layout");
            load.connect(0, split, "image");
            const formats = split.graph && LiteGraph.registered_node_types.DrawAVideo_SaveVideo ? ["mp4", "webm", "gif", "webp"] : [];
            formats.forEach((prefix, i) => {
                const save = make("DrawAVideo_SaveVideo", [800 + (i % 2) * 400, 20 + Math.floor(i / 2) * 480], { fps: 4, save_output: false });
                const format = save.widgets.find((w) => w.name === "format");
                format.value = format.options.values.find((v) => v.startsWith(prefix));
                save.title = `Save Video: ${format.value}`;
                split.connect(0, save, "images");
            });
            // Opened as a workflow, as users open one: 1.58.1's Nodes 2.0 resolves nodes re-created with the
            // ids of a cleared graph's nodes to the old ones (and then shows its own previews for them).
            await app.loadGraphData(JSON.parse(JSON.stringify(app.graph.serialize())));
            app.canvas.ds.scale = 0.85;
            app.canvas.ds.offset = [70, 100]; // clear of the floating menus at the top left
            window.__executionErrors = [];
            window.comfyAPI.api.api.addEventListener("execution_error", ({ detail }) =>
                window.__executionErrors.push(`${detail.node_type}: ${detail.exception_type}: ${detail.exception_message}`),
            );
            await app.queuePrompt(0, 1);
        }, args["grid-image"]);
        // Every element showing a saved file, wherever it is (the pack's own preview, or in 1.35.9's Nodes 2.0
        // the frontend's), found by the file names the Save Video nodes got back.
        const findMedia = () =>
            page.evaluate(() => {
                const { app } = window;
                const saves = app.graph._nodes.filter((n) => n.type === "DrawAVideo_SaveVideo");
                return saves.map((node) => {
                    const item = app.nodeOutputs?.[String(node.id)]?.images?.[0];
                    if (!item) return { node: String(node.id), title: node.title, file: null, shown: [] };
                    const shown = [...document.querySelectorAll("video, img")]
                        .filter((el) => el.src && new URL(el.src, location.href).searchParams.get("filename") === item.filename)
                        .map((el) => ({
                            tag: el.tagName.toLowerCase(),
                            ours: Boolean(el.closest(".drawavideo-media-preview")),
                            paused: el.paused,
                            muted: el.muted,
                            loop: el.loop,
                            time: el.currentTime,
                            width: el.videoWidth ?? el.naturalWidth,
                            height: el.videoHeight ?? el.naturalHeight,
                            complete: el.complete,
                            onScreen: Math.round(el.getBoundingClientRect().height),
                            // Where a preview that is not the pack's sits (which part of the frontend made it).
                            in: el.closest(".drawavideo-media-preview")
                                ? undefined
                                : [1, 2, 3, 4, 5].map((n) => { let p = el; for (let i = 0; i < n && p; i++) p = p.parentElement; return p ? `${p.tagName}.${String(p.className).split(" ")[0]}${p.dataset?.testid ? "#" + p.dataset.testid : ""}` : ""; }).join(" < "),
                        }));
                    return { node: String(node.id), title: node.title, file: item.filename, shown };
                });
            });
        await page
            .waitForFunction(
                () =>
                    window.__executionErrors.length > 0 ||
                    window.app.graph._nodes.filter((n) => n.type === "DrawAVideo_SaveVideo").every((n) => window.app.nodeOutputs?.[String(n.id)]?.images?.length),
                null,
                { timeout: 240000 },
            )
            .catch(() => {});
        const serverErrors = await page.evaluate(() => window.__executionErrors);
        check("the graph ran on the server", serverErrors.length === 0, serverErrors.join("\n"));
        // Give the files a few seconds to load and the videos to get going (they autoplay once loaded).
        let media = [];
        for (let i = 0; i < 60; i++) {
            media = await findMedia();
            const ready = media.every((m) => m.shown.length && m.shown.every((e) => (e.tag === "video" ? e.width > 0 && (e.time > 0.3 || !e.ours) : e.complete && e.width > 0)));
            if (ready) break;
            await page.waitForTimeout(500);
        }
        check("Save Video shows exactly one preview for each of mp4, webm, gif and webp", media.length === 4 && media.every((m) => m.shown.length === 1), JSON.stringify(media));
        for (const ext of ["mp4", "webm"]) {
            const entry = media.find((m) => m.file?.endsWith(`.${ext}`));
            const video = entry?.shown[0];
            // The pack's own <video> autoplays muted and loops; 1.35.9's Nodes 2.0 shows the frontend's <video>.
            const plays = video?.ours ? !video.paused && video.muted && video.loop && video.time > 0 : true;
            check(`${ext} plays in the node: <video>${video?.ours ? " autoplaying, looping, muted" : " (the frontend's)"}`, video && video.tag === "video" && plays && video.width === 320 && video.onScreen > 50, JSON.stringify(entry));
        }
        for (const ext of ["gif", "webp"]) {
            const entry = media.find((m) => m.file?.endsWith(`.${ext}`));
            const image = entry?.shown[0];
            check(`${ext} animates in the node as <img>, never <video>`, image && image.tag === "img" && image.complete && image.width === 320 && image.height === 192 && image.onScreen > 50, JSON.stringify(entry));
        }
        const splitLines = await page.evaluate(() => [...document.querySelectorAll(".drawavideo-split-info")].map((el) => [el.textContent, Math.round(el.getBoundingClientRect().height)]));
        check("Split Image Grid shows '16 frames, 320x192' after the run", splitLines.some(([t, h]) => t === "16 frames, 320x192" && h > 10), JSON.stringify(splitLines));
        await shot("save_video_previews");
    }

    // --- 4. Every UI workflow of the repo: loads with no missing node, converts to its API twin -----
    if (args["workflows-dir"]) {
        const dir = resolve(args["workflows-dir"]);
        const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
        for (const file of files) {
            const name = basename(file, ".json");
            const graph = JSON.parse(readFileSync(join(dir, file), "utf8"));
            const ourErrorsBefore = errors.ours.length;
            let result;
            try {
                result = await page.evaluate(async (graph) => {
                    const { app, LiteGraph } = window;
                    // What the frontend itself reports as missing (its dialog is switched off by a setting).
                    const reported = [];
                    const original = app.showMissingNodesError;
                    app.showMissingNodesError = (types) => {
                        reported.push(...types.map((t) => (typeof t === "object" ? t.type : t)));
                        return original.call(app, types);
                    };
                    try {
                        await app.loadGraphData(graph, true, true, null, { showMissingNodesDialog: true, showMissingModelsDialog: false });
                    } finally {
                        app.showMissingNodesError = original;
                    }
                    const unregistered = [...new Set(graph.nodes.map((n) => n.type).filter((t) => !(t in LiteGraph.registered_node_types)))];
                    const nodes = app.graph._nodes;
                    const bounds = [
                        Math.min(...nodes.map((n) => n.pos[0])),
                        Math.min(...nodes.map((n) => n.pos[1] - LiteGraph.NODE_TITLE_HEIGHT)),
                        Math.max(...nodes.map((n) => n.pos[0] + n.size[0])),
                        Math.max(...nodes.map((n) => n.pos[1] + n.size[1])),
                    ];
                    const prompt = await app.graphToPrompt();
                    const missingFiles = (n) =>
                        (n.widgets ?? [])
                            .filter((w) => w.type === "combo" && Array.isArray(w.options?.values) && w.value && !w.options.values.includes(w.value))
                            .map((w) => `${w.name}=${w.value}`);
                    // Nodes drawn on top of each other (title bars included).
                    const box = window.__davNodeBox;
                    const hit = (a, b) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
                    const overlaps = [];
                    nodes.forEach((a, i) => nodes.slice(i + 1).forEach((b) => hit(box(a), box(b)) && overlaps.push(`${a.type} #${a.id} / ${b.type} #${b.id}`)));
                    return {
                        reported,
                        unregistered,
                        nodeCount: nodes.length,
                        // 1.58.1 flags a node whose model or input file is missing on this server (the test
                        // server has none of the workflows' real models): those are listed apart.
                        withErrors: nodes.filter((n) => n.has_errors && !missingFiles(n).length).map((n) => `${n.type} #${n.id}`),
                        missingFiles: nodes.flatMap((n) => (n.has_errors ? missingFiles(n).map((f) => `${n.type} #${n.id}: ${f}`) : [])),
                        prompt: prompt.output,
                        bounds,
                        overlaps,
                    };
                }, graph);
            } catch (error) {
                result = { error: `${error.stack ?? error}` };
            }
            if (result.bounds) {
                // The whole graph at a zoom where LiteGraph still draws titles and widgets (it draws bare boxes
                // below ~0.6): the window grows to fit (capped), clear of the menus at the top and left.
                const [left, top, right, bottom] = result.bounds;
                const margin = { left: 80, top: 150, right: 40, bottom: 60 }; // the top right holds the Run bar and queue toasts
                const scale = Math.min(0.75, (6000 - margin.left - margin.right) / (right - left), (3000 - margin.top - margin.bottom) / (bottom - top));
                const width = Math.max(1600, Math.ceil((right - left) * scale) + margin.left + margin.right);
                const height = Math.max(1000, Math.ceil((bottom - top) * scale) + margin.top + margin.bottom);
                await page.setViewportSize({ width, height });
                await page.waitForTimeout(300);
                await page.evaluate(({ scale, offset }) => {
                    window.app.canvas.ds.scale = scale;
                    window.app.canvas.ds.offset = offset;
                    window.app.canvas.setDirty(true, true);
                }, { scale, offset: [margin.left / scale - left, margin.top / scale - top] });
                result.scale = scale;
            }
            await page.waitForTimeout(500);
            const viewport = page.viewportSize();
            await shot(`workflow_${name}`, [viewport.width - 15, Math.round(viewport.height / 2)]); // the empty right margin
            const ourErrors = errors.ours.slice(ourErrorsBefore);
            // Judged by test_frontend.py (it compares the prompt with the API twin the Python way).
            workflows.push({ name, file, graphNodeCount: graph.nodes.length, ...result, ourErrors, screenshot: join(artifacts, `workflow_${name}.png`) });
        }
        await page.setViewportSize({ width: 1600, height: 1000 });
    }

    // --- 5. The docs panel, and the editor in Chinese ---------------------------------------------------
    /** Selects the node and presses the selection toolbox's info button: the docs panel opens on its page. */
    const openDocs = async (nodeId, expected) => {
        await page.evaluate((id) => {
            const { app } = window;
            app.canvas.deselectAll?.();
            app.canvas.selectNode(app.graph.getNodeById(id));
            app.canvas.setDirty(true, true);
        }, nodeId);
        await page.waitForTimeout(500);
        const button = page.locator("[data-testid=info-button]").first();
        await button.waitFor({ state: "visible", timeout: 10000 });
        await button.evaluate((el) => el.click()); // a toast may lie over the toolbox: click the button itself
        return page
            .waitForFunction((text) => document.body.innerText.includes(text), expected, { timeout: 15000 })
            .then(() => true)
            .catch(() => false);
    };
    await page.setViewportSize({ width: 1600, height: 1000 });
    let docsNode = String(await showGridLayout());
    const docsShown = await openDocs(docsNode, "Plans the grid FLUX draws");
    const docsText = await page.evaluate(() => document.body.innerText);
    check(
        "Grid Layout's docs page opens in the docs panel (what it's for, inputs, outputs, example)",
        docsShown && docsText.includes("EmptySD3LatentImage") && docsText.includes("cell_width") && docsText.includes("Example"),
        docsShown ? "" : docsText.slice(0, 1500),
    );
    await shot("docs_panel_grid_layout");

    if (args["locale-check"]) {
        const locale = args["locale-check"];
        await setSetting("Comfy.Locale", locale);
        await page.reload();
        await page.waitForFunction(() => window.app?.graph && window.LiteGraph?.registered_node_types?.DrawAVideo_GridLayout, null, { timeout: 90000 });
        await page.waitForTimeout(1500);
        // A new node: the workflow's nodes keep the (English) titles they were saved with.
        docsNode = await page.evaluate(() => {
            const { app, LiteGraph } = window;
            app.graph.clear();
            const made = LiteGraph.createNode("DrawAVideo_GridLayout");
            made.pos = [100, 100];
            app.graph.add(made);
            app.canvas.ds.scale = 1;
            app.canvas.ds.offset = [20, 30];
            app.canvas.setDirty(true, true);
            return String(made.id);
        });
        await page.waitForTimeout(500);
        await nextFrames();
        const shown = `${await drawnText()} ${await page.evaluate(() => document.body.innerText)}`;
        check(
            `the editor in ${locale}: Grid Layout's title and inputs are translated`,
            shown.includes("网格布局 (Draw-a-Video)") && shown.includes("行数") && shown.includes("单元格宽度"),
            shown.slice(0, 1500),
        );
        drawing = await measureDrawing(docsNode);
        check(`the editor in ${locale}: the drawing still shows`, drawingOk(drawing, 16), JSON.stringify(drawing));
        await shot(`grid_layout_${locale}`);
        const zhDocs = await openDocs(docsNode, "规划 FLUX 要画的网格");
        check(`the docs panel shows the ${locale} page`, zhDocs, zhDocs ? "" : (await page.evaluate(() => document.body.innerText)).slice(0, 1500));
        await shot(`docs_panel_grid_layout_${locale}`);
        await setSetting("Comfy.Locale", "en");
    }

    check("no console errors from the extension", errors.ours.length === 0, errors.ours.join("\n"));
    check("no console error of an unknown cause", errors.others.length === 0, errors.others.join("\n"));
} catch (error) {
    check("browser check ran to the end", false, `${error.stack ?? error}`);
} finally {
    await browser.close();
}

// The report goes to a file first: a large write to a piped stdout can be cut off by process.exit.
const report = JSON.stringify({ frontend, mode: nodes2 ? "nodes2" : "classic", checks, errors, screenshots, workflows }, null, 1);
writeFileSync(join(artifacts, "frontend_report.json"), report + "\n");
console.log(`${checks.filter((c) => c.ok).length}/${checks.length} checks passed; report: ${join(artifacts, "frontend_report.json")}`);
process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
