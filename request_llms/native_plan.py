"""What a native model identifier means on this machine: which folder, device, quantisation and adapter.

Read from the configuration and the folder's config.json in the parent process (no torch here);
the worker receives the resulting LoadPlan and does the loading.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, WeightsMissing
from .model_spec import ModelSpec
from .providers import NATIVE_FOLDER_PREFIX

BUILTIN = "builtin-gemma3-270m"
NATIVE_LAYOUTS = ("glm", "glm4", "qwen2", "qwen3", "gemma3_text", "gemma3", "llama", "mistral")
_PATH_SETTING = {
    "chatglm": "CHATGLM_LOCAL_MODEL_PATH",
    "chatglm3": "CHATGLM_LOCAL_MODEL_PATH",
    "chatglm4": "CHATGLM_LOCAL_MODEL_PATH",
}


@dataclass(frozen=True)
class LoadPlan:
    """Everything the worker needs to load one model; equal plans share one worker."""

    name: str  # the identifier's base, for messages
    folder: str  # the weights ("" for the built-in model, which the worker prepares in cache_dir)
    device: str
    quant: str
    lora: str
    remote_code: bool  # load with the folder's own Python code (ChatGLM2/3 and similar)
    completion_style: bool  # a base model: ask in "Question: ... Answer:" form
    cache_dir: str
    threads: int


def cache_dir(config) -> Path:
    return Path(config["LOCAL_MODEL_CACHE"] or Path.home() / ".cache" / "localscholar")


def _folder_setting(spec: ModelSpec) -> str:
    if spec.provider == NATIVE_FOLDER_PREFIX:
        return f'LOCAL_MODEL_PATHS["{spec.model}"]'
    return _PATH_SETTING.get(spec.base, "QWEN_LOCAL_MODEL_PATH")


def _folder(spec: ModelSpec, config) -> str:
    if spec.provider == NATIVE_FOLDER_PREFIX:
        return config["LOCAL_MODEL_PATHS"].get(spec.model, "")
    return config[_folder_setting(spec)]


def _needs_remote_code(spec: ModelSpec, folder: Path) -> bool:
    try:
        model_config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        model_config = {}
    if model_config.get("model_type") in NATIVE_LAYOUTS:
        return False
    return spec.base in ("chatglm", "chatglm3") or "auto_map" in model_config


def resolve_plan(spec: ModelSpec, config) -> LoadPlan:
    """The LoadPlan for a native spec; raises ConfigError (nothing configured) or WeightsMissing (nothing there)."""
    device = spec.device or config["LOCAL_MODEL_DEVICE"]
    quant = spec.quant or config["LOCAL_MODEL_QUANT"]
    if device == "mps" and quant != "FP16":
        raise ConfigError(
            f'{quant} is not available on mps (Apple GPUs run half precision only): use LOCAL_MODEL_QUANT = "FP16", or device=cpu.',
            f'mps（苹果 GPU）不支持 {quant}，只能用半精度：请设 LOCAL_MODEL_QUANT = "FP16"，或改用 cpu。',
        )
    common = {"device": device, "quant": quant, "lora": spec.lora or config["LOCAL_MODEL_LORA_PATH"]}
    common |= {"cache_dir": str(cache_dir(config)), "threads": config["LOCAL_MODEL_THREADS"]}
    if spec.base == BUILTIN:
        return LoadPlan(BUILTIN, "", remote_code=False, completion_style=True, **common)
    setting = _folder_setting(spec)
    folder = _folder(spec, config)
    if not folder:
        raise ConfigError(
            f"{spec.base} needs the folder of its weights: set {setting} in config_private.py, "
            f"or download them with `python -m request_llms pull {spec.base}`.",
            f"{spec.base} 需要权重文件夹：请在 config_private.py 中设置 {setting}，"
            f"或用 `python -m request_llms pull {spec.base}` 下载。",
        )
    path = Path(os.path.expanduser(folder))
    if not (path / "config.json").is_file():
        raise WeightsMissing(
            f"No model weights at {path} ({setting}): check the path, or run `python -m request_llms pull {spec.base}`.",
            f"{path} 中没有模型权重（{setting}）：请检查路径，或运行 `python -m request_llms pull {spec.base}`。",
        )
    remote_code = _needs_remote_code(spec, path)
    if remote_code:
        _check_remote_code(spec, path)
    return LoadPlan(spec.base, str(path), remote_code=remote_code, completion_style=False, **common)


def _check_remote_code(spec: ModelSpec, folder: Path) -> None:
    """A model that runs its own Python code must carry that code in its folder: nothing is fetched from a hub."""
    try:
        auto_map = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("auto_map") or {}
    except (OSError, ValueError):
        auto_map = {}
    refs = [ref for value in auto_map.values() for ref in (value if isinstance(value, list) else [value]) if ref]
    missing = sorted(
        {ref.split(".")[0] + ".py" for ref in refs if "--" in ref or not (folder / (ref.split(".")[0] + ".py")).is_file()}
    )
    if not auto_map or missing:
        what = ", ".join(missing) or "auto_map in config.json"
        raise WeightsMissing(
            f"{spec.base} runs the model's own code, but {folder} lacks {what}: download the complete model folder "
            f"(`python -m request_llms pull {spec.base}`).",
            f"{spec.base} 需要模型自带的代码，但 {folder} 中缺少 {what}：请下载完整的模型文件夹（`python -m request_llms pull {spec.base}`）。",
        )
