// Shared by the browser checks (frontend_check.mjs, live_player_check.mjs): command-line arguments, ComfyUI
// settings, and launching Chromium (playwright-core, installed by `npm ci` in this folder).
import { chromium } from "playwright-core";

/** `--name value` pairs of the command line, as { name: value }. */
export const args = Object.fromEntries(
    process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);

/** Sets one ComfyUI setting on the server at `base` (before the page opens, so the editor starts with it). */
export async function setSetting(base, id, value) {
    await fetch(`${base}/api/settings/${encodeURIComponent(id)}`, { method: "POST", body: JSON.stringify(value) });
}

/** Headless Chromium at `executablePath`, offline-friendly, videos allowed to autoplay. */
export function launchChromium(executablePath) {
    return chromium.launch({
        executablePath,
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
    });
}
