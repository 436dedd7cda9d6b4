"""Convert the Gemma GGUF into a Hugging Face safetensors folder; run as a script.

provision.gemma_hf_folder() runs this file with the test venv's Python in a child process,
so the test process itself never imports torch or transformers.

    python gguf_to_hf.py GGUF_FILE OUT_DIR CHAT_TEMPLATE_FILE

transformers dequantises the GGUF weights on load; they are saved in bfloat16. The saved
tokenizer gets add_bos_token=True (without it generation degenerates) and the Gemma chat
template, so servers such as vLLM can serve chat requests from the folder.
"""

import sys
from pathlib import Path


def convert(gguf_file: Path, out_dir: Path, template_file: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name, dtype=torch.bfloat16)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir)
    tokenizer.add_bos_token = True
    tokenizer.chat_template = template_file.read_text(encoding="utf-8")
    tokenizer.save_pretrained(out_dir)


def check(out_dir: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(out_dir)
    if getattr(config, "quantization_config", None) is not None:
        raise SystemExit("saved config still has a quantization_config")
    tokenizer = AutoTokenizer.from_pretrained(out_dir)
    ids = tokenizer("Hello").input_ids
    if not ids or ids[0] != tokenizer.bos_token_id:
        raise SystemExit(f"saved tokenizer does not add BOS: {ids}")
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    if not prompt.endswith("<start_of_turn>model\n"):
        raise SystemExit(f"saved chat template renders unexpectedly: {prompt!r}")


def main(argv: list[str]) -> None:
    if len(argv) != 4:
        raise SystemExit(__doc__)
    gguf_file, out_dir, template_file = (Path(arg) for arg in argv[1:])
    convert(gguf_file, out_dir, template_file)
    check(out_dir)
    print(f"saved {out_dir}")


if __name__ == "__main__":
    main(sys.argv)
