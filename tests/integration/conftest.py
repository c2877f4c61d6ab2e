"""Integration tests against a real ComfyUI server, started once per session.

Set COMFYUI_DIR to a ComfyUI source checkout (with its requirements installed)
to run them; without it every test in this folder is reported as SKIPPED.

Environment:
    COMFYUI_DIR              ComfyUI checkout (folder holding main.py). Required.
    COMFYUI_PYTHON           interpreter that runs ComfyUI (default: this one).
    DRAWAVIDEO_TEST_CACHE    where the tiny model files are kept between runs
                             (default ~/.cache/draw-a-video-tests).
    COMFYUI_START_TIMEOUT    seconds to wait for the server (default 300).
    DRAWAVIDEO_FRONTEND_ROOT frontend the session server serves (--front-end-root: the `static`
                             folder of a comfyui-frontend-package, e.g. one installed with
                             `pip install --target /work/fe158 comfyui-frontend-package==1.58.1`);
                             default: the frontend bundled with ComfyUI (1.35.9 for 0.8.0).
    DRAWAVIDEO_FRONTEND_ROOTS more frontends for the browser matrix of test_frontend.py, separated
                             by os.pathsep; each gets a server of its own (comfy_server_for).
    COMFYUI_CACHE_LRU        ComfyUI's --cache-lru size (default 150; 0 = ComfyUI's classic cache).
                             With LRU a node result (e.g. a T5 prompt encode) survives the
                             prompts in between that don't use it, so tests that repeat a text
                             encode it once per session.
    COMFYUI_EXTRA_ARGS       more ComfyUI arguments, split like a shell line, e.g.
                             "--preview-method latent2rgb" (the live player's browser check).

The server runs with --cpu on 127.0.0.1 and a free port, loads this repo as
custom_nodes/ComfyUI-Draw-a-Video (a symlink in a temp folder) next to the test-only
extension comfy_fixture/ (it makes the weights the tiny T5 file leaves out exact zeros,
see tiny_models.py), finds the tiny models through an extra_model_paths yaml, and writes output, input, temp and
user files to temp folders. The yaml also lists the server's output/loras as a
`loras` folder (OUTPUT_MODEL_FOLDERS), so a LoRA that SaveLoRA writes there is a
choice of LoraLoaderModelOnly in the same session (ComfyUI rescans a model folder
when its mtime changes, no refresh needed). Its stdout and stderr go to `comfy_server.log_path`.
HTTP goes through urllib only, and `comfy_server.events()` reads ComfyUI's
websocket with a small client built on the socket module (EventStream), so the
test interpreter needs nothing extra.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest
from dav_testkit import load_by_path  # tests/ is on sys.path: tests/conftest.py puts it there

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]          # the pack itself: it holds __init__.py
PACK_FOLDER_NAME = "ComfyUI-Draw-a-Video"
FIXTURE_EXTENSION = "draw_a_video_test_fixture"  # comfy_fixture/, linked next to the pack
MODEL_FOLDERS = ("diffusion_models", "text_encoders", "clip", "vae", "loras", "checkpoints", "diffusers")
# ComfyUI model folder -> sub-folder of the server's output folder that is searched too (SaveLoRA's
# "loras/..." prefix writes there): what a workflow trains, a later prompt can load by file name.
OUTPUT_MODEL_FOLDERS = {"loras": "loras"}
# Folder overrides the unit tests set for the pack; inside ComfyUI the pack must use ComfyUI's folders.
_PACK_FOLDER_ENV = ("DRAWAVIDEO_OUTPUT_DIR", "DRAWAVIDEO_INPUT_DIR", "DRAWAVIDEO_MODELS_DIR", "DRAWAVIDEO_TEMP_DIR")


def _load_local(module: str):
    """A helper module of this folder, imported by path (see dav_testkit.load_by_path)."""
    return load_by_path(HERE / f"{module}.py", f"draw_a_video_it_{module}")


_events_module = _load_local("comfy_events")
EventStream, PromptTimings = _events_module.EventStream, _events_module.PromptTimings
media_check = _load_local("media_check")
frontend_label = _load_local("frontends").frontend_label


def pytest_collection_modifyitems(config, items):
    if os.environ.get("COMFYUI_DIR"):
        return
    skip = pytest.mark.skip(reason="COMFYUI_DIR is not set (point it at a ComfyUI checkout to run integration tests)")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)


class PromptError(AssertionError):
    """A prompt that ComfyUI rejected or that failed while running."""


@dataclass
class ComfyServer:
    """A running ComfyUI server and small helpers for its HTTP API."""

    base_url: str
    process: subprocess.Popen
    output_dir: Path
    input_dir: Path
    temp_dir: Path
    log_path: Path
    models_dir: Path
    models: dict                      # tiny model file names by role (see tiny_models.MODEL_FILES)
    client_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    start_seconds: float = 0.0        # how long the server took to answer /object_info
    frontend: str = "bundled"         # "bundled" or the frontend package version it serves
    _events: EventStream | None = field(default=None, repr=False)
    # comfy/lora.py warns "lora key not loaded: <key>" for every key it cannot map; the weight adapter logs
    # "ERROR lora <key> ..." when a patch fails to apply (e.g. a shape mismatch).
    BAD_LORA_LINE: ClassVar[re.Pattern] = re.compile(r"lora key not loaded|ERROR lora|SHAPE MISMATCH", re.IGNORECASE)

    # -- raw HTTP ----------------------------------------------------------------
    def request(self, path: str, data=None, timeout: float = 60.0) -> bytes:
        """GET `path`, or POST it as JSON when `data` is given; return the body."""
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(self.base_url + path, data=body,
                                     headers={"Content-Type": "application/json"} if body else {})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()

    def get_json(self, path: str, timeout: float = 60.0):
        return json.loads(self.request(path, timeout=timeout))

    # -- API ------------------------------------------------------------------------
    def object_info(self, node_class: str | None = None) -> dict:
        path = "/object_info" + (f"/{urllib.parse.quote(node_class)}" if node_class else "")
        return self.get_json(path)

    def post_prompt(self, prompt: dict):
        """Queue an API-format prompt. Returns its prompt_id (str) or, if
        ComfyUI rejects it (HTTP 400, validation), the error JSON (dict)."""
        try:
            answer = json.loads(self.request("/prompt", {"prompt": prompt, "client_id": self.client_id}))
        except urllib.error.HTTPError as err:
            payload = err.read()
            try:
                return json.loads(payload)
            except ValueError:
                return {"error": {"type": "http_error", "message": f"HTTP {err.code}", "details": payload.decode(errors="replace")}}
        return answer["prompt_id"]

    def wait(self, prompt_id: str, timeout: float = 600.0, poll: float = 0.5) -> dict:
        """Poll /history/<id> until the prompt has finished; return its history entry
        ({"prompt", "outputs", "status", "meta"}). status["status_str"] is
        "success" or "error". Raises TimeoutError (after interrupting) on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PromptError(f"ComfyUI exited (code {self.process.returncode}) while running {prompt_id}\n{self.log_tail()}")
            try:
                entry = self.get_json(f"/history/{prompt_id}").get(prompt_id)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                entry = None  # busy or exiting; the next turn tells which
            if entry:  # ComfyUI records history only once a prompt has finished
                return entry
            time.sleep(poll)
        self.interrupt()
        raise TimeoutError(f"prompt {prompt_id} did not finish within {timeout} s\n{self.log_tail()}")

    def _queue(self, prompt: dict) -> str:
        """post_prompt; raises PromptError if ComfyUI rejects the prompt."""
        prompt_id = self.post_prompt(prompt)
        if not isinstance(prompt_id, str):
            raise PromptError(f"prompt rejected: {json.dumps(prompt_id, indent=1)}")
        return prompt_id

    def _check_success(self, entry: dict) -> dict:
        """The history entry, if its prompt succeeded; else raises PromptError (with the log's tail)."""
        if entry["status"].get("status_str") != "success":
            raise PromptError(f"prompt failed: {json.dumps(entry['status'], indent=1)}\n{self.log_tail()}")
        return entry

    def run(self, prompt: dict, timeout: float = 600.0) -> dict:
        """post_prompt + wait; raises PromptError if it is rejected or fails."""
        return self._check_success(self.wait(self._queue(prompt), timeout))

    def view(self, filename: str, subfolder: str = "", type: str = "output") -> bytes:
        query = urllib.parse.urlencode({"filename": filename, "subfolder": subfolder, "type": type})
        return self.request(f"/view?{query}")

    def interrupt(self) -> None:
        self.request("/interrupt", {})

    def free(self, unload_models: bool = True) -> None:
        """Ask ComfyUI to drop loaded models and cached memory."""
        self.request("/free", {"unload_models": unload_models, "free_memory": True})

    # -- websocket, timings, uploads -------------------------------------------------
    def events(self) -> EventStream:
        """The session's websocket listener (started on first use) for this client_id's events."""
        if self._events is None or not self._events.alive:
            self._events = EventStream(self.base_url, self.client_id).start()
        return self._events

    def run_timed(self, prompt: dict, timeout: float = 600.0, check: bool = True) -> tuple[dict, PromptTimings]:
        """Like run() (check=False: don't raise on a failed prompt), plus per-node times from the websocket."""
        events = self.events()
        since = events.mark()
        prompt_id = self._queue(prompt)
        entry = self.wait(prompt_id, timeout)
        # ComfyUI files the history entry before its last websocket messages may have arrived.
        events.wait_for_end(prompt_id, timeout=60, since=since)
        timings = PromptTimings.from_events(prompt_id, events.for_prompt(prompt_id, since), prompt)
        if check:
            self._check_success(entry)
        return entry, timings

    def upload(self, data: bytes, name: str, subfolder: str = "", overwrite: bool = True) -> str:
        """Put a file in ComfyUI's input folder through POST /upload/image (it takes any file:
        images, videos, ...). Returns the name a loader input takes ("sub/name")."""
        boundary = uuid.uuid4().hex
        fields = [("subfolder", subfolder), ("type", "input"), ("overwrite", "true" if overwrite else "false")]
        body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode() for k, v in fields)
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        req = urllib.request.Request(self.base_url + "/upload/image", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            answer = json.loads(resp.read())
        return f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") else answer["name"]

    def fetch_media(self, item: dict, into: Path):
        """Download one output entry ({"filename", "subfolder", "type"}, as history lists it)
        through /view into the folder `into` and decode it: media_check.Media(frames, width, height, path)."""
        into.mkdir(parents=True, exist_ok=True)
        path = into / f"{item.get('subfolder', '').replace('/', '_')}_{item['filename']}".lstrip("_")
        path.write_bytes(self.view(item["filename"], item.get("subfolder", ""), item.get("type", "output")))
        return media_check.probe(path)

    @staticmethod
    def probe(path: Path):
        """Decode a local image or video file: media_check.Media(frames, width, height, path)."""
        return media_check.probe(path)

    def history_messages(self, entry: dict, kind: str) -> list[dict]:
        """The data of every `kind` message (e.g. "execution_error") in a history entry's status."""
        return [data for name, data in entry["status"].get("messages", []) if name == kind]

    def log_text(self, since: int = 0) -> str:
        """The server's log so far; `since` is a character offset, e.g. a
        len(log_text()) taken before a prompt, to read only what came after."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[since:]

    def lora_problems(self, log: str) -> list[str]:
        """The lines of `log` (a log_text() segment) where ComfyUI could not map or apply a LoRA key."""
        return [line for line in log.splitlines() if self.BAD_LORA_LINE.search(line)]

    def log_tail(self, chars: int = 6000) -> str:
        return "----- ComfyUI log (tail) -----\n" + self.log_text()[-chars:]


# Tiny diffusers FLUX (nodes/engine/flux/tiny.py) for the pack's diffusers nodes, and a LoRA that fits it.
TINY_DIFFUSERS_FOLDER = "tiny-flux-diffusers"
TINY_DIFFUSERS_LORA = "tiny_flux_diffusers_lora.safetensors"
TINY_DIFFUSERS_VERSION = "1"


def _ensure_tiny_diffusers(cache: Path) -> dict[str, str]:
    """Write <cache>/diffusers/tiny-flux-diffusers (a diffusers FLUX.1 folder with random weights) and
    <cache>/loras/tiny_flux_diffusers_lora.safetensors (peft keys for its first double block), unless
    current copies are there. Roles: "diffusers" (model_folder) and "diffusers_lora" (lora_name)."""
    folder = cache / "diffusers" / TINY_DIFFUSERS_FOLDER
    stamp = folder / ".draw_a_video_tests_version"
    lora = cache / "loras" / TINY_DIFFUSERS_LORA
    names = {"diffusers": TINY_DIFFUSERS_FOLDER, "diffusers_lora": TINY_DIFFUSERS_LORA}
    if stamp.is_file() and stamp.read_text().strip() == TINY_DIFFUSERS_VERSION and lora.is_file():
        return names
    import torch
    from draw_a_video.nodes.engine.flux.tiny import build_tiny_flux_pipeline  # the pack, imported by tests/conftest.py
    from safetensors.torch import save_file

    pipe = build_tiny_flux_pipeline(seed=0)
    staging = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    pipe.save_pretrained(str(staging), safe_serialization=True)
    (staging / stamp.name).write_text(TINY_DIFFUSERS_VERSION)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)

    gen = torch.Generator().manual_seed(1007)
    tensors = {}
    for name, module in pipe.transformer.named_modules():
        if isinstance(module, torch.nn.Linear) and name.startswith("transformer_blocks.0."):
            tensors[f"transformer.{name}.lora_A.weight"] = torch.randn(2, module.in_features, generator=gen) * 0.5
            tensors[f"transformer.{name}.lora_B.weight"] = torch.randn(module.out_features, 2, generator=gen) * 0.5
    lora.parent.mkdir(parents=True, exist_ok=True)
    partial = lora.with_name(f".{lora.name}.{os.getpid()}.tmp")
    save_file(tensors, str(partial), metadata={"format": "pt", "description": "Draw-a-Video test LoRA for the tiny diffusers FLUX"})
    os.replace(partial, lora)
    return names


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_extra_model_paths(path: Path, custom_nodes: Path, cache: Path, output: Path) -> None:
    lines = ["draw_a_video_tests:", f"  custom_nodes: {json.dumps(str(custom_nodes))}"]
    lines += [f"  {folder}: {json.dumps(str(cache / folder))}" for folder in MODEL_FOLDERS]
    # The output folders in a second section: one key per section, and the cache folders stay first.
    lines += ["draw_a_video_tests_output:"]
    lines += [f"  {folder}: {json.dumps(str(output / sub))}" for folder, sub in OUTPUT_MODEL_FOLDERS.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


@contextlib.contextmanager
def running_comfy_server(tmp_path_factory, front_end_root: str | None = None):
    """A ComfyUI server with the pack, the tiny models and temp folders; serving `front_end_root` if given."""
    comfy_dir = Path(os.environ["COMFYUI_DIR"]).expanduser().resolve()
    if not (comfy_dir / "main.py").is_file():
        pytest.fail(f"COMFYUI_DIR={comfy_dir} has no main.py")
    python = os.environ.get("COMFYUI_PYTHON") or sys.executable
    start_timeout = float(os.environ.get("COMFYUI_START_TIMEOUT", "300"))
    cache_lru = int(os.environ.get("COMFYUI_CACHE_LRU", "150"))

    cache = Path(os.environ.get("DRAWAVIDEO_TEST_CACHE") or "~/.cache/draw-a-video-tests").expanduser()
    models = _load_local("tiny_models").ensure_tiny_models(cache)
    for folder in MODEL_FOLDERS:
        (cache / folder).mkdir(parents=True, exist_ok=True)
    models.update(_ensure_tiny_diffusers(cache))

    root = tmp_path_factory.mktemp("comfyui")
    dirs = {name: root / name for name in ("custom_nodes", "output", "input", "temp", "user")}
    for d in dirs.values():
        d.mkdir()
    (dirs["custom_nodes"] / PACK_FOLDER_NAME).symlink_to(REPO_ROOT, target_is_directory=True)
    # Test-only: the tiny T5's left-out weights become exact zeros, not reused memory (tiny_models.py).
    (dirs["custom_nodes"] / FIXTURE_EXTENSION).symlink_to(HERE / "comfy_fixture", target_is_directory=True)
    extra_paths = root / "extra_model_paths.yaml"
    _write_extra_model_paths(extra_paths, dirs["custom_nodes"], cache, output=dirs["output"])
    log_path = root / "comfyui.log"

    port = _free_port()
    cmd = [python, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
           "--extra-model-paths-config", str(extra_paths),
           "--output-directory", str(dirs["output"]), "--input-directory", str(dirs["input"]),
           "--temp-directory", str(dirs["temp"]), "--user-directory", str(dirs["user"]),
           "--database-url", "sqlite:///:memory:"]
    if cache_lru > 0:
        cmd += ["--cache-lru", str(cache_lru)]
    if front_end_root:
        static = Path(front_end_root).expanduser().resolve()
        if not (static / "index.html").is_file():
            pytest.fail(f"--front-end-root {static} holds no index.html (give the package's `static` folder)")
        cmd += ["--front-end-root", str(static)]
    cmd += shlex.split(os.environ.get("COMFYUI_EXTRA_ARGS", ""))
    env = {k: v for k, v in os.environ.items() if k not in _PACK_FOLDER_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")

    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, cwd=comfy_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = ComfyServer(base_url=f"http://127.0.0.1:{port}", process=process,
                         output_dir=dirs["output"], input_dir=dirs["input"], temp_dir=dirs["temp"],
                         log_path=log_path, models_dir=cache, models=models)
    try:
        started = time.monotonic()
        while True:
            if process.poll() is not None:
                pytest.fail(f"ComfyUI exited with code {process.returncode} during start-up\n{server.log_tail()}")
            try:
                server.get_json("/object_info", timeout=30)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            if time.monotonic() - started > start_timeout:
                pytest.fail(f"ComfyUI did not answer /object_info within {start_timeout:.0f} s\n{server.log_tail()}")
            time.sleep(0.5)
        server.start_seconds = time.monotonic() - started
        server.frontend = frontend_label(front_end_root)
        print(f"\nComfyUI up at {server.base_url} in {server.start_seconds:.1f} s (frontend: {server.frontend}); log: {log_path}")
        yield server
    finally:
        if server._events is not None:
            server._events.close()
        _stop(process)


@pytest.fixture(scope="session")
def comfy_server_for(tmp_path_factory):
    """comfy_server_for(front_end_root) -> a server serving that frontend (None: ComfyUI's bundled one),
    started on first use and kept for the session."""
    servers: dict[str, ComfyServer] = {}
    with contextlib.ExitStack() as stack:

        def get(front_end_root: str | None = None) -> ComfyServer:
            key = str(Path(front_end_root).expanduser().resolve()) if front_end_root else ""
            if key not in servers:
                servers[key] = stack.enter_context(running_comfy_server(tmp_path_factory, front_end_root))
            return servers[key]

        yield get


@pytest.fixture(scope="session")
def comfy_server(comfy_server_for):
    """The session's server: DRAWAVIDEO_FRONTEND_ROOT's frontend, else ComfyUI's bundled one."""
    return comfy_server_for(os.environ.get("DRAWAVIDEO_FRONTEND_ROOT") or None)
