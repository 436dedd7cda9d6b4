"""GPT Academic's settings access: read-only here (configuration is the owner's, in config_private.py)."""

from __future__ import annotations

from crazy_functions.runtime.session import say
from toolbox.settings import get_conf


def read_single_conf_with_lru_cache(arg: str):
    return get_conf(arg)


def set_conf(key: str, value) -> None:
    raise PermissionError(
        say(zh=f"设置只能在 config_private.py 中修改（{key}）。", en=f"Settings are changed only in config_private.py ({key}).")
    )


def set_multi_conf(dic: dict) -> None:
    for key, value in dic.items():
        set_conf(key, value)


__all__ = ["get_conf", "read_single_conf_with_lru_cache", "set_conf", "set_multi_conf"]
