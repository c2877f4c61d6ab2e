"""manifest.jsonl of a grid dataset: where every grid came from, every skip and every video's problem.

One JSON object a line, appended as the build goes and read back when it resumes:

    {"grid": "clip_g0000", "image": "clip_g0000.png", "text": "clip_g0000.txt", "source": "clip.mp4", ...}
    {"grid": "clip_g0001", "skipped": "cut at frame 98", "source": "clip.mp4", "first_frame": 160, ...}
    {"video": "broken.mp4", "unreadable": "..."}
"""

from __future__ import annotations

import json
import os


class Manifest:
    """manifest.jsonl, appended as the build goes and read back on resume. One JSON object a line:
    a grid written (has "image"), a grid skipped (has "skipped": the reason) or a video's problem
    (has "video" plus "too_short", "unreadable" or "damaged"). No line is written twice."""

    def __init__(self, path: str):
        self.path, self.records, self._notes = path, {}, set()
        self._ends_clean = True
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self._ends_clean = text == "" or text.endswith("\n")
            for line in text.splitlines():
                try:
                    record = json.loads(line)
                    if "image" in record:
                        self.records[record["grid"]] = record
                    else:
                        self._notes.add(self._note_key(record))
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a line cut short by a crash: its grid gets a fresh line

    @staticmethod
    def _note_key(record: dict) -> str:
        return json.dumps(record, sort_keys=True, ensure_ascii=False)

    def _append(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(("" if self._ends_clean else "\n") + json.dumps(record, ensure_ascii=False) + "\n")
        self._ends_clean = True

    def add(self, record: dict) -> None:
        if record["grid"] not in self.records:
            self._append(record)
            self.records[record["grid"]] = record

    def note(self, record: dict) -> None:
        """A skipped grid or a video's problem, once per distinct line."""
        key = self._note_key(record)
        if key not in self._notes:
            self._append(record)
            self._notes.add(key)
