"""`pull` for native models: fetch a model folder from ModelScope (default, reachable in China) or Hugging Face.

The hub is checked first with a short request, so an offline machine gets one clear line within
seconds instead of minutes of retries; the download itself runs in a child process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from ..errors import BackendUnreachable, ConfigError, ServerError
from ..model_spec import ModelSpec
from .catalog import BUILTINS, FOLDER_PREFIX, NAMED
from .plan import cache_dir, configured_folder, folder_setting

PROBE_SECONDS = 8.0


def hub_url(source: str) -> tuple[str, str]:
    """(label, URL) of a download source; HF_ENDPOINT / MODELSCOPE_DOMAIN mirrors are honoured."""
    if source == "modelscope":
        domain = os.environ.get("MODELSCOPE_DOMAIN", "www.modelscope.cn")
        return "ModelScope", domain if "://" in domain else f"https://{domain}"
    return "Hugging Face", os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def probe(source: str) -> None:
    """Raise BackendUnreachable at once if the hub does not answer (any HTTP answer will do)."""
    label, url = hub_url(source)
    other = "huggingface" if source == "modelscope" else "modelscope"
    try:
        httpx.get(url, timeout=httpx.Timeout(PROBE_SECONDS, connect=PROBE_SECONDS), follow_redirects=False)
    except httpx.HTTPError as exc:
        raise BackendUnreachable(
            en=f"Cannot reach {label} ({url}: {type(exc).__name__}): check the network or proxy, "
            f'or set MODEL_DOWNLOAD_SOURCE = "{other}"; or copy the model folder here by hand and set its path.',
            zh=f'无法连接 {label}（{url}：{type(exc).__name__}）：请检查网络或代理，或设置 MODEL_DOWNLOAD_SOURCE = "{other}"；'
            "也可手动拷贝模型文件夹并设置其路径。",
        ) from None


def pull_native(spec: ModelSpec, config, repo: str | None = None) -> tuple[Path, str]:
    """Download the weights of a native model; returns (folder, the setting that should point at it)."""
    if spec.base in BUILTINS:
        raise ConfigError(
            en="The built-in model ships with LocalScholar: nothing to download.",
            zh="内置模型随 LocalScholar 一同安装，无需下载。",
        )
    source = config["MODEL_DOWNLOAD_SOURCE"]
    repo = repo or (NAMED[spec.base].repo(source) if spec.base in NAMED else None)
    if not repo:
        raise ConfigError(
            en=f"Name the repository to download for {spec.base}: python -m request_llms pull {spec.base} --repo ORG/NAME",
            zh=f"请指明 {spec.base} 要下载的仓库：python -m request_llms pull {spec.base} --repo 组织/名称",
        )
    setting = folder_setting(spec)
    dest = Path(
        configured_folder(spec, config)
        or cache_dir(config) / "models" / (spec.model if spec.provider == FOLDER_PREFIX else spec.base)
    )
    probe(source)
    dest.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "request_llms.native.worker.download", source, repo, str(dest)],
        stderr=subprocess.PIPE,
        text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        label = hub_url(source)[0]
        raise ServerError(
            en=f"Downloading {repo} from {label} failed: {last}",
            zh=f"从 {label} 下载 {repo} 失败：{last}",
        )
    return dest, setting
