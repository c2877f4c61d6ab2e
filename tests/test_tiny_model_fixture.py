"""The tiny-model fixture's zeroing of left-out weights (the cause of issue 12's NaN LoRA).

ComfyUI leaves every weight a model file does not hold as `torch.empty` memory. The tiny T5-XXL file
holds only T5's small tensors, so 169 weights of 32-251 MiB are left like that; a reused heap block
makes them garbage and the T5 output NaN. tests/integration/tiny_models.py points them at fresh zero
pages instead (zero_unwritten, installed into the integration server by comfy_fixture/).

That a reused block does hold old NaNs depends on the allocator and on what the process did before;
tests/integration/test_nan_cause.py shows it with ComfyUI's own loaders. Here: that the fix is exact.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch
from dav_testkit import load_by_path

tiny_models = load_by_path(Path(__file__).parent / "integration" / "tiny_models.py", "tiny_models_under_test")

T5_ATTENTION = (4096, 4096)  # a T5-XXL q/k/v/o weight: 32 MiB in fp16, the size that can come from a reused block


def _in_worker_thread(fn):
    """Run fn in a thread, as ComfyUI runs a prompt (its own malloc arena); return its result."""
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("out", fn()))
    worker.start()
    worker.join()
    return box["out"]


def _free_nan_blocks(pins: list) -> None:
    """Leave 48 MiB holes of NaN-filled memory in the heap, as earlier work in a session does."""
    block = torch.empty(int(31.9 * 2**20) // 4)  # mmapped; freeing it raises glibc's mmap threshold to ~32 MiB
    del block
    blocks = []
    for i in range(20):  # 8 did not leave a hole glibc reuses; 16 did, every time
        blocks.append(torch.empty(6 * 2**20).fill_(float("nan")))  # 24 MiB each, now from the heap
        if i % 2 == 1:
            pins.append(torch.empty(2**16))
    del blocks


def test_zero_pages_are_exact_zeros_even_after_the_heap_held_nans():
    def run():
        pins = []
        _free_nan_blocks(pins)
        return [tiny_models.zero_pages(T5_ATTENTION, dtype) for dtype in (torch.float16, torch.bfloat16, torch.float32)]

    for tensor in _in_worker_thread(run):
        assert tensor.shape == T5_ATTENTION and int(torch.count_nonzero(tensor)) == 0
    tensor.add_(1.5)  # writable like any weight
    assert bool((tensor == 1.5).all())  # each element, not a float32 sum of 16M of them
    assert tiny_models.zero_pages((0, 3), torch.float16).shape == (0, 3)


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").is_file(), reason="reads Linux's /proc/self/statm")
def test_zero_pages_cost_no_memory_while_only_read():
    """The tiny T5's 9.3 GB of left-out weights are read on every encode: they must stay the kernel's zero page."""
    before = _resident_mb()
    tensor = tiny_models.zero_pages((64, 2**20), torch.float32)  # 256 MiB
    assert float(tensor.sum()) == 0.0  # every page read
    assert _resident_mb() - before < 32


class TwoLayers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(8, 8, bias=False)
        self.b = torch.nn.Linear(8, 4)
        self.register_buffer("scale", torch.full((4,), float("nan")))
        self.register_buffer("steps", torch.tensor([7]))  # not floating: left alone
        for p in self.parameters():
            p.data.fill_(float("nan"))  # what an unwritten weight may hold


def test_zero_unwritten_zeroes_exactly_what_the_load_left_out():
    model = TwoLayers()
    stored = {"a.weight": torch.randn(8, 8), "b.bias": torch.randn(4)}
    missing = model.load_state_dict(stored, strict=False).missing_keys
    assert sorted(missing) == ["b.weight", "scale", "steps"]
    assert tiny_models.zero_unwritten(model, missing) == 2
    assert torch.equal(model.a.weight, stored["a.weight"]) and torch.equal(model.b.bias, stored["b.bias"])
    assert int(torch.count_nonzero(model.b.weight)) == 0 and int(torch.count_nonzero(model.scale)) == 0
    assert isinstance(model.b.weight, torch.nn.Parameter) and model.steps.item() == 7
    assert torch.equal(model.b(model.a(torch.randn(2, 8))), stored["b.bias"].expand(2, 4))


def test_install_wraps_comfyuis_text_encoder_load_once():
    class SDClipModel:  # the shape of comfy.sd1_clip.SDClipModel's load
        def __init__(self):
            self.transformer = TwoLayers()

        def load_sd(self, sd):
            return self.transformer.load_state_dict(sd, strict=False)

    sd1_clip = type("sd1_clip", (), {"SDClipModel": SDClipModel})
    assert tiny_models.install_zeroed_text_encoder_weights(sd1_clip) is True
    assert tiny_models.install_zeroed_text_encoder_weights(sd1_clip) is False
    encoder = SDClipModel()
    result = encoder.load_sd({"a.weight": torch.ones(8, 8), "b.bias": torch.ones(4)})
    assert sorted(result.missing_keys) == ["b.weight", "scale", "steps"]  # ComfyUI still sees (and logs) them
    assert int(torch.count_nonzero(encoder.transformer.b.weight)) == 0
    assert torch.isfinite(encoder.transformer.b(torch.ones(1, 8))).all()
