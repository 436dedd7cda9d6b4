"""Failures inside the worker, sent to the parent as (kind, English line, Chinese line)."""

from __future__ import annotations


class WorkerFailure(Exception):
    """A failure the parent turns into the typed error named by `kind` (see native/backend.py)."""

    def __init__(self, kind: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.kind, self.en, self.zh = kind, en, zh


def out_of_memory(name: str, device: str) -> WorkerFailure:
    return WorkerFailure(
        "OutOfMemory",
        en=f'{name} ran out of memory on {device}: use LOCAL_MODEL_QUANT = "INT8" or "INT4", a smaller model, or a shorter conversation.',
        zh=f'{name} 在 {device} 上内存不足：请设 LOCAL_MODEL_QUANT = "INT8" 或 "INT4"、换更小的模型，或缩短对话。',
    )


def missing_package(package: str, why: str) -> WorkerFailure:
    return WorkerFailure(
        "DependencyMissing",
        en=f"{why} needs the Python package {package}: pip install {package}",
        zh=f"{why}需要 Python 包 {package}：pip install {package}",
    )
