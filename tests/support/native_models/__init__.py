"""Tiny offline models for the tests of the native-model (transformers) backend.

Each builder writes a complete model folder (config, float32 safetensors weights, tokenizer files, chat
template, generation config) that loads with transformers' Auto classes and generates on CPU. Building
takes well under a second per model, needs no network and is cached: a model is built into a temporary
folder next to the target and renamed into place, and a builder returns at once when the folder already
holds the same build (recorded in a stamp file). Weights are random with a fixed seed.

Importing this package is cheap: torch, tokenizers, transformers and peft are imported inside the builders.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "CHATML_TEMPLATE",
    "QWEN3_TEMPLATE",
    "GLM4_TEMPLATE",
    "TINYCHAT_TEMPLATE",
    "build_tokenizer",
    "glm4_model",
    "glm_model",
    "lora_adapter",
    "qwen2_model",
    "remote_code_model",
]

BUILD_VERSION = 1
STAMP_FILE = ".native_model_build.json"
SEED = 1234
VOCAB_SIZE = 512
HIDDEN_SIZE = 64
NUM_LAYERS = 2
MAX_POSITIONS = 2048
REMOTE_CODE_FILES = ("configuration_tinychat.py", "modeling_tinychat.py")
_REMOTE_CODE_SOURCE = Path(__file__).with_name("tinychat_src")

# GLM-4 chat format, as in glm-4-9b-chat-hf and GLM-4-0414: a "[gMASK]<sop>" prefix, then each turn as
# "<|role|>\n" + content, and "<|assistant|>\n" as the generation prompt.
GLM4_TEMPLATE = (
    "[gMASK]<sop>"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}<|system|>\n{{ message['content'] }}"
    "{% elif message['role'] == 'user' %}<|user|>\n{{ message['content'] }}"
    "{% elif message['role'] == 'assistant' %}<|assistant|>\n{{ message['content'] }}"
    "{% elif message['role'] in ['observation', 'tool'] %}<|observation|>\n{{ message['content'] }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

# ChatML, as in Qwen2 instruct models, with Qwen's default system prompt when none is given.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Qwen3's way of thinking: the generation prompt opens the thought ("<think>\n") unless enable_thinking is
# false, when it writes an empty thought ("<think>\n\n</think>\n\n") so the answer comes at once.
QWEN3_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% else %}<think>\n{% endif %}"
    "{% endif %}"
)

# ChatGLM3-like: like GLM-4 but the generation prompt "<|assistant|>" has no newline after it.
TINYCHAT_TEMPLATE = (
    "[gMASK]<sop>"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}<|system|>\n{{ message['content'] }}"
    "{% elif message['role'] == 'user' %}<|user|>\n{{ message['content'] }}"
    "{% elif message['role'] == 'assistant' %}<|assistant|>\n{{ message['content'] }}"
    "{% elif message['role'] in ['observation', 'tool'] %}<|observation|>\n{{ message['content'] }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)

# Text the byte-level BPE is trained on: English and Chinese, about an academic assistant's work.
_CORPUS = """\
LocalScholar is an academic assistant that runs large language models on your own computer.
It can polish the English of a paper, translate an abstract into Chinese, and summarise a long PDF.
The model reads the system prompt first, then the history of the conversation, then the new question.
Please be brief. Answer the question in one sentence. Hello, how are you today? Thank you very much.
We propose a new method for training neural networks with less data and fewer parameters.
The results show that our approach improves accuracy on three benchmarks while reducing the cost.
Related work: previous studies have examined attention, transformers, tokenizers and quantisation.
In this section we describe the experimental setup, the data sets, and the evaluation metrics.
Figure 1 shows the architecture of the model. Table 2 lists the hyper-parameters we used.
The reviewer asked us to clarify the contribution and to compare with a stronger baseline.
Conclusion: the method is simple, fast and works well on a laptop without a graphics card.
What is the capital of France? The capital of France is Paris. What is two plus two? It is four.
def main(): print("hello world") return 0 # code, numbers 0 1 2 3 4 5 6 7 8 9 and symbols ( ) [ ] { } : ; , . ! ?
本地学术助手可以在你自己的电脑上运行大语言模型。
它可以润色论文的英文，把摘要翻译成中文，并总结很长的文献。
模型首先读取系统提示，然后读取对话历史，最后回答新的问题。
请简要回答。你好，今天过得怎么样？非常感谢你的帮助。
我们提出了一种新的方法，用更少的数据和参数训练神经网络。
实验结果表明，我们的方法在三个基准上提高了准确率，同时降低了成本。
相关工作：以前的研究讨论了注意力机制、分词器和量化。
本节介绍实验设置、数据集和评价指标。图一展示了模型的结构。
审稿人要求我们说明论文的贡献，并与更强的基线进行比较。
结论：该方法简单、快速，在没有显卡的笔记本电脑上也能很好地工作。
法国的首都是哪里？法国的首都是巴黎。二加二等于几？等于四。
"""

# Tokens in a chat template that must be single special tokens: "<|user|>", "[gMASK]", "<sop>", ...
_TEMPLATE_TOKEN = re.compile(r"<\|[A-Za-z0-9_]+\|>|\[[A-Za-z]+\]|<[a-z]+>")


def _stamp_of(kind: str, params: dict) -> dict:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    return {"kind": kind, "version": BUILD_VERSION, "params_sha256": digest}


def _is_built(folder: Path, stamp: dict) -> bool:
    try:
        return json.loads((folder / STAMP_FILE).read_text(encoding="utf-8")) == stamp
    except (OSError, ValueError):
        return False


def _cached_build(folder: str | os.PathLike, kind: str, params: dict, write: Callable[[Path], None]) -> Path:
    """Run `write(tmp)` into a fresh folder beside `folder` and rename it into place, unless already built."""
    folder = Path(folder).absolute()
    stamp = _stamp_of(kind, params)
    if _is_built(folder, stamp):
        return folder
    if folder.exists():
        # Replace an older build of ours, or an empty folder; refuse to delete anything else.
        if (folder / STAMP_FILE).is_file() or (folder.is_dir() and not any(folder.iterdir())):
            shutil.rmtree(folder, ignore_errors=True)
        else:
            raise FileExistsError(f"{folder} exists and was not made by tests.support.native_models")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".building", dir=folder.parent))
    try:
        write(tmp)
        (tmp / STAMP_FILE).write_text(json.dumps(stamp, sort_keys=True), encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:
            # Another process finished the same build first: use its folder.
            if not _is_built(folder, stamp):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _special_tokens(chat_template: str, bos: str, eos: str, pad: str, extra: Iterable[str]) -> list[str]:
    tokens = [pad, bos, eos, *_TEMPLATE_TOKEN.findall(chat_template), *extra]
    return list(dict.fromkeys(tokens))


def _write_tokenizer(
    folder: Path,
    chat_template: str,
    *,
    bos_token: str,
    eos_token: str,
    pad_token: str,
    special_tokens: Iterable[str] = (),
):
    """Train the tiny byte-level BPE and save it, wrapped in a fast tokenizer, into an existing folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = _special_tokens(chat_template, bos_token, eos_token, pad_token, special_tokens)
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=1,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_CORPUS.splitlines(), trainer=trainer)
    extra = [token for token in specials if token not in (bos_token, eos_token, pad_token)]
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=bos_token,
        eos_token=eos_token,
        pad_token=pad_token,
        additional_special_tokens=extra,
        chat_template=chat_template,
        model_max_length=MAX_POSITIONS,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.save_pretrained(folder)
    return tokenizer


def build_tokenizer(
    folder: str | os.PathLike,
    chat_template: str,
    *,
    bos_token: str = "<|startoftext|>",
    eos_token: str = "<|endoftext|>",
    pad_token: str = "<|pad|>",
    special_tokens: Iterable[str] = (),
) -> Path:
    """A tiny byte-level BPE tokenizer (512 tokens, English and Chinese) with `chat_template`, saved in `folder`.

    Tokens written literally in the template ("<|user|>", "[gMASK]", "<sop>", "<|im_start|>", ...) become
    special tokens, as do `special_tokens` (name there any a template builds at run time, such as
    "<|{{ role }}|>"). No token is added automatically when encoding: the template carries its own prefix.
    Cached like the model builders.
    """
    special_tokens = list(special_tokens)
    params = {
        "chat_template": chat_template,
        "bos": bos_token,
        "eos": eos_token,
        "pad": pad_token,
        "special": special_tokens,
    }

    def write(tmp: Path) -> None:
        _write_tokenizer(
            tmp, chat_template, bos_token=bos_token, eos_token=eos_token, pad_token=pad_token, special_tokens=special_tokens
        )

    return _cached_build(folder, "tokenizer", params, write)


def _save_model(folder: Path, model, tokenizer, eos_tokens: list[str]) -> None:
    """Save weights and a generation config that stops on every token of `eos_tokens`."""
    from transformers import GenerationConfig

    eos_ids = tokenizer.convert_tokens_to_ids(eos_tokens)
    model.generation_config = GenerationConfig(
        eos_token_id=eos_ids,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        do_sample=False,
        use_cache=model.config.use_cache,
    )
    model.save_pretrained(folder)


def _native_model(
    folder, kind: str, config_class_name: str, model_class_name: str, template: str, tokens: dict, config: dict
) -> Path:
    params = {"template": template, "tokens": tokens, "config": config, "classes": [config_class_name, model_class_name]}

    def write(tmp: Path) -> None:
        import torch
        import transformers

        tokenizer = _write_tokenizer(
            tmp,
            template,
            bos_token=tokens["bos"],
            eos_token=tokens["eos"],
            pad_token=tokens["pad"],
            special_tokens=tokens.get("special", ()),
        )
        config_class = getattr(transformers, config_class_name)
        model_config = config_class(
            vocab_size=len(tokenizer),
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.convert_tokens_to_ids(tokens["stop"]),
            max_position_embeddings=MAX_POSITIONS,
            tie_word_embeddings=False,
            **config,
        )
        torch.manual_seed(SEED)
        model = getattr(transformers, model_class_name)(model_config).to(torch.float32).eval()
        _save_model(tmp, model, tokenizer, tokens["stop"])

    return _cached_build(folder, kind, params, write)


_GLM_TOKENS = {
    "bos": "<|startoftext|>",
    "eos": "<|endoftext|>",
    "pad": "<|endoftext|>",
    "stop": ["<|endoftext|>", "<|user|>", "<|observation|>"],
}
_GLM_CONFIG = {
    "hidden_size": HIDDEN_SIZE,
    "intermediate_size": 128,
    "num_hidden_layers": NUM_LAYERS,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    # The defaults (head_dim 128, rms_norm_eps 1.5625e-07, ids around 151329) describe the 9B model.
    "head_dim": HIDDEN_SIZE // 4,
    "rms_norm_eps": 1e-5,
    "attention_bias": True,
}


def glm_model(folder: str | os.PathLike) -> Path:
    """`GlmForCausalLM` (model_type "glm", the glm-4-9b-chat-hf layout) with the GLM-4 chat template."""
    return _native_model(folder, "glm", "GlmConfig", "GlmForCausalLM", GLM4_TEMPLATE, _GLM_TOKENS, _GLM_CONFIG)


def glm4_model(folder: str | os.PathLike) -> Path:
    """`Glm4ForCausalLM` (model_type "glm4", the GLM-4-0414 layout) with the GLM-4 chat template."""
    return _native_model(folder, "glm4", "Glm4Config", "Glm4ForCausalLM", GLM4_TEMPLATE, _GLM_TOKENS, _GLM_CONFIG)


def qwen2_model(folder: str | os.PathLike) -> Path:
    """`Qwen2ForCausalLM` with the ChatML template; generation stops on "<|im_end|>" (and "<|endoftext|>")."""
    tokens = {"bos": "<|startoftext|>", "eos": "<|im_end|>", "pad": "<|endoftext|>", "stop": ["<|im_end|>", "<|endoftext|>"]}
    config = {
        "hidden_size": HIDDEN_SIZE,
        "intermediate_size": 128,
        "num_hidden_layers": NUM_LAYERS,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-6,
    }
    return _native_model(folder, "qwen2", "Qwen2Config", "Qwen2ForCausalLM", CHATML_TEMPLATE, tokens, config)


def qwen3_thinking_model(folder: str | os.PathLike) -> Path:
    """`Qwen3ForCausalLM` with a template that opens the thought itself, as Qwen3 and DeepSeek-R1 do; `<think>` and
    `</think>` are tokens of their own, as in Qwen3's tokenizer (vLLM's reasoning parsers look for them)."""
    tokens = {"bos": "<|startoftext|>", "eos": "<|im_end|>", "pad": "<|endoftext|>", "stop": ["<|im_end|>", "<|endoftext|>"]}
    tokens["special"] = ["<think>", "</think>"]
    config = {
        "hidden_size": HIDDEN_SIZE,
        "intermediate_size": 128,
        "num_hidden_layers": NUM_LAYERS,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 64,  # vLLM's CPU attention takes 32, 64, 80, ... but not 16
        "rms_norm_eps": 1e-6,
    }
    return _native_model(folder, "qwen3", "Qwen3Config", "Qwen3ForCausalLM", QWEN3_TEMPLATE, tokens, config)


def remote_code_model(folder: str | os.PathLike) -> Path:
    """A "tinychat" model whose code lives in the folder: it loads only with `trust_remote_code=True`.

    config.json's `auto_map` points AutoConfig and AutoModelForCausalLM at the folder's
    configuration_tinychat.py and modeling_tinychat.py. The model has a ChatGLM-style `quantize(bits)`
    that records `bits` in `model.quantized_bits` (and `config.quantization_bit`) and returns the model.
    The tokenizer is an ordinary fast tokenizer (no remote code) with a ChatGLM3-like template.
    """
    sources = {name: (_REMOTE_CODE_SOURCE / name).read_text(encoding="utf-8") for name in REMOTE_CODE_FILES}
    stop = ["<|endoftext|>", "<|user|>", "<|observation|>"]
    params = {"template": TINYCHAT_TEMPLATE, "sources": sources, "stop": stop}

    def write(tmp: Path) -> None:
        import torch

        from .tinychat_src.configuration_tinychat import TinyChatConfig
        from .tinychat_src.modeling_tinychat import TinyChatForCausalLM

        tokenizer = _write_tokenizer(
            tmp, TINYCHAT_TEMPLATE, bos_token="<|startoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>"
        )
        config = TinyChatConfig(
            vocab_size=len(tokenizer),
            hidden_size=HIDDEN_SIZE,
            num_layers=NUM_LAYERS,
            seq_length=MAX_POSITIONS,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.convert_tokens_to_ids(stop),
        )
        config.auto_map = {
            "AutoConfig": "configuration_tinychat.TinyChatConfig",
            "AutoModel": "modeling_tinychat.TinyChatForCausalLM",
            "AutoModelForCausalLM": "modeling_tinychat.TinyChatForCausalLM",
        }
        torch.manual_seed(SEED)
        model = TinyChatForCausalLM(config).to(torch.float32).eval()
        _save_model(tmp, model, tokenizer, stop)
        for name, text in sources.items():
            (tmp / name).write_text(text, encoding="utf-8")

    return _cached_build(folder, "tinychat", params, write)


def lora_adapter(base_folder: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """A LoRA adapter (peft, rank 4, on q/k/v/o projections) for the model of `qwen2_model(base_folder)`.

    Its B matrices are random, not zero, so `PeftModel.from_pretrained(base, folder)` changes the logits.
    `base_model_name_or_path` in adapter_config.json is the absolute base folder.
    """
    base_folder = qwen2_model(base_folder)
    params = {"base": str(base_folder), "base_stamp": (base_folder / STAMP_FILE).read_text(encoding="utf-8"), "rank": 4}

    def write(tmp: Path) -> None:
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        base = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32)
        lora = LoraConfig(
            r=4,
            lora_alpha=8,
            lora_dropout=0.0,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(base, lora)
        generator = torch.Generator().manual_seed(SEED)
        with torch.no_grad():
            for name, weight in model.named_parameters():
                if "lora_B" in name:
                    weight.copy_(torch.randn(weight.shape, generator=generator) * 0.5)
        model.save_pretrained(tmp)
        config_path = tmp / "adapter_config.json"
        adapter_config = json.loads(config_path.read_text(encoding="utf-8"))
        adapter_config["base_model_name_or_path"] = str(base_folder)
        config_path.write_text(json.dumps(adapter_config, indent=2, sort_keys=True), encoding="utf-8")

    return _cached_build(folder, "lora", params, write)
