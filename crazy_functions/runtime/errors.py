"""The errors of a plugin run and their words: the error a plugin raises when it cannot run on what it was
given, GPT Academic's FriendlyException, and the one line any error becomes in the chat (`error_line`)."""

from __future__ import annotations

from request_llms.errors import LLMError
from request_llms.text import Text


class PluginInputError(LLMError):
    """The plugin cannot run on what it was given: the message says what to upload or change."""

    exit_code = 2  # bad input, where a command line reads the same files (kb add)
    final = True


class FriendlyException(Exception):
    """An error whose own words are the message for the user."""

    def generate_error_html(self) -> str:
        return "<br>".join(str(arg) for arg in self.args)


def error_line(exc: BaseException, lang: str = "zh") -> str:
    """One line for the chat: the backend's own message, or the error's type and text."""
    if isinstance(exc, LLMError):
        return exc.text(lang)
    if isinstance(exc, FriendlyException):
        return exc.generate_error_html()
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return missing_module(exc.name).text(lang)
    detail = f"{type(exc).__name__}: {exc}"
    if lang == "zh":
        return f"插件出错（{detail}）。详情见服务器日志。"
    return f"The plugin failed ({detail}). The server log has the details."


PACKAGE_OF = {  # modules whose package is named otherwise
    "bs4": "beautifulsoup4",
    "cv2": "opencv-python",
    "docx": "python-docx",
    "fitz": "pymupdf",
    "llama_index": "llama-index-core",
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
}
GPT_ACADEMIC_MODULES = ("crazy_functions", "shared_utils", "toolbox", "request_llms", "themes", "check_proxy", "config")


def missing_module(module: str) -> Text:
    """What to do about a module a plugin imports while it runs."""
    if module.split(".")[0] in GPT_ACADEMIC_MODULES:
        return Text(
            zh=f"插件需要 GPT Academic 的模块 {module}，LocalScholar 未提供：请在 config_private.py 中把 GPT_ACADEMIC_FOLDER 设为你的 GPT Academic 目录。",
            en=f"The plugin needs GPT Academic's module {module}, which LocalScholar does not provide: "
            "set GPT_ACADEMIC_FOLDER in config_private.py to your GPT Academic folder.",
        )
    package = PACKAGE_OF.get(module.split(".")[0], module.split(".")[0])
    return Text(
        zh=f"插件需要 Python 包 {package}：在服务器上运行 pip install {package} 后重启。",
        en=f"The plugin needs the Python package {package}: run pip install {package} on the server and restart.",
    )
