"""The one parser of model identifiers: `BASE` or `BASE(key=value, ...)`, and `A&B&C` for several.

`parse_model` turns text into a frozen `ModelSpec`; everything else in LocalScholar takes a spec,
never the raw text. A malformed identifier raises `IdentifierError` naming the bad part.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, fields, replace

from .errors import IdentifierError
from .native.catalog import FOLDER_PREFIX, NAMED
from .providers import LOCAL_SERVERS, cloud_vendor_for

OLLAMA = "ollama"
OPENAI_COMPAT = "openai_compat"
CLOUD = "cloud"
NATIVE = "native"

QUANTS = ("FP16", "INT8", "INT4")
THINK_LEVELS = ("true", "false", "low", "medium", "high")  # think=: on, off, or how hard (where the model has levels)
_DEVICE = re.compile(r"(cuda(:\d+)?|cpu|auto|mps)")
_OLLAMA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/]*(:[A-Za-z0-9][A-Za-z0-9._\-]*)?")
_SERVED_NAME = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9._\-/:@+]*")
_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")
_CLOUD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/:]*")
_KEY = re.compile(r"[a-z_]+")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model identifier. `kind` picks the backend, `provider` the server or vendor."""

    kind: str
    provider: str
    model: str
    base: str
    max_token: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    num_ctx: int | None = None
    keep_alive: str | None = None
    base_url: str | None = None
    quant: str | None = None
    device: str | None = None
    lora: str | None = None
    think: str | None = None

    @property
    def text(self) -> str:
        """The canonical identifier, brackets included."""
        params = [f"{f.name}={_show(getattr(self, f.name))}" for f in fields(self) if f.name in _PARAMS]
        params = [p for p in params if not p.endswith("=None")]
        return f"{self.base}({', '.join(params)})" if params else self.base

    def params(self) -> dict[str, object]:
        """The bracket parameters that are set, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in _PARAMS and getattr(self, f.name) is not None}

    def with_params(self, **values: object) -> ModelSpec:
        return replace(self, **values)


def _show(value: object) -> str:
    text = str(value)
    return f'"{text}"' if any(c in text for c in ",()&= ") else text


def _int(key: str, raw: str) -> int:
    if not re.fullmatch(r"\d+", raw) or int(raw) <= 0:
        raise _bad(f"{key}={raw}", f"'{raw}' is not a positive whole number", f"“{raw}” 不是正整数")
    return int(raw)


def _float_in(low: float, high: float):
    def parse(key: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            raise _bad(f"{key}={raw}", f"'{raw}' is not a number from {low} to {high}", f"“{raw}” 应为 {low} 到 {high} 之间的数")
        return value

    return parse


def _text(key: str, raw: str) -> str:
    if not raw:
        raise _bad(f"{key}=", "the value is empty", "值为空")
    return raw


def _url(key: str, raw: str) -> str:
    """One URL, or several joined by commas or semicolons (in quotes): a pool of servers with the same models."""
    urls = [item for item in re.split(r"[,;\s]+", raw) if item]
    if not urls or not all(re.fullmatch(r"https?://[^\s/,;]+(/[^\s,;]*)?", url) for url in urls):
        raise _bad(f"{key}={raw}", "expected a URL such as http://127.0.0.1:8000/v1", "应为网址，例如 http://127.0.0.1:8000/v1")
    return ",".join(url.rstrip("/") for url in urls)


def _quant(key: str, raw: str) -> str:
    if raw.upper() not in QUANTS:
        raise _bad(f"{key}={raw}", f"choose one of {', '.join(QUANTS)}", f"可选值：{', '.join(QUANTS)}")
    return raw.upper()


def _think(key: str, raw: str) -> str:
    if raw.lower() not in THINK_LEVELS:
        raise _bad(f"{key}={raw}", f"choose one of {', '.join(THINK_LEVELS)}", f"可选值：{', '.join(THINK_LEVELS)}")
    return raw.lower()


def _device(key: str, raw: str) -> str:
    if not _DEVICE.fullmatch(raw):
        raise _bad(f"{key}={raw}", "choose cuda, cuda:N, cpu, mps or auto", "可选值：cuda、cuda:N、cpu、mps、auto")
    return raw


ALL_KINDS = (OLLAMA, OPENAI_COMPAT, CLOUD, NATIVE)
# parameter -> (parser, the kinds that take it)
_PARAMS = {
    "max_token": (_int, ALL_KINDS),
    "temperature": (_float_in(0.0, 2.0), ALL_KINDS),
    "top_p": (_float_in(0.0, 1.0), ALL_KINDS),
    "num_ctx": (_int, (OLLAMA,)),
    "keep_alive": (_text, (OLLAMA,)),
    "base_url": (_url, (OPENAI_COMPAT,)),
    "quant": (_quant, (NATIVE,)),
    "device": (_device, (NATIVE,)),
    "lora": (_text, (NATIVE,)),
    "think": (_think, ALL_KINDS),
}


def _bad(part: str, why_en: str, why_zh: str) -> IdentifierError:
    end_en = "" if why_en.endswith("?") else "."
    end_zh = "" if why_zh.endswith("？") else "。"
    return IdentifierError(
        en=f"Bad model identifier at “{part}”: {why_en}{end_en}", zh=f"模型标识有误，问题在“{part}”：{why_zh}{end_zh}"
    )


def split_models(text: str) -> list[str]:
    """Split `A&B&C` on the ampersands that stand outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "&" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_models(text: str) -> tuple[ModelSpec, ...]:
    """Parse one identifier or several joined by `&` (a multi-model query)."""
    return tuple(parse_model(part) for part in split_models(text))


def parse_model(text: str) -> ModelSpec:
    """Parse one identifier such as `ollama-qwen2.5:7b(max_token=8192)` into a ModelSpec."""
    text = text.strip()
    if not text:
        raise IdentifierError(en="The model identifier is empty.", zh="模型标识为空。")
    if len(split_models(text)) > 1:
        raise _bad(
            text,
            "several models joined by & are only allowed where a multi-model query is",
            "此处只能填一个模型，& 连接多个模型仅用于多模型询问",
        )
    base, raw_params = _split_brackets(text)
    spec = _parse_base(base)
    values: dict[str, object] = {}
    for key, raw in raw_params:
        if key not in _PARAMS:
            close = difflib.get_close_matches(key, list(_PARAMS), n=1)
            hint_en = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(_PARAMS)}"
            hint_zh = f"；是不是“{close[0]}”？" if close else f"；可用：{', '.join(_PARAMS)}"
            raise _bad(f"{key}={raw}", f"unknown parameter '{key}'{hint_en}", f"未知参数“{key}”{hint_zh}")
        parse, kinds = _PARAMS[key]
        if spec.kind not in kinds:
            raise _bad(f"{key}={raw}", f"'{key}' does not apply to {spec.kind} models", f"“{key}”不适用于此类模型（{spec.kind}）")
        if key in values:
            raise _bad(f"{key}={raw}", f"'{key}' is given twice", f"“{key}”重复出现")
        values[key] = parse(key, raw)
    return replace(spec, **values)


def _split_brackets(text: str) -> tuple[str, list[tuple[str, str]]]:
    if "(" not in text:
        if ")" in text:
            raise _bad(text, "a ')' without its '('", "多了一个“)”")
        return text, []
    base, rest = text.split("(", 1)
    if not rest.endswith(")"):
        raise _bad(text, "the bracket part must end the identifier with ')'", "括号部分必须以“)”结尾")
    inner = rest[:-1]
    pairs = []
    for item in _split_params(inner, text):
        if "=" not in item:
            raise _bad(item or "()", "expected key=value", "应为 key=value 形式")
        key, value = (s.strip() for s in item.split("=", 1))
        if not _KEY.fullmatch(key):
            raise _bad(item, f"'{key}' is not a parameter name", f"“{key}”不是参数名")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs.append((key, value))
    return base.strip(), pairs


def _split_params(inner: str, whole: str) -> list[str]:
    items, quote, current = [], "", []
    for ch in inner:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "()":
            raise _bad(whole, "brackets inside the bracket part (quote the value)", "括号内不能再有括号（请给值加引号）")
        elif ch == ",":
            items.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if quote:
        raise _bad(whole, "a quote is not closed", "引号未闭合")
    items.append("".join(current).strip())
    if items == [""]:
        raise _bad(whole, "empty brackets", "括号内为空")
    return items


def _parse_base(base: str) -> ModelSpec:
    if not base:
        raise _bad("(", "the model name is missing before the brackets", "括号前缺少模型名")
    if base.startswith("ollama-"):
        name = base[len("ollama-") :]
        if not _OLLAMA_NAME.fullmatch(name):
            raise _bad(
                base,
                "expected ollama-NAME or ollama-NAME:TAG, e.g. ollama-qwen2.5:7b",
                "应为 ollama-名称 或 ollama-名称:标签，例如 ollama-qwen2.5:7b",
            )
        return ModelSpec(OLLAMA, "ollama", name, base)
    for prefix in sorted(LOCAL_SERVERS, key=len, reverse=True):
        if base.startswith(prefix + "-"):
            name = base[len(prefix) + 1 :]
            if not _SERVED_NAME.fullmatch(name):
                raise _bad(
                    base,
                    f"expected {prefix}-MODEL with the name the server was started with",
                    f"应为 {prefix}-模型名（服务启动时的模型名）",
                )
            return ModelSpec(OPENAI_COMPAT, prefix, name, base)
    if base in NAMED:
        return ModelSpec(NATIVE, base, base, base)
    if base.startswith(FOLDER_PREFIX + "-"):
        name = base[len(FOLDER_PREFIX) + 1 :]
        if not _FOLDER_NAME.fullmatch(name):
            raise _bad(
                base,
                "expected local-NAME, NAME being a key of LOCAL_MODEL_PATHS",
                "应为 local-名称，名称为 LOCAL_MODEL_PATHS 中的键",
            )
        return ModelSpec(NATIVE, FOLDER_PREFIX, name, base)
    vendor = cloud_vendor_for(base)
    if vendor and _CLOUD_NAME.fullmatch(base):
        name = base[len(vendor.strip_prefix) :] if base.startswith(vendor.strip_prefix) else base
        if name:
            return ModelSpec(CLOUD, vendor.name, name, base)
    raise IdentifierError(
        en=f"Unknown model “{base}”: use ollama-NAME, vllm-MODEL, lmstudio-/llamacpp-/jan-/localai-/tgwebui-/sglang-MODEL, "
        "openai-compat-MODEL(base_url=URL), chatglm4, qwen-local, local-NAME, or a cloud name such as gpt-4o-mini.",
        zh=f"未知模型“{base}”：可用 ollama-名称、vllm-模型、lmstudio-/llamacpp-/jan-/localai-/tgwebui-/sglang-模型、"
        "openai-compat-模型(base_url=网址)、chatglm4、qwen-local、local-名称，或云端模型名如 gpt-4o-mini。",
    )
