"""Safe output paths: no escape from the base folder, numbered names, atomic publish without overwrite."""

import os
import time

import pytest
from draw_a_video.nodes.engine import files
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.files import (
    expand_prefix,
    list_files,
    next_counter,
    next_numbered_path,
    output_target,
    publish_atomically,
    resolve_inside,
    staged_file,
)


@pytest.fixture
def work(tmp_path):
    """An empty folder of its own (tmp_path also holds the pack's output/input/models folders)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


def _finished(folder, content=b"video"):
    """A finished temp file, as a writer leaves it before publishing."""
    path = files.temp_path(str(folder), "mp4")
    with open(path, "wb") as handle:
        handle.write(content)
    return path


# -- resolve_inside ------------------------------------------------------------

def test_resolve_inside_accepts_nested_and_new_paths(tmp_path):
    assert resolve_inside(str(tmp_path), "a/b/c.mp4", "video") == os.path.join(os.path.realpath(tmp_path), "a", "b", "c.mp4")
    assert resolve_inside(str(tmp_path), "a/../b.mp4", "video") == os.path.join(os.path.realpath(tmp_path), "b.mp4")


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "../../etc/passwd", "/etc/passwd", "/tmp/x", "\\\\server\\share\\x", "a/\0b"])
def test_resolve_inside_refuses_escapes_and_names_the_input(tmp_path, relative):
    base = tmp_path / "base"
    base.mkdir()
    with pytest.raises(DrawAVideoError, match="filename_prefix"):
        resolve_inside(str(base), relative, "filename_prefix")


def test_resolve_inside_refuses_a_symlink_that_points_out(tmp_path):
    base, outside = tmp_path / "base", tmp_path / "outside"
    base.mkdir()
    outside.mkdir()
    os.symlink(outside, base / "link")
    with pytest.raises(DrawAVideoError, match="outside"):
        resolve_inside(str(base), "link/x.mp4", "video")
    os.symlink(base / "real", base / "inner")  # a link that stays inside is fine
    assert resolve_inside(str(base), "inner/x.mp4", "video") == os.path.join(os.path.realpath(base), "real", "x.mp4")


# -- prefixes and numbering --------------------------------------------------------

def test_expand_prefix_fills_comfyui_variables():
    now = time.struct_time((2025, 3, 7, 9, 5, 2, 0, 66, -1))
    got = expand_prefix("v/%year%-%month%-%day%_%hour%%minute%%second%_%width%x%height%", 320, 192, now)
    assert got == "v/2025-03-07_090502_320x192"
    assert expand_prefix("plain", 1, 2) == "plain"


def test_output_target_creates_the_subfolder_and_reports_it_with_slashes(work):
    folder, name, subfolder = output_target(str(work), "DrawAVideo/%width%x%height%/clip", 320, 192)
    assert (name, subfolder) == ("clip", "DrawAVideo/320x192")
    assert os.path.isdir(folder) and folder == os.path.join(os.path.realpath(work), "DrawAVideo", "320x192")
    assert output_target(str(work), "clip")[2] == ""
    assert output_target(str(work), "a\\b\\clip")[1:] == ("clip", "a/b")


@pytest.mark.parametrize("prefix", ["", "DrawAVideo/", "a/..", "."])
def test_output_target_refuses_a_prefix_without_a_name(tmp_path, prefix):
    with pytest.raises(DrawAVideoError, match="filename_prefix"):
        output_target(str(tmp_path), prefix)


@pytest.mark.parametrize("prefix", ["../x", "/abs/x", "a/../../x", "%width%/../../x"])
def test_output_target_refuses_escaping_prefixes(work, prefix):
    base = work / "out"
    base.mkdir()
    with pytest.raises(DrawAVideoError, match="filename_prefix"):
        output_target(str(base), prefix, 1, 1)
    assert sorted(p.name for p in work.iterdir()) == ["out"]  # nothing created outside


def test_next_counter_is_highest_existing_plus_one(work):
    assert next_counter(str(work), "clip") == 1
    assert next_counter(str(work / "missing"), "clip") == 1
    for name in ["clip_00001_.mp4", "clip_00007_.gif", "clip_00003_.png", "clipper_00050_.mp4", "other_00099_.mp4", "clip_12.mp4", ".clip_00500_.mp4"]:
        (work / name).write_bytes(b"")
    assert next_counter(str(work), "clip") == 8
    assert next_numbered_path(str(work), "clip", "webm") == str(work / "clip_00008_.webm")


# -- publishing ---------------------------------------------------------------------

def test_publish_numbers_up_and_never_overwrites(work):
    existing = work / "clip_00001_.mp4"
    existing.write_bytes(b"user's file")
    first = publish_atomically(_finished(work, b"one"), str(work), "clip", "mp4")
    second = publish_atomically(_finished(work, b"two"), str(work), "clip", "mp4")
    assert (os.path.basename(first), os.path.basename(second)) == ("clip_00002_.mp4", "clip_00003_.mp4")
    assert existing.read_bytes() == b"user's file"
    assert open(first, "rb").read() == b"one" and open(second, "rb").read() == b"two"
    assert sorted(p.name for p in work.iterdir()) == ["clip_00001_.mp4", "clip_00002_.mp4", "clip_00003_.mp4"]


def test_publish_skips_a_name_taken_after_counting(work, monkeypatch):
    """Another save grabbed the number between counting and linking: take the next one."""
    (work / "clip_00001_.mp4").write_bytes(b"raced")
    monkeypatch.setattr(files, "next_counter", lambda folder, name: 1)
    path = publish_atomically(_finished(work, b"mine"), str(work), "clip", "mp4")
    assert os.path.basename(path) == "clip_00002_.mp4"
    assert (work / "clip_00001_.mp4").read_bytes() == b"raced"


@pytest.mark.parametrize("error", [PermissionError(1, "Operation not permitted"), OSError(95, "Operation not supported")])
def test_publish_without_hard_links_still_never_overwrites(work, monkeypatch, error):
    def no_links(src, dst):
        raise error

    monkeypatch.setattr(files.os, "link", no_links)
    monkeypatch.setattr(files, "next_counter", lambda folder, name: 1)
    (work / "clip_00001_.mp4").write_bytes(b"raced")
    path = publish_atomically(_finished(work, b"mine"), str(work), "clip", "mp4")
    assert os.path.basename(path) == "clip_00002_.mp4" and open(path, "rb").read() == b"mine"
    assert (work / "clip_00001_.mp4").read_bytes() == b"raced"
    assert sorted(p.name for p in work.iterdir()) == ["clip_00001_.mp4", "clip_00002_.mp4"]


def test_staged_file_removes_the_temp_on_error_and_after_publish(work):
    with pytest.raises(RuntimeError):
        with staged_file(str(work), "mp4") as temp:
            open(temp, "wb").write(b"half")
            assert os.path.basename(temp).startswith(".")
            raise RuntimeError("encoder died")
    assert list(work.iterdir()) == []
    with staged_file(str(work), "mp4") as temp:
        open(temp, "wb").write(b"whole")
        final = publish_atomically(temp, str(work), "clip", "mp4")
    assert [p.name for p in work.iterdir()] == [os.path.basename(final)]


def test_list_files_walks_subfolders_and_skips_hidden(work):
    for name in ["a.mp4", "sub/b.WEBM", "sub/deep/c.gif", "notes.txt", ".hidden.mp4", ".cache/d.mp4", "sub/.drawavideo-x.partial.mp4"]:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    assert list_files(str(work), ("mp4", "webm", "gif")) == ["a.mp4", "sub/b.WEBM", "sub/deep/c.gif"]
    assert list_files(str(work / "missing"), ("mp4",)) == []
