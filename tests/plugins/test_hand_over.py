"""What a GPT Academic plugin gets as `txt`: a folder of the user's own files, never a path outside them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from crazy_functions.runtime.errors import PluginInputError
from crazy_functions.runtime.files import hand_over, typed_path


@pytest.fixture
def home(tmp_path):
    uploads = tmp_path / "users" / "alice" / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "paper.pdf").write_bytes(b"%PDF-1.4 not really")
    with zipfile.ZipFile(uploads / "project.zip", "w") as bundle:
        bundle.writestr("src/main.py", "print('hi')\n")
        bundle.writestr("../escape.py", "nope\n")
    return tmp_path / "users" / "alice"


def test_an_empty_box_gets_a_folder_holding_the_picked_files_with_zips_unpacked(home):
    uploads = home / "uploads"
    folder = hand_over("", home, [uploads / "paper.pdf", uploads / "project.zip"], home / "runs" / "r1")
    names = sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())
    assert names == ["paper.pdf", "project/src/main.py"]
    assert not (home / "runs" / "escape.py").exists()


def test_a_path_inside_the_users_folders_is_accepted_and_one_outside_is_refused(home, tmp_path):
    inside = home / "uploads"
    assert hand_over(str(inside), home, [], home / "runs" / "r2") == str(inside.resolve())
    (tmp_path / "users" / "bob").mkdir()
    for outside in (str(tmp_path / "users" / "bob"), "/etc/passwd", f"{inside}/../../bob", "~/.ssh", "../secret"):
        with pytest.raises(PluginInputError) as refused:
            hand_over(outside, home, [], home / "runs" / "r3")
        assert "只读取你自己上传的文件" in refused.value.zh and "only your own uploads" in refused.value.en.lower()


def test_a_link_out_of_the_folder_is_refused(home, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("key", encoding="utf-8")
    (home / "uploads" / "innocent").symlink_to(secret)
    with pytest.raises(PluginInputError):
        hand_over(str(home / "uploads" / "innocent"), home, [], home / "runs" / "r4")


def test_text_that_is_not_a_path_is_passed_on_unchanged(home):
    for text in ("What is TCP/IP?", "Name a fruit.\nName a colour.", "and/or", "gemma&qwen"):
        assert typed_path(text) is None
        assert hand_over(text, home, [home / "uploads" / "paper.pdf"], home / "runs" / "r5") == text
    assert not (home / "runs" / "r5").exists()
