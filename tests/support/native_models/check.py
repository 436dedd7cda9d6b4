"""Build every tiny model into OUTDIR, load each through the Auto classes and generate with it.

Usage: python -m tests.support.native_models.check OUTDIR
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
HISTORY = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "你好"},
]


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def prompt_ids(tokenizer, messages) -> list[int]:
    # transformers 5 returns a BatchEncoding (input_ids + attention_mask) from a tokenizing apply_chat_template.
    encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)
    return list(encoded["input_ids"])


def load_and_generate(folder: Path, *, trust_remote_code: bool = False):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=trust_remote_code)
    load_s = time.perf_counter() - started
    ids = prompt_ids(tokenizer, MESSAGES)
    started = time.perf_counter()
    with torch.no_grad():
        output = model.generate(
            torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long), max_new_tokens=8, do_sample=False
        )
    generate_s = time.perf_counter() - started
    new_ids = output[0, len(ids) :].tolist()
    print(f"  class {type(model).__name__}, model_type {model.config.model_type}, dtype {model.dtype}, vocab {len(tokenizer)}")
    print(f"  load {load_s:.2f} s, generate {generate_s:.2f} s")
    print(f"  prompt text {tokenizer.decode(ids)!r}")
    print(f"  prompt ids {ids}")
    print(f"  prompt ids with history {prompt_ids(tokenizer, HISTORY)}")
    print(f"  new ids {new_ids} -> {tokenizer.decode(new_ids)!r}")
    return tokenizer, model


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.perf_counter()
    import torch
    import transformers
    from transformers.utils import logging

    from . import glm4_model, glm_model, lora_adapter, qwen2_model, remote_code_model

    print(f"import torch {torch.__version__} + transformers {transformers.__version__}: {time.perf_counter() - started:.2f} s")
    torch.set_num_threads(1)
    logging.disable_progress_bar()
    outdir = Path(argv[0]).absolute()
    builders = [("glm", glm_model), ("glm4", glm4_model), ("qwen2", qwen2_model), ("tinychat", remote_code_model)]
    for name, builder in builders:
        started = time.perf_counter()
        folder = builder(outdir / name)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        builder(outdir / name)
        cached_s = time.perf_counter() - started
        print(
            f"{name}: built in {build_s:.2f} s (cached call {cached_s * 1000:.1f} ms), {folder_size(folder) / 1024:.0f} KiB, {folder}"
        )
        print(f"  files {sorted(path.name for path in folder.iterdir())}")
        _, model = load_and_generate(folder, trust_remote_code=name == "tinychat")
        if name == "tinychat":
            quantized = model.quantize(4)
            print(f"  quantize(4) returns the model: {quantized is model}, quantized_bits {model.quantized_bits}")
            from transformers import AutoModelForCausalLM

            try:
                AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=False)
            except Exception as error:
                print(f"  without trust_remote_code: {type(error).__module__}.{type(error).__qualname__}: {error}")
            else:
                print("  without trust_remote_code: loaded (unexpected)")

    started = time.perf_counter()
    adapter = lora_adapter(outdir / "qwen2", outdir / "qwen2-lora")
    print(f"qwen2-lora: built in {time.perf_counter() - started:.2f} s, {folder_size(adapter) / 1024:.0f} KiB, {adapter}")
    print(f"  files {sorted(path.name for path in adapter.iterdir())}")
    import peft
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(outdir / "qwen2")
    ids = torch.tensor([prompt_ids(tokenizer, MESSAGES)])
    base = AutoModelForCausalLM.from_pretrained(outdir / "qwen2")
    with torch.no_grad():
        base_logits = base(ids).logits
    started = time.perf_counter()
    tuned = PeftModel.from_pretrained(base, adapter)
    load_s = time.perf_counter() - started
    with torch.no_grad():
        tuned_logits = tuned(ids).logits
        output = tuned.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False)
    difference = (tuned_logits - base_logits).abs().max().item()
    new_ids = output[0, ids.shape[1] :].tolist()
    print(
        f"  peft {peft.__version__}: PeftModel.from_pretrained {load_s:.2f} s, max |logits(lora) - logits(base)| = {difference:.4f}"
    )
    print(f"  new ids with adapter {new_ids} -> {tokenizer.decode(new_ids)!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
