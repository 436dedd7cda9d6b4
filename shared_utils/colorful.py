"""GPT Academic's coloured printing (`print亮黄(...)` and the like) for plugins that log to the console."""

from __future__ import annotations

from collections.abc import Callable

_CODES = {"红": 31, "绿": 32, "黄": 33, "蓝": 34, "紫": 35, "靛": 36}


def _printer(code: int, bright: bool) -> Callable[..., None]:
    def show(*args, **kwargs) -> None:
        print(f"\033[{'1;' if bright else '0;'}{code}m", *args, "\033[0m", **kwargs)

    return show


def _colourer(code: int, bright: bool) -> Callable[[str], str]:
    return lambda text: f"\033[{'1;' if bright else '0;'}{code}m{text}\033[0m"


__all__ = []
for _name, _code in _CODES.items():
    for _bright, _prefix in ((False, ""), (True, "亮")):
        globals()[f"print{_prefix}{_name}"] = _printer(_code, _bright)
        globals()[f"sprint{_prefix}{_name}"] = _colourer(_code, _bright)
        __all__ += [f"print{_prefix}{_name}", f"sprint{_prefix}{_name}"]
