"""What keeps a listed model from answering now: a few words for the model list and the one line that fixes it.

Each function below is one such state, worded in both languages; `Problem.line(lang)` is what the page shows
where the model is picked.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..text import Text


@dataclass(frozen=True)
class Problem:
    """Why a model cannot answer now (`state`, a few words) and what to do about it (`fix`, one line)."""

    state: Text
    fix: Text

    def line(self, lang: str) -> str:
        return f"{self.state.text(lang)} — {self.fix.text(lang)}"

    def of_part(self, name: str) -> Problem:
        """The same problem, said of one model of a multi-model identifier."""
        return Problem(Text(zh=f"{name} {self.state.zh}", en=f"{name} {self.state.en}"), self.fix)


def not_downloaded(model: str, setting: str, known: bool) -> Problem:
    """A native model whose folder is not configured."""
    pull = f"python -m request_llms pull {model}" + ("" if known else " --repo ORG/NAME")
    return Problem(
        Text(zh="未下载", en="not downloaded"),
        Text(
            zh=f"运行 `{pull}`，再按提示在 config_private.py 中设置 {setting}",
            en=f"`{pull}`, then set {setting} in config_private.py as it says",
        ),
    )


def weights_missing(zh: str, en: str) -> Problem:
    """A native model whose configured folder lacks its weights; the error's own words name the folder and the fix."""
    return Problem(Text(zh="未下载", en="not downloaded"), Text(zh=zh, en=en))


def server_down(label: str, url: str, start: str) -> Problem:
    """A model on a local server that does not answer at its address."""
    return Problem(
        Text(zh="服务未启动", en="server not running"),
        Text(zh=f"{url} 上的 {label} 未运行：请运行 `{start}`", en=f"{label} is not running at {url}: run `{start}`"),
    )


def not_pulled(name: str) -> Problem:
    """An Ollama model the running Ollama does not have."""
    return Problem(
        Text(zh="未拉取", en="not pulled"),
        Text(
            zh=f"Ollama 中还没有 {name}：运行 `ollama pull {name}`", en=f"Ollama does not have {name} yet: `ollama pull {name}`"
        ),
    )


def not_loaded(label: str, url: str, name: str, start: str) -> Problem:
    """A model that the running OpenAI-compatible server does not serve (it was started with another)."""
    return Problem(
        Text(zh="未加载", en="not loaded"),
        Text(
            zh=f"{url} 上的 {label} 未提供 {name}：请用该模型启动它，`{start}`",
            en=f"{label} at {url} does not serve {name}: start it with this model, `{start}`",
        ),
    )


def no_key(setting: str) -> Problem:
    """A cloud model whose key is not set."""
    return Problem(
        Text(zh="缺少密钥", en="no API key"),
        Text(zh=f"请在 config_private.py 中设置 {setting}", en=f"set {setting} in config_private.py"),
    )


def misconfigured(zh: str, en: str) -> Problem:
    """A setting that keeps the model from working; the error's own words say which and how to fix it."""
    return Problem(Text(zh="设置有误", en="setting to fix"), Text(zh=zh, en=en))
