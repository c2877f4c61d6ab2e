// Shared set-up of the extension tests (extension.test.mjs, live_player.test.mjs): "../../scripts/app.js" and
// "../../scripts/api.js" exist only inside ComfyUI, so serve stand-ins for them. Not a test file itself
// (tests/test_js.py runs tests/js/*.test.mjs).
import { register } from "node:module";

const hooks = `
export async function resolve(specifier, context, next) {
    if (specifier.endsWith("/scripts/app.js")) return { url: "data:text/javascript,export const app = globalThis.__davApp;", shortCircuit: true };
    if (specifier.endsWith("/scripts/api.js")) return { url: "data:text/javascript,export const api = globalThis.__davApi;", shortCircuit: true };
    return next(specifier, context);
}`;

/** Make the extension's imports of ComfyUI's app and api modules resolve to `app` and `api`; call it before
 *  importing the extension. */
export function serveComfyStandIns(app, api) {
    globalThis.__davApp = app;
    globalThis.__davApi = api;
    register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}

/** A <video> stand-in built on the test's own FakeElement; it becomes the global HTMLVideoElement, and
 *  document.createElement makes one for "video" and a FakeElement for anything else. Returns the class. */
export function installFakeVideo(FakeElement) {
    class FakeVideo extends FakeElement {
        pause() {}
        load() {}
        removeAttribute() {}
        play() {
            return Promise.resolve();
        }
    }
    globalThis.HTMLVideoElement = FakeVideo;
    globalThis.document = { createElement: (tag) => (tag === "video" ? new FakeVideo(tag) : new FakeElement(tag)) };
    return FakeVideo;
}
