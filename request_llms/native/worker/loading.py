"""Load a native model for a LoadPlan: pick the device, apply the quantisation, attach a LoRA adapter.

What FP16 / INT8 / INT4 mean on each device:
- cuda: half precision (bfloat16 where the GPU has it and the weights were saved so, else float16);
  INT8 and INT4 through bitsandbytes (8-bit, and 4-bit NF4); ChatGLM2/3 remote code uses its own
  `.quantize(bits)`.
- cpu: FP16 is bfloat16 (faster than float32 on CPUs with bf16 support, half the memory); INT8 is
  dynamic int8 quantisation of the Linear layers (about twice the speed of float32); INT4 is
  bitsandbytes NF4 (the smallest footprint).
- mps: half precision only (the parent refuses INT8 / INT4 there).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...text import Text
from ..plan import LoadPlan
from .failures import WorkerFailure, missing_package, out_of_memory

Progress = Callable[[Text, float], None]
STARTING = Text(zh="正在启动", en="starting")
TOKENIZER = Text(zh="正在读取分词器", en="loading the tokenizer")
WEIGHTS = Text(zh="正在读取权重", en="loading the weights")
READY = Text(zh="就绪", en="ready")


@dataclass
class Loaded:
    model: object
    tokenizer: object
    device: str
    info: dict


def counting_tokenizer(tokenizer) -> Callable[[str], int]:
    """A token counter with its own copy of the tokenizer, safe to use while another thread generates."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:  # a fast tokenizer: a separate Rust object, so no borrow is shared
        from tokenizers import Tokenizer

        separate = Tokenizer.from_str(backend.to_str())
        return lambda text: len(separate.encode(text, add_special_tokens=False).ids)
    separate_slow = copy.deepcopy(tokenizer)
    return lambda text: len(separate_slow.encode(text, add_special_tokens=False))


def resolve_device(requested: str) -> tuple[str, str]:
    """(device, notice) for a configured device; raises when a GPU is asked for and absent."""
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda", ""
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps", ""
        return "cpu", "no GPU found, running on the CPU"
    if requested.startswith("cuda"):
        index = int(requested.split(":")[1]) if ":" in requested else 0
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise WorkerFailure(
                "NoGPU",
                en=f'LOCAL_MODEL_DEVICE is {requested}, but this machine has no such CUDA GPU: use "cpu" (or "auto").',
                zh=f'LOCAL_MODEL_DEVICE 为 {requested}，但本机没有对应的 CUDA GPU：请改为 "cpu"（或 "auto"）。',
            )
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise WorkerFailure(
            "NoGPU",
            en='LOCAL_MODEL_DEVICE is mps, but this machine has no Apple GPU: use "cpu".',
            zh='LOCAL_MODEL_DEVICE 为 mps，但本机没有苹果 GPU：请改为 "cpu"。',
        )
    return requested, ""


def _half_dtype(device: str, folder: Path):
    import torch

    if device == "cpu":
        return torch.bfloat16
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def _bnb_config(quant: str, device: str):
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise missing_package("bitsandbytes", f"{quant} quantisation") from None
    import torch
    from transformers import BitsAndBytesConfig

    if quant == "INT8":
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = torch.bfloat16 if device == "cpu" or torch.cuda.is_bf16_supported() else torch.float16
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=compute)


def _from_pretrained(plan: LoadPlan, folder: Path, device: str) -> tuple[object, str]:
    """The model on its device with the plan's quantisation, and how that quantisation was done."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict = {"trust_remote_code": plan.remote_code, "local_files_only": True}
    uses_own_quantize = plan.remote_code and plan.quant != "FP16"
    if plan.quant == "FP16" or uses_own_quantize:
        kwargs["dtype"] = _half_dtype(device, folder)
    elif plan.quant == "INT8" and device == "cpu":
        kwargs["dtype"] = torch.float32  # quantised dynamically after loading
    else:
        kwargs["quantization_config"] = _bnb_config(plan.quant, device)
        kwargs["device_map"] = device if device != "cuda" else "cuda:0"
    model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    if "device_map" not in kwargs:
        model = model.to(device)
    bits = 8 if plan.quant == "INT8" else 4
    if uses_own_quantize and hasattr(model, "quantize"):
        return model.quantize(bits), f"the model's own quantize({bits})"
    if plan.quant == "INT8" and device == "cpu":
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8), "dynamic int8 (Linear layers)"
    if plan.quant == "FP16" or uses_own_quantize:
        return model, str(kwargs["dtype"]).removeprefix("torch.")
    return model, "bitsandbytes 8-bit" if plan.quant == "INT8" else "bitsandbytes 4-bit NF4"


def _attach_lora(model, lora: str):
    if not lora:
        return model
    if not (Path(lora) / "adapter_config.json").is_file():
        raise WorkerFailure(
            "WeightsMissing",
            en=f"No LoRA adapter at {lora} (adapter_config.json missing): check LOCAL_MODEL_LORA_PATH or lora= in the brackets.",
            zh=f"{lora} 中没有 LoRA 适配器（缺少 adapter_config.json）：请检查 LOCAL_MODEL_LORA_PATH 或括号中的 lora=。",
        )
    try:
        from peft import PeftModel
    except ImportError:
        raise missing_package("peft", "A LoRA adapter") from None
    return PeftModel.from_pretrained(model, lora, is_trainable=False)


def load(plan: LoadPlan, progress: Progress) -> Loaded:
    """Load the model of `plan`, reporting progress; raise WorkerFailure with the fix on failure."""
    started = time.perf_counter()
    progress(STARTING, 1)
    try:
        import torch
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise missing_package(exc.name or "transformers", "Native models") from None
    if plan.threads:
        torch.set_num_threads(plan.threads)
    device, notice = resolve_device(plan.device)
    folder = Path(plan.folder)
    if not plan.folder:
        from .builtin import prepare

        folder = prepare(Path(plan.cache_dir), progress)
    progress(TOKENIZER, 60)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=plan.remote_code, local_files_only=True)
        progress(WEIGHTS, 70)
        model, method = _from_pretrained(plan, folder, device)
        model = _attach_lora(model, plan.lora)
    except torch.cuda.OutOfMemoryError:
        raise out_of_memory(plan.name, device) from None
    except (OSError, ValueError) as exc:
        raise _load_failure(plan, folder, exc) from None
    model.eval()
    progress(READY, 100)
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    info = {
        "device": device,
        "quant": plan.quant,
        "method": method,
        "dtype": dtype,
        "notice": notice,
        "load_seconds": time.perf_counter() - started,
    }
    info["gpu_bytes"] = torch.cuda.memory_allocated() if device.startswith("cuda") else 0
    info["pid"] = os.getpid()
    return Loaded(model, tokenizer, device, info)


def _load_failure(plan: LoadPlan, folder: Path, exc: Exception) -> WorkerFailure:
    text = str(exc)
    if "trust_remote_code" in text or "custom code" in text:
        return WorkerFailure(
            "ModelLoadFailed",
            en=f"{folder} needs its own model code (remote code) that LocalScholar could not run: {text.splitlines()[0][:200]}",
            zh=f"{folder} 需要其自带的模型代码（remote code），但无法运行：{text.splitlines()[0][:200]}",
        )
    if "out of memory" in text.lower():
        return out_of_memory(plan.name, plan.device)
    return WorkerFailure(
        "ModelLoadFailed",
        en=f"{plan.name} could not be loaded from {folder}: {text.splitlines()[0][:300] if text else type(exc).__name__}",
        zh=f"无法从 {folder} 加载 {plan.name}：{text.splitlines()[0][:300] if text else type(exc).__name__}",
    )
