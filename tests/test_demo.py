"""The main-job command `python -m nodes.demo`: tiny FLUX in code -> the pack's real nodes -> an mp4."""

import os

import numpy as np
import torch
from draw_a_video.nodes import demo
from draw_a_video.nodes.engine.video.reader import iter_frames, probe


def test_demo_draws_a_grid_and_saves_16_frames_of_320x192(pack_folders, tmp_path, capsys):
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert demo.main(["--out", str(tmp_path / "demo"), "--steps", "2", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "4x4 grid of 320x192 cells" in printed
    assert "Generate a 16-frame video arranged in a 4x4 grid" in printed
    assert "frames: 16 of 320x192" in printed and "timings:" in printed

    video = printed.split("video: ")[-1].strip()
    assert os.path.dirname(os.path.dirname(video)) == str(pack_folders["output"])  # the pack's output folder
    assert video.endswith(".mp4") and os.path.isfile(video)
    assert (pack_folders["models"] / "diffusers" / demo.TINY_FOLDER / "model_index.json").is_file()
    info = probe(video)
    assert (info.width, info.height) == (320, 192)
    frames = [frame for _, frame in iter_frames(video)]
    assert len(frames) == 16 and all(f.shape == (192, 320, 3) for f in frames)
    assert np.std(np.stack(frames).astype(np.float32)) > 1  # drawn noise, not a blank clip


def test_demo_run_returns_the_frames_it_saved(pack_folders, tmp_path):
    result = demo.run(str(tmp_path), steps=1, seed=0, log=lambda *_: None)
    assert result["frames"].shape == (16, 192, 320, 3) and result["frames"].dtype == torch.float32
    assert result["layout"].frames == 16 and set(result["timings"]) >= {"load pipeline", "save video"}


def test_demo_failure_is_a_message_and_exit_status_1(pack_folders, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the models folder should be")
    monkeypatch.setenv("DRAWAVIDEO_MODELS_DIR", str(blocker))
    assert demo.main(["--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("demo failed: ") and "Traceback" not in err
