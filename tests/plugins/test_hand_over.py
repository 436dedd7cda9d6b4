"""What a GPT Academic plugin gets as `txt`: a folder of the user's own files, never a path outside them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from crazy_functions.runtime.errors import PluginInputError
from crazy_functions.runtime.files import hand_over, screen_field, typed_path


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
    assert names == ["paper.pdf", "project.zip.extract/src/main.py"]  # where GPT Academic unpacks a zip
    assert not (home / "runs" / "escape.py").exists()
    (Path(folder) / "paper.pdf").write_bytes(b"rewritten by the plugin")  # a copy: the upload stays as it was
    assert (uploads / "paper.pdf").read_bytes() == b"%PDF-1.4 not really"


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


def test_text_that_is_not_a_path_is_passed_on_unchanged_and_the_upload_still_waits_in_the_run_folder(home):
    for i, text in enumerate(("What is TCP/IP?", "Name a fruit.\nName a colour.", "gemma&qwen", "docs")):
        assert typed_path(text, home) is None
        run = home / "runs" / f"r5-{i}"
        assert hand_over(text, home, [home / "uploads" / "paper.pdf"], run) == text
        assert (run / "paper.pdf").read_bytes() == b"%PDF-1.4 not really"  # for most_recent_uploaded
    assert hand_over("Hello", home, [], home / "runs" / "r6") == "Hello" and not (home / "runs" / "r6").exists()


def test_a_relative_path_is_taken_inside_the_users_folder_and_an_address_is_refused(home, tmp_path, monkeypatch):
    assert hand_over("uploads/paper.pdf", home, [], home / "runs" / "r6") == str((home / "uploads" / "paper.pdf").resolve())
    other = tmp_path / "users" / "bob" / "uploads"
    other.mkdir(parents=True)
    (other / "cv final.pdf").write_bytes(b"bob's")
    monkeypatch.chdir(tmp_path)  # the server's own folder, from which a relative path would be read
    for text in ("users/bob/uploads/cv final.pdf", "../bob/uploads"):
        with pytest.raises(PluginInputError):
            hand_over(text, home, [], home / "runs" / "r7")
    for text in ("https://arxiv.org/abs/1706.03762", "see http://127.0.0.1:8080/admin please"):
        with pytest.raises(PluginInputError) as refused:
            hand_over(text, home, [], home / "runs" / "r8")
        assert "网址" in refused.value.zh and "addresses" in refused.value.en


def test_fields_that_reach_out_are_refused_and_ordinary_ones_pass():
    for value in ("/work/main/README", "../../other/x", "~/.ssh/id_rsa", "C:\\x", "http://169.254.169.254/"):
        with pytest.raises(PluginInputError):
            screen_field(value)
    for value in ("report", "vllm-Qwen/Qwen2.5-7B-Instruct&ollama-qwen3:8b", "docs/notes", "--temperature 0.2"):
        screen_field(value)


def test_a_zip_that_holds_a_file_and_a_folder_of_the_same_name_is_refused_and_leaves_nothing(home):
    bad = home / "uploads" / "clash.zip"
    with zipfile.ZipFile(bad, "w") as bundle:
        bundle.writestr("a", "file")
        bundle.writestr("a/b.txt", "inside")
    with pytest.raises(PluginInputError) as refused:
        hand_over("", home, [bad], home / "runs" / "r9")
    assert "clash.zip" in refused.value.en
    assert not [p for p in (home / "runs" / "r9").rglob("*") if p.is_file()]
