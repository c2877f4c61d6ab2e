"""Every benchmark shares one command line: `--help` answers at once (before torch is imported) and
lists `--quick`; the targets are printed as met or missed and a missed target still exits 0.

The benchmarks' runs themselves are measurements, not tests: `python -m benchmarks.<name> --quick`.
"""

import subprocess
import sys

import pytest
from dav_testkit import ROOT

BENCHMARKS = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem not in ("__init__", "common"))


def test_the_benchmarks_are_found():
    assert {"grid_split", "dataset_build", "registration_accuracy", "diffusers_step", "video_write"} <= set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_help_lists_quick_and_imports_nothing_heavy(name):
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", f"benchmarks.{name}", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"python -m benchmarks.{name}" in done.stdout and "--quick" in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"torch", "numpy", "diffusers", "imageio_ffmpeg"}, f"--help imported {imported & {'torch', 'numpy'}}"


def test_a_missed_target_is_reported_and_exits_zero_a_crash_exits_one(capsys):
    from benchmarks.common import Targets, run

    def missed(_args):
        targets = Targets()
        targets.check("speed", "0.5x", ">= 1x", False)
        targets.check("memory", "1 MB", "<= 2 MB", True)
        targets.report()

    def crashed(_args):
        raise RuntimeError("boom")

    assert run(missed, None) == 0
    out = capsys.readouterr().out
    assert "MISSED  speed: 0.5x (target >= 1x)" in out and "met     memory: 1 MB (target <= 2 MB)" in out
    assert run(crashed, None) == 1
    assert "boom" in capsys.readouterr().err
