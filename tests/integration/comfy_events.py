"""ComfyUI's websocket events, read with the standard library, and per-node timings from them.

Loaded by tests/integration/conftest.py (by path: pytest runs with --import-mode=importlib);
tests reach it through `comfy_server.events()` and `comfy_server.run_timed(prompt)`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

# -- ComfyUI's websocket ------------------------------------------------------------
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
END_EVENTS = ("execution_success", "execution_error", "execution_interrupted")


class EventStream:
    """ComfyUI's websocket (/ws?clientId=...) read in a thread; every JSON message is kept
    with the local time it arrived (time.monotonic()).

        events = comfy_server.events()          # started before the prompt is posted
        prompt_id = comfy_server.post_prompt(prompt)
        events.wait_for(lambda m: m.type == "progress" and m.data["node"] == "7", timeout=60)

    ComfyUI sends a prompt's events (executing, executed, execution_cached, progress, ...)
    to the client_id the prompt was posted with, so connect with the server's client_id.
    A minimal RFC 6455 client: text and binary frames, fragments, ping/pong, close.
    """

    @dataclass(frozen=True)
    class Message:
        time: float   # time.monotonic() when it arrived
        type: str
        data: dict

    def __init__(self, base_url: str, client_id: str):
        url = urllib.parse.urlparse(base_url)
        self.host, self.port = url.hostname, url.port or 80
        self.path = f"/ws?clientId={urllib.parse.quote(client_id)}"
        self.messages: list[EventStream.Message] = []
        self._changed = threading.Condition()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._buffer = b""
        self.error: BaseException | None = None

    # -- connection --------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> EventStream:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("ComfyUI closed the websocket during the handshake")
            head += chunk
        head, self._buffer = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        if " 101 " not in lines[0] + " " or headers.get("sec-websocket-accept") != accept:
            raise ConnectionError(f"websocket handshake failed: {lines[0]}")
        sock.settimeout(None)
        self._sock = sock
        self._thread = threading.Thread(target=self._read_loop, name="comfyui-websocket", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                self._send(sock, 0x8, struct.pack("!H", 1000))
            except OSError:
                pass
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- frames --------------------------------------------------------------------
    def _read(self, sock, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("websocket closed")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    @staticmethod
    def _send(sock, opcode: int, payload: bytes = b"") -> None:
        # Client frames must be masked (RFC 6455 5.3).
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        head += bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + struct.pack("!H", n) if n < 1 << 16 else bytes([0x80 | 127]) + struct.pack("!Q", n))
        sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read_loop(self) -> None:
        sock, pieces, kind = self._sock, [], None
        try:
            while True:
                b0, b1 = self._read(sock, 2)
                opcode, length = b0 & 0x0F, b1 & 0x7F
                if length == 126:
                    length = struct.unpack("!H", self._read(sock, 2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", self._read(sock, 8))[0]
                mask = self._read(sock, 4) if b1 & 0x80 else None
                payload = self._read(sock, length)
                if mask:
                    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                if opcode == 0x8:
                    return
                if opcode == 0x9:
                    self._send(sock, 0xA, payload)
                    continue
                if opcode in (0x1, 0x2):
                    kind, pieces = opcode, [payload]
                elif opcode == 0x0:
                    pieces.append(payload)
                else:
                    continue
                if b0 & 0x80 and kind == 0x1:  # binary frames are preview images: not needed here
                    self._record(b"".join(pieces))
        except (OSError, ConnectionError, ValueError) as exc:
            if self._sock is not None:
                self.error = exc
        finally:
            with self._changed:
                self._changed.notify_all()

    def _record(self, text: bytes) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        entry = EventStream.Message(time.monotonic(), message.get("type", ""), message.get("data") or {})
        with self._changed:
            self.messages.append(entry)
            self._changed.notify_all()

    # -- queries ---------------------------------------------------------------------
    def mark(self) -> int:
        """Index of the next message: pass it as `since` to look only at what comes after."""
        with self._changed:
            return len(self.messages)

    def for_prompt(self, prompt_id: str, since: int = 0) -> list[EventStream.Message]:
        with self._changed:
            return [m for m in self.messages[since:] if m.data.get("prompt_id") == prompt_id]

    def wait_for(self, predicate, timeout: float = 60.0, since: int = 0) -> EventStream.Message:
        """The first message (from index `since`) that `predicate` accepts; TimeoutError if none comes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for message in self.messages[since:]:
                    if predicate(message):
                        return message
                since = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive:
                    raise TimeoutError(f"no matching websocket message within {timeout:.0f} s"
                                       + (f" (websocket: {self.error})" if self.error else ""))
                self._changed.wait(min(left, 1.0))

    def wait_for_end(self, prompt_id: str, timeout: float = 30.0, since: int = 0) -> EventStream.Message:
        """The execution_success / _error / _interrupted message of a prompt."""
        return self.wait_for(lambda m: m.type in END_EVENTS and m.data.get("prompt_id") == prompt_id, timeout, since)


@dataclass
class PromptTimings:
    """How long a prompt and each of its nodes ran, from its websocket events.

    A node runs from its `executing` event to the next `executing` event or the prompt's end
    event (ComfyUI runs one node at a time); nodes named in `execution_cached` took 0 s.
    """

    prompt_id: str
    outcome: str                     # execution_success, execution_error or execution_interrupted
    total: float                     # execution_start -> end event, seconds
    nodes: list = field(default_factory=list)  # [{"id", "class_type", "seconds", "cached"}], in run order

    @classmethod
    def from_events(cls, prompt_id: str, messages: list, prompt: dict) -> PromptTimings:
        start = next((m.time for m in messages if m.type == "execution_start"), None)
        end = next((m for m in messages if m.type in END_EVENTS), None)
        if start is None or end is None:
            raise ValueError(f"prompt {prompt_id}: no execution_start or end event among {[m.type for m in messages]}")
        cached = next((m.data.get("nodes") or [] for m in messages if m.type == "execution_cached"), [])

        def row(nid: str) -> dict:
            return {"id": nid, "class_type": prompt.get(nid, {}).get("class_type", "?"), "seconds": 0.0, "cached": True}

        rows = {nid: row(nid) for nid in cached}
        running = [m for m in messages if m.type == "executing" and m.data.get("node") is not None and m.time <= end.time]
        for this, after in zip(running, running[1:] + [end]):
            nid = str(this.data["node"])
            ran = rows.setdefault(nid, row(nid))
            ran["cached"] = False
            ran["seconds"] += after.time - this.time
        return cls(prompt_id, end.type, end.time - start, list(rows.values()))

    def seconds_of(self, prefix: str = "DrawAVideo_") -> float:
        return sum(n["seconds"] for n in self.nodes if n["class_type"].startswith(prefix))

    def share(self, prefix: str = "DrawAVideo_") -> float:
        """Fraction of the total spent in nodes whose class starts with `prefix` (the pack's own)."""
        return self.seconds_of(prefix) / self.total if self.total > 0 else 0.0

    def as_dict(self) -> dict:
        return {"prompt_id": self.prompt_id, "outcome": self.outcome, "total_seconds": round(self.total, 3),
                "pack_seconds": round(self.seconds_of(), 3), "pack_share": round(self.share(), 4),
                "nodes": [{**n, "seconds": round(n["seconds"], 3)} for n in self.nodes]}

    def summary(self, title: str = "") -> str:
        lines = [f"{title or self.prompt_id}: {self.total:.1f} s total, Draw-a-Video nodes {self.seconds_of():.1f} s "
                 f"({100 * self.share():.1f} %) [{self.outcome}]"]
        for n in sorted(self.nodes, key=lambda n: -n["seconds"]):
            lines.append(f"  {n['seconds']:8.2f} s  #{n['id']:>3} {n['class_type']}" + ("  (cached)" if n["cached"] else ""))
        return "\n".join(lines)
