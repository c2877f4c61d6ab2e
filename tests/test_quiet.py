"""A quiet run: the demo prints its first line at once and nothing on stderr; loads warn about nothing.

What used to show on every run (issue: "noise on every run"): transformers 5.x's "`CLIPImageProcessor`
requires torchvision ... falling back" and the same for SiglipImageProcessor (from importing
diffusers' FluxPipeline), and diffusers' "modules ... that should be kept in float32: []" on every
single-file transformer load. Each is stopped where the pack triggers it (nodes/engine/flux/imports.py,
loading.load_flux_transformer), so these tests run fresh interpreters, as a user's first run is.
"""

import logging
import os
import subprocess
import sys
import textwrap

from dav_testkit import ROOT


def run_python(args, tmp_path, timeout=300):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DRAWAVIDEO_MODELS_DIR": str(tmp_path / "models"),
           "DRAWAVIDEO_OUTPUT_DIR": str(tmp_path / "output")}
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_demo_stderr_is_clean_and_its_first_line_comes_before_the_imports(tmp_path):
    done = run_python(["-m", "nodes.demo", "--out", str(tmp_path), "--steps", "1"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no warning of any library, no logging error
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Draw-a-Video demo:") and lines[1].startswith("[1/6] importing")
    assert [line[:5] for line in lines if line.startswith("[")] == [f"[{i}/6]" for i in range(1, 7)]
    assert lines[-1].startswith("video: ") and lines[-1].endswith(".mp4")


def test_nodes_package_import_is_cheap_until_the_mappings_are_asked_for(tmp_path):
    probe = "import sys, nodes; print('torch' in sys.modules); print(len(nodes.NODE_CLASS_MAPPINGS) > 0)"
    done = run_python(["-c", probe], tmp_path)
    assert done.stdout.split() == ["False", "True"], done.stderr


def test_single_file_transformer_load_and_sampling_print_nothing(tmp_path):
    script = textwrap.dedent(f"""
        import torch
        from safetensors.torch import save_file
        from nodes.engine.flux.tiny import build_tiny_flux_pipeline
        from nodes.engine.flux.loading import load_flux_pipeline
        from nodes.engine.flux.sampling import sample_grid
        from nodes.engine.layout import GridLayout

        folder = {str(tmp_path / "tiny")!r}
        pipe = build_tiny_flux_pipeline()
        pipe.save_pretrained(folder, safe_serialization=True)
        single = {str(tmp_path / "transformer.safetensors")!r}
        save_file({{k: v.contiguous() for k, v in pipe.transformer.state_dict().items()}}, single)
        for dtype in ("bf16", "fp32"):
            loaded = load_flux_pipeline(folder, single, dtype=dtype)
            assert {{p.dtype for p in loaded.transformer.parameters()}} == {{dict(bf16=torch.bfloat16, fp32=torch.float32)[dtype]}}
        sample_grid(loaded, GridLayout(2, 2, 32, 32), "a blue car driving on Mars", steps=1, seed=0)
        print("ok")
    """)
    # save_pretrained's "Writing model shards" bar is the test's own doing, not the loader's: off.
    quiet_saving = ("from diffusers.utils import logging as d; from transformers.utils import logging as t\n"
                    "d.disable_progress_bar(); t.disable_progress_bar()\n")
    done = run_python(["-c", quiet_saving + script], tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert done.stderr == ""


def test_library_log_handlers_point_at_an_open_stream():
    """diffusers and transformers bind a StreamHandler to the sys.stderr of their first use; under pytest
    that must not be a test's capture stream, closed after that test ("Logging error ... closed file")."""
    for name in ("diffusers", "transformers"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                assert not getattr(handler.stream, "closed", False), name
