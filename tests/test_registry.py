"""Ready for the Comfy Registry: what `comfy node validate` (comfy-cli) checks, plus what publishing needs.

comfy-cli's validate reads pyproject.toml (a [project] version; version specifiers of requires-comfyui in its
pattern), then runs ruff's S102 (exec), S307 (eval) and E702 (two statements on one line) over the repo.
These tests check the same things with the standard library, so CI needs neither comfy-cli nor the network;
when comfy-cli is installed (`comfy` on PATH or DRAWAVIDEO_COMFY_CLI) the real command runs too.
"""

import ast
import os
import re
import shutil
import subprocess
import sys

import pytest
from dav_testkit import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT, COMFY = PYPROJECT["project"], PYPROJECT["tool"]["comfy"]
# comfy_cli.registry.config_parser.validate_version's pattern, one part of a comma-separated list.
VERSION_PART = re.compile(r"^(?:(==|>=|<=|!=|~=|>|<|<>|=)\s*)?(\d+\.\d+\.\d+(?:-[a-zA-Z0-9]+)?)?$")


def test_project_metadata_the_registry_requires():
    name = PROJECT["name"]
    # Registry node id rules: < 100 chars; letters, digits, - _ .; no two specials in a row; starts with a letter.
    assert len(name) < 100 and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*([-_.][A-Za-z0-9]+)*", name), name
    assert re.fullmatch(r"\d+\.\d+\.\d+", PROJECT["version"]), "version must be X.Y.Z (semantic versioning)"
    assert (ROOT / PROJECT["license"]["file"]).is_file()
    assert PROJECT["urls"]["Repository"].startswith("https://github.com/")
    assert COMFY["PublisherId"] and COMFY["DisplayName"]


def test_requires_comfyui_is_a_version_comfy_cli_accepts():
    spec = COMFY["requires-comfyui"]
    assert spec and all(VERSION_PART.match(part.strip()) for part in spec.split(",")), spec
    assert "0.8.0" in spec  # the ComfyUI the pack is built and tested against


def test_icon_is_an_image_of_this_repo_within_the_registry_limits():
    from PIL import Image

    repo = PROJECT["urls"]["Repository"].removeprefix("https://github.com/")
    prefix = f"https://raw.githubusercontent.com/{repo}/main/"
    assert COMFY["Icon"].startswith(prefix), f"Icon should be a raw URL of a file in {repo}: {COMFY['Icon']}"
    path = ROOT / COMFY["Icon"].removeprefix(prefix)
    assert path.is_file(), f"{path} is not in the repo"
    with Image.open(path) as icon:
        assert icon.format in ("PNG", "JPEG", "GIF")
        assert icon.width <= 400 and icon.height <= 400 and icon.width == icon.height, icon.size
        colours = icon.convert("RGB").getcolors(maxcolors=1_000_000)
        assert len(colours) > 16, "the icon is (nearly) blank"


def _python_files():
    for path in ROOT.rglob("*.py"):
        if not {"node_modules", ".git", "__pycache__"} & set(path.parts):
            yield path


def test_no_exec_eval_or_two_statements_on_one_line():
    """What validate's ruff run flags (S102, S307, E702): soon errors on the registry."""
    problems = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval"):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.func.id}()")
            for field in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    lines = [s.lineno for s in block if isinstance(s, ast.stmt)]
                    problems += [f"{path.relative_to(ROOT)}:{a}: two statements on one line" for a, b in zip(lines, lines[1:]) if a == b]
    assert not problems, "\n".join(problems)


def test_comfyignore_keeps_tests_benchmarks_and_artifacts_out_and_the_product_in():
    patterns = [line.strip() for line in (ROOT / ".comfyignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    for kept_out in ("tests/", "benchmarks/", "tests/integration/artifacts/", ".github/"):
        assert kept_out in patterns, f".comfyignore does not exclude {kept_out}"
    for shipped in ("js", "nodes", "locales", "workflows", "__init__.py", "pyproject.toml", "requirements.txt", "README.md", "LICENSE"):
        assert (ROOT / shipped).exists()
        assert not any(p.rstrip("/").lstrip("/") == shipped or p.lstrip("/").startswith(shipped + "/") for p in patterns), shipped


def test_publish_workflow_uses_the_registry_action():
    text = (ROOT / ".github" / "workflows" / "publish.yml").read_text()
    assert "uses: Comfy-Org/publish-node-action@" in text
    assert "personal_access_token: ${{ secrets.REGISTRY_ACCESS_TOKEN }}" in text
    assert re.search(r"paths:\s*\n\s*- \"pyproject.toml\"", text), "publish when pyproject.toml (the version) changes"


COMFY_CLI = os.environ.get("DRAWAVIDEO_COMFY_CLI") or shutil.which("comfy")


@pytest.mark.skipif(COMFY_CLI is None, reason="comfy-cli is not installed (pip install comfy-cli; or set DRAWAVIDEO_COMFY_CLI)")
def test_comfy_node_validate_passes():
    result = subprocess.run([COMFY_CLI, "--skip-prompt", "node", "validate"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "All validation checks passed" in output and "Warning" not in output and "Security warnings" not in output, output
