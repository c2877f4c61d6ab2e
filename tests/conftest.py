"""Shared test set-up: the pack imported as a package, offline, with its folders in a temp dir."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

# Nothing may reach a model hub, in any test.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "draw_a_video"


def _import_pack():
    """Import the repo root as the package `draw_a_video`, as ComfyUI imports a custom node folder."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACKAGE, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)
    return sys.modules[PACKAGE]


_import_pack()


@pytest.fixture
def pack():
    return sys.modules[PACKAGE]


@pytest.fixture(autouse=True)
def pack_folders(tmp_path, monkeypatch):
    """Each test gets its own ComfyUI-like input/output/models folders."""
    folders = {name: tmp_path / name for name in ("output", "input", "models")}
    for path in folders.values():
        path.mkdir()
    monkeypatch.setenv("DRAWAVIDEO_OUTPUT_DIR", str(folders["output"]))
    monkeypatch.setenv("DRAWAVIDEO_INPUT_DIR", str(folders["input"]))
    monkeypatch.setenv("DRAWAVIDEO_MODELS_DIR", str(folders["models"]))
    monkeypatch.delenv("DRAWAVIDEO_TEMP_DIR", raising=False)
    yield folders
    from draw_a_video.nodes import host

    host.clear_interrupt()
