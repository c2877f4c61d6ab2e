// The drawing must agree with the engine: js/grid_preview_math.js against nodes/engine/layout.py.
// tests/test_js.py writes what GridLayout computes for a set of layouts to a JSON file and names it in
// DRAWAVIDEO_ENGINE_CASES; run alone (plain `node --test tests/js`), this file skips.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { cellOfFrame, fluxWarnings, gridSize } from "../../js/grid_preview_math.js";

const casesPath = process.env.DRAWAVIDEO_ENGINE_CASES;
const cases = casesPath ? JSON.parse(readFileSync(casesPath, "utf8")) : [];
const skip = casesPath ? false : "DRAWAVIDEO_ENGINE_CASES is unset: run through `pytest tests/test_js.py`";

/** The sizes a warning suggests, e.g. "use 288 or 304" -> [288, 304] (same for the engine's wording). */
const suggestions = (messages) =>
    messages.map((message) => [...new Set(/use (\d+)(?: or (\d+))?/.exec(message).slice(1).filter(Boolean).map(Number))]);

test("the engine sent cases", { skip }, () => {
    assert.ok(cases.length >= 10, `only ${cases.length} cases in ${casesPath}`);
});

for (const { layout, expected } of cases) {
    const name = `${layout.rows}x${layout.cols} of ${layout.cell_width}x${layout.cell_height}, gutter ${layout.gutter}, ${layout.order}`;
    test(`same as GridLayout: ${name}`, { skip }, () => {
        const size = gridSize(layout);
        assert.deepEqual(
            { width: size.width, height: size.height, frames: size.frames, tokens: size.tokens },
            { width: expected.width, height: expected.height, frames: expected.frames, tokens: expected.flux_tokens },
        );
        const cells = Array.from({ length: size.frames }, (_, frame) => cellOfFrame(layout, frame));
        assert.deepEqual(cells, expected.cells);
        const warnings = fluxWarnings(layout);
        assert.equal(warnings.length, expected.flux_problems.length, warnings.join("; "));
        assert.deepEqual(suggestions(warnings), suggestions(expected.flux_problems));
        warnings.forEach((warning, i) => assert.ok(expected.flux_problems[i].startsWith(warning.split(" ")[0])));
    });
}
