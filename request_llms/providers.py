"""Static tables of the servers and vendors LocalScholar knows: identifier prefixes, default URLs, key names.

Adding a local OpenAI-compatible server or a cloud vendor is one row here; native models are in native/catalog.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class LocalServer:
    """An OpenAI-compatible server that runs on the user's own machine or network."""

    prefix: str  # identifiers look like PREFIX-MODEL
    label: str
    default_url: str | None  # None: the user must give one
    start_hint: str  # how to start it, for the "unreachable" message


LOCAL_SERVERS: dict[str, LocalServer] = {
    s.prefix: s
    for s in (
        LocalServer(
            "vllm",
            "vLLM",
            "http://localhost:8000/v1",
            "python -m vllm.entrypoints.openai.api_server --model MODEL",
        ),
        LocalServer("lmstudio", "LM Studio", "http://localhost:1234/v1", "LM Studio → Developer → Start Server"),
        LocalServer("llamacpp", "llama.cpp server", "http://localhost:8080/v1", "llama-server -m MODEL.gguf"),
        LocalServer("jan", "Jan", "http://localhost:1337/v1", "Jan → Settings → Local API Server → Start"),
        LocalServer("localai", "LocalAI", "http://localhost:8080/v1", "local-ai run MODEL"),
        LocalServer(
            "tgwebui",
            "text-generation-webui",
            "http://localhost:5000/v1",
            "python server.py --api",
        ),
        LocalServer("sglang", "SGLang", "http://localhost:30000/v1", "python -m sglang.launch_server --model-path MODEL"),
        LocalServer("openai-compat", "OpenAI-compatible server", None, "start your server"),
    )
}


@dataclass(frozen=True)
class CloudVendor:
    """A cloud API that speaks the OpenAI chat protocol."""

    name: str
    label: str
    base_url: str
    key_setting: str  # the configuration key that holds its API key
    pattern: re.Pattern[str]  # which identifiers belong to it
    strip_prefix: str = ""  # removed from the identifier to get the vendor's model name
    offered: str = ""  # the model in the default list once its key is set (AVAIL_LLM_MODELS left unset)


CLOUD_VENDORS: tuple[CloudVendor, ...] = (
    CloudVendor(
        "openai",
        "OpenAI",
        "https://api.openai.com/v1",
        "API_KEY",
        re.compile(r"(gpt-|chatgpt-|o[1-9](-|$)|text-embedding-)"),
        offered="gpt-4o-mini",
    ),
    CloudVendor(
        "deepseek",
        "DeepSeek",
        "https://api.deepseek.com/v1",
        "DEEPSEEK_API_KEY",
        re.compile(r"deepseek-"),
        offered="deepseek-chat",
    ),
    CloudVendor(
        "dashscope",
        "通义千问 DashScope",
        "https://dashscope.aliyuncs.com/compatible-mode/v1",
        "DASHSCOPE_API_KEY",
        re.compile(r"(qwen-(max|plus|turbo|long)(-|$)|dashscope-)"),
        strip_prefix="dashscope-",
        offered="qwen-plus",
    ),
    CloudVendor(
        "zhipu", "智谱 GLM", "https://open.bigmodel.cn/api/paas/v4", "ZHIPUAI_API_KEY", re.compile(r"glm-"), offered="glm-4-flash"
    ),
    CloudVendor(
        "moonshot",
        "Moonshot Kimi",
        "https://api.moonshot.cn/v1",
        "MOONSHOT_API_KEY",
        re.compile(r"(moonshot-|kimi-)"),
        offered="moonshot-v1-8k",
    ),
)


def cloud_vendor_for(name: str) -> CloudVendor | None:
    for vendor in CLOUD_VENDORS:
        if vendor.pattern.match(name):
            return vendor
    return None
