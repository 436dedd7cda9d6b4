"""Reads LocalScholar's settings: config.py defaults, then config_private.py, then environment variables.

config_private.py is read as data (plain `KEY = value` lines), never run, and environment values
are parsed by the key's type (JSON for lists and dicts), never evaluated. A bad value stops with one
line per key naming the value and the fix; an unknown key gets a warning with the closest known key.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import json
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError, LLMError
from .model_spec import QUANTS, THINK_LEVELS, parse_model, parse_models
from .providers import CLOUD_VENDORS
from .text import Text, language

ROOT = Path(__file__).resolve().parent.parent
PRIVATE_ENV = "LOCALSCHOLAR_CONFIG"  # names another config_private.py (tests, several setups)


class Config(Mapping[str, Any]):
    """The settings in force: a read-only mapping, plus the warnings found while reading them."""

    def __init__(self, values: dict[str, Any], warnings: list[Text]) -> None:
        self._values = values
        self.warnings = warnings
        self.runtime = None  # the live state of these settings (runtime.runtime_of makes it on first use)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def lang(self) -> str:
        """The language of messages: zh or en."""
        return language(self._values["LANGUAGE"])


LOWERCASE_KEYS = ("proxies",)  # GPT Academic's one setting in lower case


def defaults(root: Path = ROOT) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("_localscholar_defaults", root / "config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {k: v for k, v in vars(module).items() if k.isupper() or k in LOWERCASE_KEYS}


def data_dir(config) -> Path:
    """DATA_DIR as a path: conversations, uploads and the API's counts; a relative path is under the LocalScholar folder."""
    path = Path(config["DATA_DIR"]).expanduser()
    return path if path.is_absolute() else ROOT / path


def read_private(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Read the `KEY = value` lines of a config_private.py without running it."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise ConfigError(
            en=f"{path.name} line {exc.lineno}: Python syntax error ({exc.msg}); fix that line.",
            zh=f"{path.name} 第 {exc.lineno} 行有语法错误（{exc.msg}），请修改该行。",
        ) from None
    values, skipped = {}, []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if not targets:
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                skipped.append(f"line {node.lineno}")
            continue
        for target in targets:
            if not isinstance(target, ast.Name):
                skipped.append(f"line {node.lineno}")
                continue
            try:
                values[target.id] = ast.literal_eval(node.value)
            except ValueError:
                raise ConfigError(
                    en=f"{path.name} line {node.lineno}: {target.id} must be a plain value (text, number, list, dict); "
                    "put computed values in an environment variable instead.",
                    zh=f"{path.name} 第 {node.lineno} 行：{target.id} 只能写普通的值（文本、数字、列表、字典），需要计算的值请改用环境变量。",
                ) from None
    return values, skipped


POOL_KEYS = ("OLLAMA_API_BASE", "VLLM_API_BASE")  # one URL, or a list of servers that serve the same models


def url_list(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """The servers of a URL setting: one URL, a list of them, or URLs joined by commas or semicolons."""
    if not value:
        return []
    items = re.split(r"[,;\s]+", value) if isinstance(value, str) else list(value)
    return list(dict.fromkeys(item.rstrip("/") for item in items if item))  # a server named twice is one server


def _from_env(key: str, raw: str, default: Any) -> Any:
    if key in POOL_KEYS:
        return json.loads(raw) if raw.strip().startswith("[") else raw  # a JSON list, or URLs joined by commas
    try:
        if isinstance(default, bool):
            if raw.strip().lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, (list, dict)) or default is None:
            return json.loads(raw)
    except (ValueError, json.JSONDecodeError):
        kind = "JSON" if isinstance(default, (list, dict)) else type(default).__name__
        raise ConfigError(
            en=f"Environment variable {key}={raw!r} is not valid {kind}; example: {key}={json.dumps(default)}",
            zh=f"环境变量 {key}={raw!r} 不是有效的 {kind}；示例：{key}={json.dumps(default, ensure_ascii=False)}",
        ) from None
    return raw


def _type_ok(value: Any, default: Any, key: str = "") -> bool:
    if key in POOL_KEYS and isinstance(value, list):
        return True  # its items are judged with the URLs (_urls)
    if default is None:  # a setting that is off unless given (GPT Academic's `proxies`)
        return value is None or isinstance(value, dict)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(default)) and not (isinstance(value, bool) and not isinstance(default, bool))


def _url(value: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s/]+(/\S*)?", value))


def _urls(value: str | list[str]) -> bool:
    """One URL or several (a pool of servers that serve the same models)."""
    if not isinstance(value, str) and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        return False
    return bool(url_list(value)) and all(_url(item) for item in url_list(value))


# Checks beyond the type: key -> (test, what a good value looks like)
_CHECKS: dict[str, tuple[Any, str]] = {
    "LOCAL_MODEL_DEVICE": (lambda v: re.fullmatch(r"cuda(:\d+)?|cpu|mps|auto", v), "cuda, cuda:N, cpu, mps or auto"),
    "LOCAL_MODEL_QUANT": (lambda v: v.upper() in QUANTS, "FP16, INT8 or INT4"),
    "WEB_PORT": (lambda v: 0 < v < 65536, "a port from 1 to 65535"),
    "OLLAMA_API_BASE": (_urls, 'a URL such as http://localhost:11434, or a list of them: ["http://a:11434", "http://b:11434"]'),
    "VLLM_API_BASE": (
        lambda v: v in ("", []) or _urls(v),
        'a URL such as http://localhost:8000/v1, a list of them, or ""',
    ),
    "PROXIES": (
        lambda v: v == "" or re.fullmatch(r"(https?|socks5h?)://\S+", v),
        'a proxy URL such as http://127.0.0.1:7890, or ""',
    ),
    "OLLAMA_NUM_CTX": (lambda v: v > 0, "a positive number of tokens"),
    "CONNECT_TIMEOUT": (lambda v: v > 0, "a positive number of seconds"),
    "READ_TIMEOUT": (lambda v: v > 0, "a positive number of seconds"),
    "MAX_RETRY": (lambda v: 0 <= v <= 10, "a number from 0 to 10"),
    "LANGUAGE": (lambda v: v in ("zh", "en", "auto"), "zh, en or auto"),
    "THINKING": (lambda v: v.lower() in ("", *THINK_LEVELS), 'true, false, low, medium, high, or "" for the model\'s default'),
    "PLUGIN_THINKING": (
        lambda v: v.lower() in ("", *THINK_LEVELS),
        'true, false, low, medium, high, or "" for the model\'s default',
    ),
    "LOCAL_MODEL_IDLE_TIMEOUT": (lambda v: v >= 0, "0 (off) or a number of seconds"),
    "LOCAL_MODEL_LOAD_TIMEOUT": (lambda v: v > 0, "a positive number of seconds"),
    "LOCAL_MODEL_THREADS": (lambda v: v >= 0, "0 (automatic) or a number of threads"),
    "MODEL_DOWNLOAD_SOURCE": (lambda v: v in ("modelscope", "huggingface"), "modelscope or huggingface"),
    "API_URL_REDIRECT": (
        lambda v: all(isinstance(k, str) and isinstance(u, str) and _url(k) and _url(u) for k, u in v.items()),
        'a dict of URL -> URL, e.g. {"https://api.openai.com/v1/chat/completions": "http://localhost:8000/v1/chat/completions"}',
    ),
    "LOCAL_SERVER_URLS": (
        lambda v: all(isinstance(u, (str, list)) and _urls(u) for u in v.values()),
        'a dict of preset -> URL or list of URLs, e.g. {"lmstudio": "http://localhost:1234/v1"}',
    ),
    "LOCAL_MODEL_PATHS": (
        lambda v: all(isinstance(p, str) for p in v.values()),
        'a dict of name -> folder, e.g. {"mymodel": "/data/mymodel"}',
    ),
    "AUTHENTICATION": (
        lambda v: all(isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(s, str) and s for s in p) for p in v),
        'a list of [user, password] pairs, e.g. [["alice", "a-long-password"]]',
    ),
    "PARALLEL_REQUESTS": (
        lambda v: all(isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool) and n > 0 for k, n in v.items()),
        'a dict of provider -> positive number, e.g. {"ollama": 2, "vllm": 32}',
    ),
    "MAX_UPLOAD_MB": (lambda v: v > 0, "a positive number of MB"),
    "DATA_DIR": (lambda v: v.strip() != "", 'a folder, e.g. "data"'),
    "CUSTOM_FUNCTIONS": (
        lambda v: all(
            isinstance(k, str)
            and isinstance(f, dict)
            and set(f) <= {"prefix", "suffix"}
            and all(isinstance(t, str) for t in f.values())
            for k, f in v.items()
        ),
        'a dict of name -> {"prefix": "...", "suffix": "..."}',
    ),
    "CUSTOM_PLUGINS": (
        lambda v: all(isinstance(k, str) and isinstance(t, str) and re.fullmatch(r"[\w.]+:\w+", t) for k, t in v.items()),
        'a dict of name -> "module.path:function", e.g. {"我的插件": "my_plugins.review:main"}',
    ),
    "AVAIL_LLM_MODELS": (lambda v: all(isinstance(m, str) for m in v), "a list of model identifiers"),
    "API_SERVE_KEYS": (
        lambda v: all(isinstance(k, str) and len(k) >= 8 for k in v),
        'a list of keys of 8 characters or more, e.g. ["a-long-random-key"]',
    ),
    "API_MAX_WAITING": (lambda v: v > 0, "a positive number of requests"),
    "GPT_ACADEMIC_FOLDER": (
        lambda v: not v or (Path(v).expanduser() / "crazy_functions").is_dir(),
        'the folder of a GPT Academic checkout (it holds crazy_functions/), e.g. "/home/me/gpt_academic"',
    ),
}


def _check(key: str, value: Any, default: Any) -> Text | None:
    """None if the value is good, else what is wrong, in both languages."""
    if not _type_ok(value, default, key):
        kind = type(default).__name__
        return Text(
            zh=f"{key} = {value!r} 类型应为 {kind}，与默认值 {default!r} 相同",
            en=f"{key} = {value!r} should be {kind}, like the default {default!r}",
        )
    test, good = _CHECKS.get(key, (None, ""))
    if test and not test(value):
        return Text(zh=f"{key} = {value!r} 无效，应为：{good}", en=f"{key} = {value!r} is not valid: use {good}")
    return None


def _check_models(values: dict[str, Any]) -> list[Text]:
    problems = []
    singles = [("LLM_MODEL", values["LLM_MODEL"])] + ([("EMBED_MODEL", values["EMBED_MODEL"])] if values["EMBED_MODEL"] else [])
    for key, text in singles + [("AVAIL_LLM_MODELS", m) for m in values["AVAIL_LLM_MODELS"]]:
        try:
            (parse_models if key == "AVAIL_LLM_MODELS" else parse_model)(text)
        except LLMError as exc:
            problems.append(Text(zh=f"{key}：{exc.zh}", en=f"{key}: {exc.en}"))
    return problems


def load_config(root: Path = ROOT, environ: Mapping[str, str] | None = None, private: Path | None = None) -> Config:
    """Read the settings; raise ConfigError listing every bad key, one line each."""
    environ = os.environ if environ is None else environ
    values = defaults(root)
    base = dict(values)
    warnings: list[Text] = []
    given: set[str] = set()  # the keys the owner set, in config_private.py or the environment
    private = private or Path(environ.get(PRIVATE_ENV) or root / "config_private.py")
    if private.exists():
        found, skipped = read_private(private)
        given |= set(found)
        for key, value in found.items():
            if key in base:
                values[key] = value
                continue
            close = difflib.get_close_matches(key, list(base), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            hint_zh = f"；是不是 {close[0]}？" if close else ""
            warnings.append(
                Text(
                    zh=f"{private.name}：未知配置项 {key}，已忽略{hint_zh}",
                    en=f"{private.name}: unknown key {key}, ignored{hint}",
                )
            )
        for where in skipped:
            warnings.append(
                Text(
                    zh=f"{private.name} {where}：不是“键 = 值”形式，已忽略",
                    en=f"{private.name} {where}: not a KEY = value line, ignored",
                )
            )
    for key in base:
        if key in environ:
            values[key] = _from_env(key, environ[key], base[key])
            given.add(key)
    bad = {key: problem for key in base if (problem := _check(key, values[key], base[key]))}
    problems = list(bad.values())
    if "LLM_MODEL" not in bad and "AVAIL_LLM_MODELS" not in bad:  # identifiers are parsed once their types are right
        problems += _check_models(values)
    if problems:
        raise ConfigError(
            en="Configuration error:\n" + "\n".join(f"  {p.en}" for p in problems),
            zh="配置有误：\n" + "\n".join(f"  {p.zh}" for p in problems),
        )
    values["LOCAL_MODEL_QUANT"] = values["LOCAL_MODEL_QUANT"].upper()
    values["THINKING"], values["PLUGIN_THINKING"] = values["THINKING"].lower(), values["PLUGIN_THINKING"].lower()
    if "AVAIL_LLM_MODELS" not in given:
        values["AVAIL_LLM_MODELS"] = [*values["AVAIL_LLM_MODELS"], *_keyed_cloud_models(values)]
    if values["LLM_MODEL"] not in values["AVAIL_LLM_MODELS"]:
        values["AVAIL_LLM_MODELS"] = [values["LLM_MODEL"], *values["AVAIL_LLM_MODELS"]]
    return Config(values, warnings)


def _keyed_cloud_models(values: dict[str, Any]) -> list[str]:
    """The default list's cloud models: one per vendor whose key is set (config.py's AVAIL_LLM_MODELS comment)."""
    return [vendor.offered for vendor in CLOUD_VENDORS if vendor.offered and values[vendor.key_setting]]


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The settings of this process, read once."""
    return load_config()
