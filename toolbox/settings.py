"""Settings, keys, the network and small text helpers of GPT Academic's toolbox.

Keys never reach a plugin through these: `select_api_key` answers from llm_kwargs["api_key"], which the
page leaves empty, so a plugin that needs a cloud key says so in GPT Academic's words instead.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from contextlib import closing
from importlib.util import find_spec

from markdown_it import MarkdownIt

from crazy_functions.runtime.session import say
from request_llms.config_loader import get_config


def get_conf(*keys: str):
    """The values of settings: one key gives its value, several a list (GPT Academic's get_conf)."""
    config = get_config()
    values = [None if key == "proxies" and not config["USE_PROXY"] else config[key] for key in keys]
    return values[0] if len(values) == 1 else values


def load_chat_cookies() -> dict:
    """A conversation's starting cookies, as GPT Academic makes them, without a key: `api_key` is empty."""
    config = get_config()
    buttons = {
        f"自定义按钮{k + 1}": {"Title": "", "Prefix": "", "Suffix": ""} for k in range(max(0, config["NUM_CUSTOM_BASIC_BTN"]))
    }
    return {
        "api_key": "",
        "llm_model": config["LLM_MODEL"],
        "embed_model": config["EMBEDDING_MODEL"],
        "customize_fn_overwrite": buttons,
    }


def get_max_token(llm_kwargs: dict) -> int:
    from request_llms.bridge_all import model_info

    return model_info[llm_kwargs["llm_model"]]["max_token"]


def is_any_api_key(key: str) -> bool:
    return any(len(part.strip()) >= 20 for part in str(key or "").split(","))


def what_keys(keys: str) -> str:
    count = sum(1 for part in str(keys or "").split(",") if part.strip())
    return f"检测到： {count} 个 API 密钥 / {count} API key(s) found"


def select_api_key(keys: str, llm_model: str) -> str:
    """One key of the comma-separated `keys`; raises GPT Academic's error when there is none."""
    found = [part.strip() for part in str(keys or "").split(",") if is_any_api_key(part)]
    if not found:
        raise RuntimeError(
            say(
                zh=f"您提供的api-key不满足要求，不包含任何可用于{llm_model}的api-key。",
                en=f"No API key for {llm_model}: this plugin calls a cloud service LocalScholar does not give it a key for.",
            )
        )
    return found[0]


class ProxyNetworkActivate:
    """Inside `with`, libraries that read HTTP_PROXY / HTTPS_PROXY use the configured `proxies` (with USE_PROXY).

    The environment is the whole process's: the first block to enter sets it, the last to leave restores it.
    """

    _lock = threading.Lock()
    _inside = 0
    _saved: dict[str, str | None] = {}

    def __init__(self, task: str | None = None) -> None:
        proxies = get_conf("proxies")
        tasks = get_config().get("WHEN_TO_USE_PROXY") or ()
        self.proxies = proxies if proxies and (not task or task in tasks) else None

    def __enter__(self):
        if self.proxies:
            with ProxyNetworkActivate._lock:
                if ProxyNetworkActivate._inside == 0:
                    for scheme in ("http", "https"):
                        name = f"{scheme.upper()}_PROXY"
                        ProxyNetworkActivate._saved[name] = os.environ.get(name)
                        if scheme in self.proxies:
                            os.environ[name] = self.proxies[scheme]
                ProxyNetworkActivate._inside += 1
        return self

    def __exit__(self, exc_type, exc_value, tb) -> None:
        if self.proxies:
            with ProxyNetworkActivate._lock:
                ProxyNetworkActivate._inside -= 1
                if ProxyNetworkActivate._inside == 0:
                    for name, value in ProxyNetworkActivate._saved.items():
                        if value is None:
                            os.environ.pop(name, None)
                        else:
                            os.environ[name] = value


class DummyWith:
    """A `with` block that does nothing, where a plugin wants a context manager or none."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb) -> None:
        return None


def Singleton(cls):  # noqa: N802 (GPT Academic's name)
    """A class decorator: every call returns the first instance."""
    instances: dict = {}

    def get(*args, **kwargs):
        if cls not in instances:
            instances[cls] = cls(*args, **kwargs)
        return instances[cls]

    return get


def check_packages(packages=()) -> None:
    """Raise ModuleNotFoundError if any of `packages` is not installed."""
    for package in packages:
        if find_spec(package) is None:
            raise ModuleNotFoundError(f"No module named '{package}'", name=package)


def find_free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_reduce_token_percent(text: str) -> tuple[float, str]:
    """From a server's "maximum context length is N tokens ... M tokens" message: the share to keep, and by how much it was over."""
    numbers = [float(n) for n in re.findall(r"(\d+)\s+tokens\b", text)]
    if len(numbers) >= 2 and 0 < (numbers[0] - 500) / numbers[1] < 1:
        return (numbers[0] - 500) / numbers[1], str(int(numbers[1] - numbers[0] + 500))
    return 0.5, "不详"


def clear_line_break(txt: str) -> str:
    return re.sub(r" {2,}", " ", txt.replace("\n", " "))


def regular_txt_to_markdown(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text.replace("\n", "\n\n"))


def markdown_convertion(txt: str) -> str:
    """Markdown as HTML (raw HTML in it is escaped)."""
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(txt)


def to_markdown_tabs(head: list, tabs: list, alignment: str = ":---:", column: bool = False, omit_path=None) -> str:
    """A Markdown table; `tabs` is a list of columns (or of rows, with column=True)."""
    if column:
        tabs = [list(col) for col in zip(*tabs, strict=False)]
    if omit_path:
        tabs = [[str(cell).replace(str(omit_path), ".") for cell in col] for col in tabs]
    rows = max((len(col) for col in tabs), default=0)
    lines = ["| " + " | ".join(str(h) for h in head) + " |", "|" + "|".join(alignment for _ in head) + "|"]
    for r in range(rows):
        lines.append("| " + " | ".join(str(col[r]) if r < len(col) else "" for col in tabs) + " |")
    return "\n".join(lines)
