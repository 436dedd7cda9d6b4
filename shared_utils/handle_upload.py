"""GPT Academic's upload helpers: archives unpacked safely, file links, file type filters."""

from __future__ import annotations

import os
from pathlib import Path

from crazy_functions.runtime.errors import PluginInputError
from crazy_functions.runtime.files import unpack_zip


def extract_archive(file_path: str, dest_dir: str) -> str:
    """Unpack a .zip into `dest_dir` (no absolute paths, `..` or links; size limits); '' on success, else why."""
    path = Path(file_path)
    if path.suffix.lower() != ".zip":
        return f"不支持的压缩格式 {path.suffix}，请上传 zip。 / {path.suffix} archives are not unpacked here: upload a zip."
    try:
        unpack_zip(path, Path(dest_dir))
    except PluginInputError as exc:
        return f"{exc.zh} / {exc.en}"
    return ""


def html_local_file(file: str) -> str:
    base = os.getcwd()
    return f"file={file.replace(base, '.')}" if base in file else file


def html_local_img(file: str, layout: str = "left", max_width=None, max_height=None, md: bool = True) -> str:
    style = ""
    if max_width is not None:
        style += f"max-width: {max_width};"
    if max_height is not None:
        style += f"max-height: {max_height};"
    file = html_local_file(file)
    if md:
        return f"![{file}]({file})"
    return f'<div align="{layout}"><img src="{file}" style="{style}"></div>'


def file_manifest_filter_type(file_list: list[str], filter_: str = "png", md: bool = True) -> str:
    """Pictures of type `filter_` shown inline, other files by name."""
    shown = []
    for file in file_list:
        if file.endswith(filter_):
            shown.append(html_local_img(file, md=md))
        else:
            shown.append(file)
    return "\n\n".join(shown)
