"""The front-end's JavaScript unit tests (tests/js/*.test.mjs), run with Node's built-in test runner.

They test the pure modules in js/ (grid geometry, frame order, warnings, VRAM estimate, preview
choices). This test also hands Node what the Python engine computes for a set of layouts, so the
drawing can never drift from nodes/engine/layout.py (tests/js/engine_parity.test.mjs).
"""

import json
import os
import re
import shutil
import subprocess

import pytest
from dav_testkit import ROOT
from draw_a_video.nodes.engine.layout import ORDERS, GridLayout

JS_TESTS = sorted((ROOT / "tests" / "js").glob("*.test.mjs"))
NODE = shutil.which("node")

LAYOUTS = [
    dict(rows=4, cols=4, cell_width=320, cell_height=192, gutter=0),
    dict(rows=6, cols=4, cell_width=320, cell_height=192, gutter=0),
    dict(rows=8, cols=4, cell_width=256, cell_height=160, gutter=16),
    dict(rows=16, cols=1, cell_width=320, cell_height=192, gutter=0),
    dict(rows=1, cols=16, cell_width=128, cell_height=128, gutter=32),
    dict(rows=3, cols=5, cell_width=300, cell_height=200, gutter=8),
    dict(rows=2, cols=7, cell_width=10, cell_height=17, gutter=20),
    dict(rows=5, cols=3, cell_width=1000, cell_height=16, gutter=0),
]


def engine_cases() -> list[dict]:
    cases = []
    for sizes in LAYOUTS:
        for order in ORDERS:
            layout = GridLayout(order=order, **sizes)
            cases.append(
                {
                    "layout": layout.to_dict(),
                    "expected": {
                        "width": layout.width,
                        "height": layout.height,
                        "frames": layout.frames,
                        "flux_tokens": layout.flux_tokens,
                        "cells": [list(layout.cell_of_frame(i)) for i in range(layout.frames)],
                        "flux_problems": layout.flux_problems(),
                    },
                }
            )
    return cases


def _summary(output: str, key: str) -> int:
    match = re.search(rf"^# {key} (\d+)$", output, re.MULTILINE)
    assert match, f"no '# {key}' line in node's output:\n{output[-3000:]}"
    return int(match.group(1))


@pytest.mark.skipif(NODE is None, reason="node (Node.js 18+) is not on PATH, so the front-end's JS unit tests in tests/js cannot run")
def test_js_unit_tests(tmp_path):
    assert JS_TESTS, "no tests/js/*.test.mjs files"
    cases_file = tmp_path / "engine_cases.json"
    cases_file.write_text(json.dumps(engine_cases()))
    env = {**os.environ, "DRAWAVIDEO_ENGINE_CASES": str(cases_file), "NODE_OPTIONS": ""}
    result = subprocess.run(
        [NODE, "--test", "--test-reporter=tap", *map(str, JS_TESTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test failed:\n{output[-6000:]}"
    assert _summary(output, "fail") == 0
    assert _summary(output, "skipped") == 0, "a JS test skipped (the engine parity cases did not arrive?)"
    assert _summary(output, "pass") >= len(LAYOUTS) * len(ORDERS) + 30
