"""Each user's files stay in their own folder: one rule (userfiles.inside) decides, and toolbox never imports webui."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.helpers import make_config
from userfiles import inside, user_dir, user_home

ROOT = Path(__file__).resolve().parents[2]


def test_a_path_counts_only_inside_the_users_own_folder(tmp_path):
    config = make_config(tmp_path, f'DATA_DIR = "{tmp_path / "data"}"\n')
    home, uploads = user_home(config, "user:alice"), user_dir(config, "user:alice", "uploads")
    (uploads / "paper.pdf").write_bytes(b"alice's")
    theirs = user_dir(config, "user:bob", "uploads") / "cv.pdf"
    theirs.write_bytes(b"bob's")
    (uploads / "link").symlink_to(theirs)

    assert inside(uploads / "paper.pdf", home) and inside(f"{uploads}/../uploads/paper.pdf", home)
    assert not inside(theirs, home)  # another user's folder
    assert not inside(f"{uploads}/../../{theirs.parent.parent.name}/uploads/cv.pdf", home)  # a `..` escape
    assert not inside(uploads / "link", home)  # a link out
    assert not inside(home, home, strictly=True) and inside(uploads, home, strictly=True)
    assert not inside(None, home) and not inside("bad\0path", home)


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_toolbox_never_imports_webui_and_userfiles_imports_neither():
    for path in sorted((ROOT / "toolbox").rglob("*.py")):
        assert "webui" not in _imported(path), path
    assert not {"toolbox", "webui", "crazy_functions", "shared_utils"} & _imported(ROOT / "userfiles.py")
