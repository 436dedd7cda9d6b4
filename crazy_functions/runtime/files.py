"""The files a plugin may read (only what the user uploaded) and how it reads them.

A path typed in the prompt box is never opened: plugins get their files from the user's uploads,
chosen on the page. Zipped projects are unpacked member by member, refusing absolute paths, `..`
and links, with limits on the number and size of files.
"""

from __future__ import annotations

import re
import shutil
import zipfile
import zlib
from pathlib import Path

from userfiles import inside

from .errors import PluginInputError

MAX_ZIP_FILES = 5000
MAX_ZIP_BYTES = 300 * 1024 * 1024  # all members together, as they really unpack
CHUNK = 1024 * 1024
_PATHLIKE = re.compile(
    r"(^|[\s\"'(])(/|~[/\\]|[A-Za-z]:[\\/]|\\\\|\.\.?[/\\])"  # /abs, ~/home, C:\, \\share, ./rel, ../up
    r"|\.\.[/\\]|[/\\]\.\."  # .. anywhere
    r"|\S[/\\]\S*\.[A-Za-z0-9]{1,5}\b"  # folder/name.ext
)


def refuse_typed_paths(text: str) -> None:
    """Raise if the prompt box holds something that looks like a file path."""
    if text and _PATHLIKE.search(text):
        raise PluginInputError(
            en="Only uploaded files are read; a path typed in the box is refused. Upload the file and run again.",
            zh="只读取你上传的文件，输入框里的路径不会被打开。请先用「上传文件」上传，再运行插件。",
        )


def files_of_type(chatbot, extensions: tuple[str, ...], text: str = "") -> list[Path]:
    """The uploaded files the plugin was given that have one of `extensions`; raises if there are none."""
    refuse_typed_paths(text)
    found = [path for path in getattr(chatbot, "files", []) if path.suffix.lower() in extensions]
    if not found:
        kinds = " / ".join(extensions)
        raise PluginInputError(
            en=f"No uploaded {kinds} file: upload one (the upload panel on the right) and run the plugin again.",
            zh=f"没有可用的 {kinds} 文件：请先在右侧「上传文件」上传，再运行插件。",
        )
    return found


def read_text(path: Path) -> str:
    """A text file's contents: UTF-8 (with or without BOM), else GB18030, else Latin-1."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def unpack_zip(archive: Path, target: Path) -> list[Path]:
    """Extract a zip into `target`; members with absolute paths, `..` or links are skipped. Returns the files."""
    try:
        bundle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise PluginInputError(
            en=f"{archive.name} is not a readable zip file: zip the folder again and upload it.",
            zh=f"{archive.name} 不是可读的 zip 文件：请重新压缩后上传。",
        ) from exc
    extracted, total = [], 0
    with bundle:
        members = [m for m in bundle.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_FILES:
            raise PluginInputError(
                en=f"{archive.name} holds {len(members)} files; at most {MAX_ZIP_FILES} are read.",
                zh=f"{archive.name} 含 {len(members)} 个文件，超过上限 {MAX_ZIP_FILES}。",
            )
        wanted = [(member, parts) for member in members if (parts := _safe_parts(member))]
        if sum(member.file_size for member, _ in wanted) > MAX_ZIP_BYTES:
            raise _too_big(archive)  # before anything is written
        try:
            for member, parts in wanted:
                destination = target.joinpath(*parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                extracted.append(destination)
                with bundle.open(member) as source, destination.open("wb") as sink:
                    total = _copy_bounded(source, sink, total, archive)
        except (PluginInputError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            for path in extracted:
                if path.is_file():
                    path.unlink()
            if isinstance(exc, PluginInputError):
                raise
            raise PluginInputError(
                en=f"{archive.name} is damaged ({exc}): zip the folder again and upload it.",
                zh=f"{archive.name} 已损坏（{exc}）：请重新压缩后上传。",
            ) from None
    return extracted


def _safe_parts(member: zipfile.ZipInfo) -> list[str]:
    """The member's path as parts inside the target; empty for absolute paths, `..`, drive letters and links."""
    name = member.filename.replace("\\", "/")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts or is_link:
        return []
    return parts


def _copy_bounded(source, sink, total: int, archive: Path) -> int:
    """Copy a member in chunks, counting what really comes out (a header may lie about the size)."""
    while chunk := source.read(CHUNK):
        total += len(chunk)
        if total > MAX_ZIP_BYTES:
            raise _too_big(archive)
        sink.write(chunk)
    return total


def _too_big(archive: Path) -> PluginInputError:
    return PluginInputError(
        en=f"{archive.name} unpacks to more than {MAX_ZIP_BYTES // 2**20} MB; upload a smaller project.",
        zh=f"{archive.name} 解压后超过 {MAX_ZIP_BYTES // 2**20} MB，请上传更小的项目。",
    )


_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://")
_ROOTED = re.compile(r"(/|~|[A-Za-z]:[/\\]|\\\\)")  # /abs, ~/home, C:\, \\share
_UP = re.compile(r"(^|[/\\])\.\.([/\\]|$)")  # a `..` segment


def _refuse_address() -> PluginInputError:
    return PluginInputError(
        en="Web addresses are not opened for the page: download the file and upload it, then run the plugin again.",
        zh="LocalScholar 不替页面打开网址：请先下载文件并上传，再运行插件。",
    )


def _refuse_path() -> PluginInputError:
    return PluginInputError(
        en="Only your own uploads are read; a path outside them is refused. Upload the files and run again.",
        zh="只读取你自己上传的文件，不接受其以外的路径。请先上传，再运行插件。",
    )


def typed_path(text: str, home: Path) -> Path | None:
    """The path the box holds, when all it holds is one path (GPT Academic's way of naming a folder), resolved.

    A rooted path (`/x`, `~/x`, `C:\\x`) is taken as it is; a relative one (`uploads/a.pdf`, `./x`) is taken
    inside `home`, unless it names something that exists from the server's own folder.
    """
    candidate = (text or "").strip().strip("\"'")
    if not candidate or "\n" in candidate or len(candidate) > 4096:
        return None
    if _ROOTED.match(candidate):
        return Path(candidate).expanduser().resolve()
    relative = not re.search(r"\s", candidate) and re.search(r"[/\\]", candidate) or candidate.startswith(".")
    try:
        from_here = re.search(r"[/\\]", candidate) and Path(candidate).exists()
    except OSError:
        from_here = False
    if from_here:
        return Path(candidate).resolve()
    return (home / candidate).resolve() if relative else None


def screen_field(value: str) -> None:
    """Refuse a plugin field that is a web address or a path reaching out (`/x`, `~`, `..`): plugins join
    field values onto their folders and open them."""
    value = (value or "").strip()
    if _URL.search(value):
        raise _refuse_address()
    if _ROOTED.match(value) or _UP.search(value):
        raise _refuse_path()


def hand_over(text: str, home: Path, files: list[Path], run_folder: Path) -> str:
    """What a GPT Academic plugin gets as `txt`: a folder holding the user's files, as its page hands it one.

    The files are copied into `run_folder` (zips unpacked, safely, into `<name>.zip.extract` as GPT Academic
    does), which the page also gives as the run's "most recent upload". An empty box gets that folder; any
    other text, an instruction, is passed on as it is, and the plugin finds the files as GPT Academic's
    find them (`most_recent_uploaded`). A path in the box is accepted only inside the user's own folders
    (`home`); a web address is refused.
    """
    if _URL.search(text or ""):
        raise _refuse_address()
    path = typed_path(text, home)
    if path is not None:
        if not inside(path, home):
            raise _refuse_path()
        return str(path)
    if not files:
        return text
    run_folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        if file.suffix.lower() == ".zip":
            unpack_zip(file, run_folder / f"{file.name}.extract")
        else:
            shutil.copyfile(file, run_folder / file.name)  # a copy: a plugin may rewrite the files it is handed
    return text if text.strip() else str(run_folder.resolve())
