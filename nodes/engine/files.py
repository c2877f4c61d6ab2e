"""Safe file names inside ComfyUI's folders: no escapes, no overwrites, no half-written files.

Pure functions of a base directory, so every node that reads or writes files (video,
dataset, loaders) shares one set of rules:

    folder, name, subfolder = output_target(out_dir, "DrawAVideo/%width%x%height%/clip", 320, 192)
    with staged_file(folder, "mp4") as temp:       # a hidden temp name; removed on error
        write_something(temp)
        final = publish_atomically(temp, folder, name, "mp4")   # -> .../clip_00001_.mp4

Numbered names follow ComfyUI's `<prefix>_00001_.<ext>` (counter = highest existing + 1).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Iterator

from .errors import DrawAVideoError


def resolve_inside(base_dir: str, relative: str, what: str) -> str:
    """The real path of `relative` under `base_dir`; refuses anything that leaves it.

    Absolute paths, `..` steps and symlinks that point outside are all refused, with a
    DrawAVideoError naming the input (`what`). The path need not exist yet.

    >>> resolve_inside("/out", "clips/a.mp4", "filename_prefix")   # doctest: +SKIP
    '/out/clips/a.mp4'
    """
    text = str(relative).replace("\\", "/")
    if os.path.isabs(text) or os.path.splitdrive(text)[0] or text.startswith("/") or "\0" in text:
        raise DrawAVideoError(f"{what} {relative!r} is an absolute path; give a path relative to the folder {base_dir!r}.")
    base = os.path.realpath(base_dir)
    target = os.path.realpath(os.path.join(base, text))
    if os.path.commonpath([base, target]) != base:
        raise DrawAVideoError(f"{what} {relative!r} points outside the folder {base_dir!r} (via '..' or a link); keep it inside.")
    return target


def expand_prefix(prefix: str, width: int = 0, height: int = 0, now: time.struct_time | None = None) -> str:
    """Fill ComfyUI's %width% %height% %year% %month% %day% %hour% %minute% %second% in a filename prefix."""
    if "%" not in prefix:
        return prefix
    now = now or time.localtime()
    values = {
        "width": str(width), "height": str(height), "year": str(now.tm_year), "month": f"{now.tm_mon:02}",
        "day": f"{now.tm_mday:02}", "hour": f"{now.tm_hour:02}", "minute": f"{now.tm_min:02}", "second": f"{now.tm_sec:02}",
    }
    for key, value in values.items():
        prefix = prefix.replace(f"%{key}%", value)
    return prefix


def output_target(base_dir: str, prefix: str, width: int = 0, height: int = 0, what: str = "filename_prefix") -> tuple[str, str, str]:
    """(folder, file name stem, subfolder relative to base_dir with '/') for a filename prefix.

    The folder is created. The prefix may hold subfolders ("DrawAVideo/video") and ComfyUI's
    %variables%; a prefix that leaves base_dir or has no file name is refused.
    """
    expanded = expand_prefix(str(prefix), width, height).replace("\\", "/").strip()
    subfolder, _, name = expanded.rpartition("/")
    if not name or name in (".", ".."):
        raise DrawAVideoError(f"{what} {prefix!r} has no file name part; end it with a name, e.g. 'DrawAVideo/video'.")
    folder = resolve_inside(base_dir, subfolder or ".", what)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise DrawAVideoError(f"{what} {prefix!r}: cannot create the folder {folder!r} ({exc.strerror}).") from None
    relative = os.path.relpath(folder, os.path.realpath(base_dir)).replace(os.sep, "/")
    return folder, name, "" if relative == "." else relative


def numbered_name(name: str, counter: int, extension: str) -> str:
    return f"{name}_{counter:05}_.{extension}"


def next_counter(folder: str, name: str) -> int:
    """Highest N among `<name>_N_...` files in `folder`, plus 1 (as ComfyUI's get_save_image_path counts)."""
    pattern = re.compile(re.escape(os.path.normcase(name)) + r"_(\d+)_")
    highest = 0
    try:
        entries = os.listdir(folder)
    except FileNotFoundError:
        return 1
    for entry in entries:
        match = pattern.match(os.path.normcase(entry))
        if match:
            highest = max(highest, int(match.group(1)))
    return highest + 1


def next_numbered_path(folder: str, name: str, extension: str) -> str:
    """The path the next numbered file would take (it may be taken by the time you write: see publish_atomically)."""
    return os.path.join(folder, numbered_name(name, next_counter(folder, name), extension))


def temp_path(folder: str, extension: str) -> str:
    """A hidden, unique name in `folder` (same file system, so publishing is a link, not a copy)."""
    return os.path.join(folder, f".drawavideo-{uuid.uuid4().hex[:12]}.partial.{extension}")


@contextlib.contextmanager
def staged_file(folder: str, extension: str) -> Iterator[str]:
    """Yield a hidden temp path in `folder`; whatever happens, it is gone afterwards.

    Publish it with publish_atomically() inside the block; on an error or a cancel the
    half-written file is removed and the error goes on.
    """
    path = temp_path(folder, extension)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def publish_new(temp: str, target: str) -> bool:
    """Give the finished file `temp` the name `target` if that name is free; never replaces a file.

    A hard link creates the name only if it is free (atomic, even against another process saving
    at the same moment). Where hard links are unsupported (some network or FAT drives) the name is
    reserved with O_EXCL and the file moved onto the reservation. Returns False, leaving `temp`,
    when the name is taken; on True `temp` is gone.
    """
    try:
        os.link(temp, target)
    except FileExistsError:
        return False
    except (OSError, NotImplementedError, AttributeError):  # no hard links here; a real I/O problem fails below
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        try:
            os.replace(temp, target)  # replaces only our own empty reservation
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(target)
            raise
        return True
    os.remove(temp)
    return True


def publish_atomically(temp: str, folder: str, name: str, extension: str, max_tries: int = 1000) -> str:
    """Give the finished file `temp` the next free numbered name (`name_00001_.ext`); returns it."""
    counter = next_counter(folder, name)
    for _ in range(max_tries):
        target = os.path.join(folder, numbered_name(name, counter, extension))
        if publish_new(temp, target):
            return target
        counter += 1
    raise DrawAVideoError(f"no free file name after {max_tries} tries for {name!r} in {folder!r}; choose another filename_prefix.")


def require_safetensors(path: str, what: str) -> None:
    """A model file picked in a dropdown must exist and be .safetensors (the one format read without running code)."""
    if not os.path.isfile(path):
        raise DrawAVideoError(f"{what} {path!r} does not exist; pick a file from the list, or refresh it (press R).")
    if not path.endswith(".safetensors"):
        raise DrawAVideoError(
            f"{what} {os.path.basename(path)!r} is not a .safetensors file; only .safetensors is read "
            "(pickled .ckpt/.pt/.bin files can run code, and GGUF needs its own loader)."
        )


def list_files(base_dir: str, extensions: tuple[str, ...]) -> list[str]:
    """Files under base_dir (subfolders too) with one of `extensions`, as sorted '/' paths; hidden ones skipped."""
    wanted = tuple(f".{e.lower().lstrip('.')}" for e in extensions)
    found = []
    for root, dirs, names in os.walk(base_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for entry in names:
            if not entry.startswith(".") and entry.lower().endswith(wanted):
                found.append(os.path.relpath(os.path.join(root, entry), base_dir).replace(os.sep, "/"))
    return sorted(found)
