"""Where GPT Academic's plugins read and write files, mapped onto each user's own folders here.

GPT Academic keeps `gpt_log/<user>/<plugin>` for what plugins write and `private_upload/<user>/<time>`
for uploads. Here every user has one folder under DATA_DIR (userfiles.py): its `logs/<plugin>` is
what `get_log_folder` returns, `runs/<time>` holds the files a run was handed. A helper called without
a user (`write_history_to_file`, `zip_result`) writes into the folders of the user whose run is going
on. A file reaches the page only when the plugin promotes it (`promote_file_to_downloadzone`), and then
only its owner can download it.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import os
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from crazy_functions.runtime.session import current_run
from request_llms.config_loader import get_config
from userfiles import inside, user_digest, user_home, users_root

default_user_name = "default_user"


def get_user(chatbotwithcookies) -> str:
    """Who the run is for."""
    return chatbotwithcookies.get_cookies().get("user_name", default_user_name)


_thread_folders = threading.local()


def _user(user: str | None) -> str:
    """GPT Academic's default user means whoever's run is going on."""
    run = current_run()
    if (user is None or user == default_user_name) and run is not None:
        return run.user
    return user or default_user_name


def _home(user: str) -> Path:
    """The user's folder; for the default user outside any run (a plugin's own thread), a folder of this thread
    alone, so nothing is shared between users."""
    if user == default_user_name and current_run() is None:
        if getattr(_thread_folders, "home", None) is None:
            scratch = users_root(get_config()) / "threads"
            scratch.mkdir(parents=True, exist_ok=True)
            _thread_folders.home = Path(tempfile.mkdtemp(prefix="thread-", dir=scratch))
        return _thread_folders.home
    return user_home(get_config(), user)


def gen_time_str() -> str:
    return time.strftime("%Y-%m-%d-%H-%M-%S", time.localtime())


def get_log_folder(user: str | None = default_user_name, plugin_name: str | None = "shared") -> str:
    """The folder (made if needed) where a plugin writes its files for `user`.

    An absolute PATH_LOGGING puts it at `PATH_LOGGING/<user's folder name>/<plugin>`; otherwise under the
    user's folder in DATA_DIR.
    """
    user = _user(user)
    configured = Path(str(get_config().get("PATH_LOGGING") or "gpt_log")).expanduser()
    base = configured / user_digest(user) if configured.is_absolute() else _home(user) / "logs"
    folder = base / plugin_name if plugin_name else base
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


def get_upload_folder(user: str | None = default_user_name, tag: str | None = None) -> str:
    """Where the files handed to `user`'s runs are kept (`tag`: one run's folder)."""
    folder = _home(_user(user)) / "runs"
    return str(folder / tag if tag else folder)


def is_the_upload_folder(string: str) -> bool:
    """Whether `string` is a folder of files handed to this user's runs (what the plugin got as `txt`)."""
    home = _home(_user(None))
    return any(inside(string, home / part, strictly=True) for part in ("runs", "uploads")) and Path(string).is_dir()


def write_history_to_file(history, file_basename: str | None = None, file_fullname: str | None = None,
                          auto_caption: bool = True) -> str:  # fmt: skip
    """The history as Markdown (each question a `## ` heading) in the user's log folder; returns its path."""
    target = Path(file_fullname or Path(get_log_folder()) / (file_basename or f"LocalScholar-{gen_time_str()}.md"))
    target.parent.mkdir(parents=True, exist_ok=True)
    parts = ["# LocalScholar Report\n"]
    for i, item in enumerate(history):
        text = item if isinstance(item, str) else str(item)
        parts.append(("## " if i % 2 == 0 and auto_caption else "") + text + "\n\n")
    target.write_text("".join(parts), encoding="utf-8", errors="ignore")
    return str(target.resolve())


def promote_file_to_downloadzone(file, rename_file: str | None = None, chatbot=None) -> str:
    """Offer a file for download on the page (to this user only); returns the offered copy's path."""
    if not os.path.exists(file):
        raise FileNotFoundError(f"文件{file}不存在 / {file} does not exist")
    chatbot = chatbot if chatbot is not None else current_run()
    if chatbot is None or not hasattr(chatbot, "add_output"):
        return str(file)
    offered = str(chatbot.add_output(file, rename_file))
    promoted = chatbot.get_cookies().setdefault("files_to_promote", [])
    if offered not in promoted:
        promoted.insert(0, offered)
    return offered


def file_already_in_downloadzone(file: str, user_path: str) -> bool:
    """Whether `file` lies in `user_path` (links and `..` resolved)."""
    return inside(file, user_path)


def disable_auto_promotion(chatbot) -> None:
    """Offer none of the files promoted so far in this run."""
    chatbot.get_cookies()["files_to_promote"] = []
    if hasattr(chatbot, "outputs"):
        chatbot.outputs.clear()


def generate_file_link(report_files: list[str]) -> str:
    """The files' names, one per line, for the chat (the page lists them for download beside it)."""
    return "".join(f"<br/>{Path(f).name}" for f in report_files)


def zip_folder(source_folder: str, dest_folder: str, zip_name: str) -> str | None:
    """Zip everything under `source_folder` into `dest_folder/zip_name`; None if either folder is missing."""
    if not os.path.isdir(source_folder) or not os.path.isdir(dest_folder):
        return None
    target = Path(dest_folder) / zip_name
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(Path(source_folder).rglob("*")):
            if path.is_file() and path.resolve() != target.resolve():
                bundle.write(path, arcname=str(path.relative_to(source_folder)))
    return str(target)


def zip_result(folder: str) -> str:
    """`folder` zipped into the user's log folder; returns the zip's path."""
    name = f"{gen_time_str()}-result.zip"
    zip_folder(folder, get_log_folder(), name)
    return str(Path(get_log_folder()) / name)


def find_recent_files(directory: str) -> list[str]:
    """Files (not logs) changed in `directory` within the last minute."""
    os.makedirs(directory, exist_ok=True)
    recent = time.time() - 60
    return [
        str(path)
        for path in Path(directory).iterdir()
        if path.is_file() and path.suffix != ".log" and path.stat().st_mtime >= recent
    ]


def del_outdated_uploads(outdate_time_seconds: float, target_path_base: str | None = None) -> None:
    """Delete folders handed to runs that are older than `outdate_time_seconds`."""
    base = Path(target_path_base or get_upload_folder())
    if not base.is_dir():
        return
    oldest = time.time() - outdate_time_seconds
    for folder in base.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < oldest:
            shutil.rmtree(folder, ignore_errors=True)


def get_pictures_list(path: str) -> list[str]:
    return [f for ext in ("jpg", "jpeg", "png") for f in glob.glob(f"{path}/**/*.{ext}", recursive=True)]


def have_any_recent_upload_image_files(chatbot, pop: bool = False):
    """(True, images) when the user's latest upload (within five minutes) holds pictures."""
    cookies = chatbot.get_cookies() if chatbot is not None else {}
    recent = cookies.pop("most_recent_uploaded", None) if pop else cookies.get("most_recent_uploaded")
    if not recent or time.time() - recent["time"] >= 300:
        return False, None
    pictures = get_pictures_list(recent["path"])
    return (True, pictures) if pictures else (False, None)


def have_any_recent_upload_files(chatbot) -> bool:
    """Whether the user handed files to this run within the last five minutes."""
    recent = chatbot.get_cookies().get("most_recent_uploaded") if chatbot else None
    return bool(recent) and time.time() - recent["time"] < 300


def check_repeat_upload(new_pdf_path: str, pdf_hash: str):
    """(True, its folder) when an earlier run of this user left a project tagged `<pdf_hash>.tag`; else (False, None)."""
    tags = sorted(Path(get_log_folder(plugin_name=None)).rglob(f"{pdf_hash}.tag"))
    return (True, str(tags[0].parent)) if tags else (False, None)


def every_image_file_in_path(chatbot):
    recent = chatbot.get_cookies().get("most_recent_uploaded") if chatbot is not None else None
    pictures = get_pictures_list(recent["path"]) if recent else []
    return bool(pictures), pictures


def encode_image(image_path: str) -> str:
    return base64.b64encode(Path(image_path).read_bytes()).decode("utf-8")


def map_file_to_sha256(file_path: str) -> str:
    return hashlib.sha256(Path(file_path).read_bytes()).hexdigest()
