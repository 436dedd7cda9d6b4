"""What a native model identifier means on this machine: which folder, device, quantisation and adapter.

Read from the configuration and the folder's config.json in the parent process (no torch here);
the worker receives the resulting LoadPlan and does the loading.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, WeightsMissing
from ..model_spec import ModelSpec
from .catalog import (
    BUILTIN,
    BUILTIN_EMBED,
    BUILTIN_EMBED_TOKENS,
    FOLDER_PREFIX,
    NATIVE_LAYOUTS,
    PATH_SETTINGS,
    context_length,
    is_encoder,
    model_config,
)
from .gguf import GGUF_CONTEXT, is_gguf, server_command


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
    runner: str = "transformers"  # which library runs it (native/worker/runners.py): transformers, llamacpp, encoder
    context: int = 0  # tokens of context llama.cpp reserves (GGUF models), an encoder's longest input; 0 otherwise

    @property
    def embeds(self) -> bool:
        """An embedding model: it answers `embed`, not `generate`."""
        return self.runner == "encoder"


def cache_dir(config) -> Path:
    return Path(config["LOCAL_MODEL_CACHE"] or Path.home() / ".cache" / "localscholar")


def folder_setting(spec: ModelSpec) -> str:
    """The configuration key that names the model's folder."""
    if spec.provider == FOLDER_PREFIX:
        return f'LOCAL_MODEL_PATHS["{spec.model}"]'
    return PATH_SETTINGS[spec.base]


def configured_folder(spec: ModelSpec, config) -> str:
    """The folder the configuration names for the model ("" when none)."""
    if spec.provider == FOLDER_PREFIX:
        return config["LOCAL_MODEL_PATHS"].get(spec.model, "")
    return config[folder_setting(spec)]


def _needs_remote_code(spec: ModelSpec, folder: Path) -> bool:
    found = model_config(folder)
    if found.get("model_type") in NATIVE_LAYOUTS:
        return False
    return spec.base in ("chatglm", "chatglm3") or "auto_map" in found


def resolve_plan(spec: ModelSpec, config) -> LoadPlan:
    """The LoadPlan for a native spec; raises ConfigError (nothing configured) or WeightsMissing (nothing there)."""
    device = spec.device or config["LOCAL_MODEL_DEVICE"]
    quant = spec.quant or config["LOCAL_MODEL_QUANT"]
    common = {"device": device, "lora": spec.lora or config["LOCAL_MODEL_LORA_PATH"]}
    common |= {"cache_dir": str(cache_dir(config)), "threads": config["LOCAL_MODEL_THREADS"]}
    # a GGUF file carries its own quantisation; transformers applies the one asked for
    gguf_runner = {"runner": "llamacpp", "context": spec.max_token or GGUF_CONTEXT, "quant": "GGUF"}
    if spec.base == BUILTIN:
        # llama.cpp runs the file as it is; a quantisation or GPU asked for by name, or no llama.cpp, means
        # transformers on a converted copy, where FP16 / INT8 / INT4 and cuda mean what they say
        as_is = spec.quant is None and (spec.device or "auto") in ("auto", "cpu")
        runs_gguf = as_is and server_command() is not None
        return LoadPlan(
            BUILTIN,
            "",
            remote_code=False,
            completion_style=True,
            **common,
            **(gguf_runner if runs_gguf else _converted(device, quant)),
        )
    if spec.base == BUILTIN_EMBED:
        context = min(spec.max_token or BUILTIN_EMBED_TOKENS, BUILTIN_EMBED_TOKENS)
        return LoadPlan(BUILTIN_EMBED, "", remote_code=False, completion_style=False, **common, **_encoder(quant, context))
    setting = folder_setting(spec)
    folder = configured_folder(spec, config)
    if not folder:
        raise ConfigError(
            en=f"{spec.base} needs the folder of its weights: set {setting} in config_private.py, "
            f"or download them with `python -m request_llms pull {spec.base}`.",
            zh=f"{spec.base} 需要权重文件夹：请在 config_private.py 中设置 {setting}，"
            f"或用 `python -m request_llms pull {spec.base}` 下载。",
        )
    path = Path(os.path.expanduser(folder))
    if is_gguf(path):
        if not path.is_file():
            raise WeightsMissing(
                en=f"No GGUF file at {path} ({setting}): check the path.",
                zh=f"{path} 处没有 GGUF 文件（{setting}）：请检查路径。",
            )
        return LoadPlan(spec.base, str(path), remote_code=False, completion_style=False, **common, **gguf_runner)
    if not (path / "config.json").is_file():
        raise WeightsMissing(
            en=f"No model weights at {path} ({setting}): check the path, or run `python -m request_llms pull {spec.base}`.",
            zh=f"{path} 中没有模型权重（{setting}）：请检查路径，或运行 `python -m request_llms pull {spec.base}`。",
        )
    if is_encoder(path):
        longest = _longest_input(path)
        context = min(n for n in (spec.max_token, longest) if n) if spec.max_token or longest else 0
        return LoadPlan(spec.base, str(path), remote_code=False, completion_style=False, **common, **_encoder(quant, context))
    remote_code = _needs_remote_code(spec, path)
    if remote_code:
        _check_remote_code(spec, path)
    return LoadPlan(spec.base, str(path), remote_code=remote_code, completion_style=False, **common, **_converted(device, quant))


def _encoder(quant: str, context: int) -> dict:
    """An embedding model's runner: FP16 on a GPU means half precision; elsewhere it runs in float32."""
    return {"runner": "encoder", "quant": quant, "context": context}


def _longest_input(folder: Path) -> int | None:
    """An encoder folder's longest input: sentence-transformers' max_seq_length, else its position embeddings."""
    try:
        found = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = {}
    longest = found.get("max_seq_length") if isinstance(found, dict) else None
    return longest if isinstance(longest, int) and longest > 0 else context_length(folder)


def _converted(device: str, quant: str) -> dict:
    """The quantisation transformers applies on the device."""
    if device == "mps" and quant != "FP16":
        raise ConfigError(
            en=f'{quant} is not available on mps (Apple GPUs run half precision only): use LOCAL_MODEL_QUANT = "FP16", or device=cpu.',
            zh=f'mps（苹果 GPU）不支持 {quant}，只能用半精度：请设 LOCAL_MODEL_QUANT = "FP16"，或改用 cpu。',
        )
    return {"quant": quant}


def _check_remote_code(spec: ModelSpec, folder: Path) -> None:
    """A model that runs its own Python code must carry that code in its folder: nothing is fetched from a hub."""
    auto_map = model_config(folder).get("auto_map") or {}
    refs = [ref for value in auto_map.values() for ref in (value if isinstance(value, list) else [value]) if ref]
    missing = sorted(
        {ref.split(".")[0] + ".py" for ref in refs if "--" in ref or not (folder / (ref.split(".")[0] + ".py")).is_file()}
    )
    if not auto_map or missing:
        what = ", ".join(missing) or "auto_map in config.json"
        raise WeightsMissing(
            en=f"{spec.base} runs the model's own code, but {folder} lacks {what}: download the complete model folder "
            f"(`python -m request_llms pull {spec.base}`).",
            zh=f"{spec.base} 需要模型自带的代码，但 {folder} 中缺少 {what}：请下载完整的模型文件夹（`python -m request_llms pull {spec.base}`）。",
        )
