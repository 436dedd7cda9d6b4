"""解析项目源代码 on a real llama-server (4 slots of 1024 tokens): a small project zipped in the test is
read file by file, a long file in pieces, then one overview; Stop keeps the finished notes; nothing in
the zip can write outside its folder; a path typed in the box is refused."""

from __future__ import annotations

import re
import uuid
import zipfile
from pathlib import Path

from crazy_functions.runtime.files import unpack_zip
from crazy_functions.source_code import PLUGIN, collect_sources, explain_archive
from tests.support.plugin_support import LLAMA_SLOT_TOKENS, drive, make_chatbot

SOURCES = ("README.md", "calc/__init__.py", "calc/core.py", "calc/storage.py", "calc/cli.py", "web/app.js")
LONG_CORE = "\n\n".join(
    f"def scale_{i}(values: list[float], factor: float = {i}.5) -> list[float]:\n"
    f'    """Multiply every value by {i}.5 and round the result to {i % 4} decimal places."""\n'
    f"    return [round(value * factor, {i % 4}) for value in values]"
    for i in range(20)
)
FILES = {
    "README.md": "# calc\n\nA tiny calculator. Run it with `python -m calc.cli 1 2 3`.\n",
    "calc/__init__.py": "",
    "calc/core.py": '"""Arithmetic on lists of numbers."""\n\n\ndef total(values):\n    return sum(values)\n',
    "calc/storage.py": "import json\n\n\ndef save(path, result):\n    with open(path, 'w') as f:\n        json.dump({'total': result}, f)\n",
    "calc/cli.py": "import sys\n\nfrom .core import total\nfrom .storage import save\n\n\n"
    "def main():\n    result = total(float(a) for a in sys.argv[1:])\n    save('result.json', result)\n    print(result)\n",
    "web/app.js": "export function showTotal(el, total) {\n  el.textContent = `Total: ${total}`;\n}\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    ".git/config": "[core]\n\trepositoryformatversion = 0\n",
    ".git/hooks/post_update.py": "print('hook')\n",
}
BINARIES = {
    "assets/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "tools/runner.sh": b"#!/bin/sh\n\x00\x01\x02ELF" * 50,
}


def _zip(tmp_path: Path, name: str = "calc.zip", extra: dict[str, bytes | str] | None = None) -> Path:
    archive = tmp_path / name
    with zipfile.ZipFile(archive, "w") as bundle:
        for path, text in FILES.items():
            bundle.writestr(path, text)
        for path, data in {**BINARIES, **(extra or {})}.items():
            bundle.writestr(path, data)
    return archive


def _finish(generator):
    while True:
        try:
            next(generator)
        except StopIteration as done:
            return done.value


def test_sources_are_picked_and_the_rest_counted(tmp_path):
    big = {"calc/tables.py": b"X = 1\n" * 40_000, "node_modules/lib/index.js": b"module.exports = 1;\n"}
    root = tmp_path / "project"
    project = collect_sources("calc", root, unpack_zip(_zip(tmp_path, extra=big), root))
    assert [source.path for source in project.files] == sorted(SOURCES)
    assert project.skipped == {"folder": 4, "large": 1, "binary": 1, "type": 1}


def test_a_user_gets_an_overview_file_naming_every_source_file(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path, lang="en")
    archive = _zip(tmp_path, extra={"calc/scaling.py": LONG_CORE})
    llm_kwargs = {**llama_kwargs, "max_length": 32}  # short notes: one round of notes fewer on a busy CPU
    project = _finish(explain_archive(chatbot, [], llm_kwargs, archive, "how results are saved", ""))
    assert project.output == tmp_path / "out" / "calc-overview.md" and chatbot.outputs == [project.output]
    assert project.complete and project.overview.answer.strip()
    text = project.output.read_text(encoding="utf-8")
    for path in (*SOURCES, "calc/scaling.py"):
        assert f"### `{path}`" in text, f"no note on {path}"
    assert ".git" not in text and "logo.png" not in text and "runner.sh" not in text
    assert "Read 7 source files; skipped: 1 binary, 3 in hidden, vendored or build folders, 1 not source files." in text
    assert "Not finished" not in text and "*(empty file)*" in text  # calc/__init__.py
    assert "calc-overview.md" in chatbot[-1][1] and "skipped" in chatbot[-1][1]

    long = next(source for source in project.files if source.path == "calc/scaling.py")
    assert len(long.pieces) >= 2 and all("calc/scaling.py" in piece.prompt for piece in long.pieces)
    notes = text.split("### `calc/scaling.py`", 1)[1].split("### `", 1)[0]
    assert "**1/" in notes and "**2/" in notes, "the long file's pieces are not noted under its name"
    assert all("how results are saved" in piece.prompt for piece in project.notes)
    for piece in project.requests:
        assert piece.prompt_tokens is not None
        assert piece.prompt_tokens + piece.max_tokens <= LLAMA_SLOT_TOKENS


def test_stop_after_the_first_note_keeps_the_finished_notes(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path, files=[_zip(tmp_path)], lang="zh")
    llm_kwargs = {**llama_kwargs, "max_length": 32}
    drive(PLUGIN.run, "", llm_kwargs, chatbot, stop_when=lambda cb: re.search(r"完成 [1-9]", cb[-1][1] or ""))
    overview = tmp_path / "out" / "calc-overview.md"
    assert chatbot.outputs == [overview], chatbot[-1][1]
    text = overview.read_text(encoding="utf-8")
    assert "未完成" in text
    noted = text.split("## 各文件笔记", 1)[1].count("### `") - 1  # the empty __init__.py needs no request
    assert 1 <= noted < len(SOURCES) - 1
    assert "已停止" in chatbot[-1][1] and "calc-overview.md" in chatbot[-1][1]


def test_zip_members_cannot_write_outside(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    name = f"evil_{uuid.uuid4().hex}.py"
    archive = tmp_path / "upload" / "slip.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as bundle:
        for depth in range(1, 6):
            bundle.writestr("../" * depth + name, "print('escaped')\n")
        bundle.writestr("/" + name, "print('absolute')\n")
        bundle.writestr("logo.png", BINARIES["assets/logo.png"])
    chatbot = make_chatbot(tmp_path, files=[archive], lang="en")
    drive(PLUGIN.run, "", {"llm_model": "llamacpp-gemma-270m"}, chatbot)
    assert "No source files in slip.zip" in chatbot[-1][1]
    assert not list(tmp_path.rglob(name)) and not (tmp_path.parent / name).exists()
    assert not (Path("/") / name).exists()


def test_a_path_typed_in_the_box_is_refused(tmp_path):
    chatbot = make_chatbot(tmp_path, files=[_zip(tmp_path)], lang="zh")
    drive(PLUGIN.run, "/home/me/project.zip", {"llm_model": "llamacpp-gemma-270m"}, chatbot)
    assert "路径不会被打开" in chatbot[-1][1]
    assert chatbot.outputs == []


def test_a_zip_without_source_files_says_so(tmp_path):
    archive = tmp_path / "pictures.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("logo.png", BINARIES["assets/logo.png"])
    chatbot = make_chatbot(tmp_path, files=[archive], lang="en")
    drive(PLUGIN.run, "", {"llm_model": "llamacpp-gemma-270m"}, chatbot)
    assert "No source files in pictures.zip" in chatbot[-1][1]
    assert chatbot.outputs == []
