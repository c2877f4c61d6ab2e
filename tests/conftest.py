"""Shared test set-up: the pack imported as a package, offline, with its folders in a temp dir."""

import os
import sys
from pathlib import Path

import pytest
import torch

# The tests' tensors are small: one thread beats two, by far on a busy machine.
torch.set_num_threads(1)

# Nothing may reach a model hub, in any test.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

# diffusers and transformers give their loggers a StreamHandler bound to the sys.stderr of their first
# use. Set them up now, while sys.stderr is pytest's session-wide capture: first used inside a test with
# capsys, the handler would keep that test's stream, closed afterwards, and every later warning would
# end in "--- Logging error --- ValueError: I/O operation on closed file".
from diffusers.utils import logging as _diffusers_logging  # noqa: E402
from transformers.utils import logging as _transformers_logging  # noqa: E402

_diffusers_logging.get_logger("diffusers")
_transformers_logging.get_logger("transformers")

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for dav_testkit
from dav_testkit import PACKAGE, import_pack  # noqa: E402

import_pack()


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def tiny_flux_folder(tmp_path_factory):
    """A tiny random FLUX saved as a diffusers folder once per session (link it into a test's models/diffusers)."""
    import draw_a_video.nodes.engine.flux.tiny as tiny

    folder = tmp_path_factory.mktemp("tiny_flux") / "tiny-flux"
    tiny.save_tiny_flux(str(folder))
    return folder
