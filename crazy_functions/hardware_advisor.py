"""硬件评估与模型推荐: what this machine can run, which common local model fits where, and how to deploy it.

No LLM is asked. The memory each model needs is an estimate from its parameter count (see `need_bytes`);
the verdict compares it with the GPU's free memory and the available RAM; the deployment advice picks
Ollama (q4_K_M) for CPUs and small GPUs, LocalScholar's native models (FP16 / INT8 / INT4), or vLLM
on a large NVIDIA GPU. The models Ollama already has are listed from its /api/tags.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from request_llms.native.catalog import CATALOG, CatalogModel
from toolbox import CatchException, update_ui

from .models.hardware_facts import MachineFacts, machine_facts
from .runtime.registry import Plugin

GIB = 1024**3
BYTES_PER_PARAM = {"FP16": 2.0, "INT8": 1.0, "INT4": 0.5}
OVERHEAD = 1.2  # activations, runtime buffers, fragmentation
CONTEXT_TOKENS = 4096
KV_BYTES = 2  # the KV cache is kept in 16-bit
GPU_SHARE = 0.9  # of a GPU's total memory usable when its free memory is not known
RAM_SHARE = 0.8  # of the RAM usable when the available memory is not known
VLLM_MIN_GPU = 20 * GIB  # a "large" GPU: vLLM's preallocated cache has room beside FP16 weights
CPU_COMFORT_PARAMS = (4.5, 8.5)  # billions: above this a CPU (under 8 cores, 8 or more) answers too slowly
MANY_CORES = 8
OLLAMA_SECONDS = 3.0

GPU, CPU, NONE = "gpu", "cpu", "none"
MARK = {GPU: "✅", CPU: "🟡", NONE: "❌"}


# The models the advice weighs: the catalog's open models (sizes, hub repositories, Ollama tags).
MODELS = tuple(model for model in CATALOG if model.advise)


def kv_cache_bytes(model: CatalogModel, context: int = CONTEXT_TOKENS) -> int:
    """Keys and values of every layer for `context` tokens."""
    return 2 * model.layers * model.kv_heads * model.head_dim * context * KV_BYTES


def need_bytes(model: CatalogModel, quant: str) -> int:
    """The estimate: parameters × bytes per parameter × OVERHEAD + the KV cache of a 4k context."""
    return int(model.params_b * 1e9 * BYTES_PER_PARAM[quant] * OVERHEAD + kv_cache_bytes(model))


def gpu_room(facts: MachineFacts) -> int | None:
    gpu = facts.best_gpu
    if gpu is None:
        return None
    return gpu.free_bytes if gpu.free_bytes is not None else int((gpu.total_bytes or 0) * GPU_SHARE)


def ram_room(facts: MachineFacts) -> int | None:
    if facts.ram_available is not None:
        return facts.ram_available
    return int(facts.ram_total * RAM_SHARE) if facts.ram_total else None


def place(model: CatalogModel, quant: str, facts: MachineFacts) -> str:
    """Where the model runs at this precision on this machine: GPU, CPU (in RAM) or NONE."""
    need = need_bytes(model, quant)
    if (room := gpu_room(facts)) is not None and need <= room:
        return GPU
    if (room := ram_room(facts)) is not None and need <= room:
        return CPU
    return NONE


def best_fit(model: CatalogModel, facts: MachineFacts, where: str) -> str | None:
    """The highest precision that runs `where` (GPU or CPU), or None."""
    return next((quant for quant in BYTES_PER_PARAM if place(model, quant, facts) == where), None)


@dataclass(frozen=True)
class Advice:
    where: str  # GPU, CPU or NONE
    quant: str | None  # the highest precision that fits there
    way_zh: str
    way_en: str
    identifiers: tuple[str, ...]  # first the recommended one, then an alternative


def _native(model: CatalogModel, quant: str, device: str = "") -> str:
    params = [f"quant={quant}", *([f"device={device}"] if device else [])]
    return f"{model.identifier}({', '.join(params)})"


def cpu_comfort(facts: MachineFacts) -> float:
    """The largest model (billions of parameters) that answers at a usable speed on this CPU."""
    cores = facts.physical_cores or facts.cpu_cores or 1
    return CPU_COMFORT_PARAMS[1] if cores >= MANY_CORES else CPU_COMFORT_PARAMS[0]


def advise(model: CatalogModel, facts: MachineFacts) -> Advice:
    """How to deploy `model` on this machine."""
    gpu_quant = best_fit(model, facts, GPU)
    gpu = facts.best_gpu
    if gpu_quant == "FP16" and gpu and (gpu.total_bytes or 0) >= VLLM_MIN_GPU:
        return Advice(
            GPU,
            "FP16",
            "vLLM（大显存 NVIDIA GPU）",
            "vLLM (large NVIDIA GPU)",
            (f"vllm-{model.huggingface}", _native(model, "FP16")),
        )
    if gpu_quant:
        native = _native(model, gpu_quant)
        if model.ollama:
            return Advice(GPU, gpu_quant, "Ollama（q4_K_M，GPU）", "Ollama (q4_K_M, GPU)", (f"ollama-{model.ollama}", native))
        return Advice(GPU, gpu_quant, f"LocalScholar 原生 {gpu_quant}", f"LocalScholar native {gpu_quant}", (native,))
    cpu_quant = best_fit(model, facts, CPU)
    if cpu_quant:
        device = "cpu" if facts.gpus else ""  # with no GPU, the default device (auto) is the CPU
        native = _native(model, "INT8" if place(model, "INT8", facts) == CPU else "INT4", device)
        slow_zh, slow_en = ("，较慢", ", slow") if model.params_b > cpu_comfort(facts) else ("", "")
        if model.ollama:
            return Advice(
                CPU,
                cpu_quant,
                f"Ollama（q4_K_M，CPU{slow_zh}）",
                f"Ollama (q4_K_M, CPU{slow_en})",
                (f"ollama-{model.ollama}", native),
            )
        return Advice(CPU, cpu_quant, f"LocalScholar 原生（CPU{slow_zh}）", f"LocalScholar native (CPU{slow_en})", (native,))
    return Advice(NONE, None, "放不下：请选更小的模型", "does not fit: pick a smaller model", ())


def start_with(facts: MachineFacts) -> CatalogModel | None:
    """The largest catalogue model that runs comfortably: on the GPU, else on the CPU up to `cpu_comfort`."""
    on_gpu = [m for m in MODELS if best_fit(m, facts, GPU)]
    if on_gpu:
        return max(on_gpu, key=lambda m: m.params_b)
    on_cpu = [m for m in MODELS if m.params_b <= cpu_comfort(facts) and place(m, "INT4", facts) == CPU]
    return max(on_cpu, key=lambda m: m.params_b, default=None)


def ollama_models(base: str, timeout: float = OLLAMA_SECONDS) -> list[dict] | None:
    """The models Ollama has (/api/tags), or None when it does not answer."""
    try:
        response = httpx.get(f"{base.rstrip('/')}/api/tags", timeout=timeout)
        response.raise_for_status()
        models = response.json().get("models")
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return models if isinstance(models, list) else None


def size_text(size: int | None) -> str:
    if size is None:
        return "?"
    return f"{size / GIB:.1f} GiB" if size >= GIB else f"{size / 1024**2:.0f} MiB"


def _machine_lines(facts: MachineFacts, zh: bool) -> list[str]:
    def item(label_zh: str, label_en: str, value: str) -> str:
        return f"- {label_zh}：{value}" if zh else f"- {label_en}: {value}"

    unknown = "未知" if zh else "unknown"
    cores = str(facts.cpu_cores or unknown)
    if facts.physical_cores:
        cores += f"（物理 {facts.physical_cores}）" if zh else f" ({facts.physical_cores} physical)"
    ram = unknown
    if facts.ram_total:
        available = size_text(facts.ram_available)
        ram = size_text(facts.ram_total) + (f"，可用 {available}" if zh else f", {available} available")
    lines = [
        item("系统", "System", facts.system),
        item("CPU", "CPU", f"{facts.cpu_model or unknown} · {'逻辑核' if zh else 'cores'} {cores}"),
        item("内存", "RAM", ram),
    ]
    for gpu in facts.gpus:
        free = size_text(gpu.free_bytes)
        memory = size_text(gpu.total_bytes) + (f"，空闲 {free}" if zh else f", {free} free")
        lines.append(item("GPU", "GPU", f"{gpu.name} · {memory} ({facts.gpu_source})"))
    if not facts.gpus:
        lines.append(
            item("GPU", "GPU", "未发现 NVIDIA GPU（没有可用的 nvidia-smi），模型将在 CPU 上运行。")
            if zh
            else item("GPU", "GPU", "no NVIDIA GPU found (no working nvidia-smi); models run on the CPU.")
        )
    if facts.apple_mps:
        lines.append(
            item("Apple 芯片", "", "GPU 与内存共用（Metal / mps）。Ollama 自动使用 GPU；原生模型在 mps 上只支持 FP16。")
            if zh
            else item(
                "",
                "Apple Silicon",
                "the GPU shares the RAM (Metal / mps). Ollama uses it by itself; native models run FP16 only on mps.",
            )
        )
    if facts.data_folder:
        free = f"{size_text(facts.disk_free)} ({facts.data_folder})"
        lines.append(item("数据文件夹所在磁盘空闲", "Free disk for the data folder", free))
    return lines


def _model_table(facts: MachineFacts, zh: bool) -> list[str]:
    head = (
        "| 模型 | 参数 | FP16 | INT8 | INT4 | 本机 | 推荐部署 | 标识 |"
        if zh
        else "| Model | Params | FP16 | INT8 | INT4 | This machine | How to deploy | Identifier |"
    )
    rows = [head, "|---|---:|---:|---:|---:|---|---|---|"]
    where_text = {GPU: ("GPU", "GPU"), CPU: ("CPU（内存）", "CPU (RAM)"), NONE: ("放不下", "does not fit")}
    for model in MODELS:
        cells = [f"{size_text(need_bytes(model, q))} {MARK[place(model, q, facts)]}" for q in BYTES_PER_PARAM]
        advice = advise(model, facts)
        upto = (f" · 最高 {advice.quant}" if zh else f" · up to {advice.quant}") if advice.quant else ""
        verdict = where_text[advice.where][0 if zh else 1] + upto
        ids = ("<br>" + ("或 " if zh else "or ")).join(f"`{identifier}`" for identifier in advice.identifiers) or "—"
        way = advice.way_zh if zh else advice.way_en
        rows.append(f"| {model.label} | {model.params_b:g}B | {' | '.join(cells)} | {verdict} | {way} | {ids} |")
    return rows


def _deploy_lines(zh: bool) -> list[str]:
    if zh:
        return [
            "- **Ollama**（CPU 与小显存的首选）：安装 https://ollama.com ，`ollama pull qwen2.5:7b`，"
            "再在模型下拉框选 `ollama-qwen2.5:7b`。默认下载 q4_K_M 量化版，比上表 INT4 一栏略大（约 10%）。",
            "- **LocalScholar 原生**（FP16 / INT8 / INT4）：`python -m request_llms pull local-qwen2.5-7b --repo "
            'Qwen/Qwen2.5-7B-Instruct`，在 config_private.py 设 `LOCAL_MODEL_PATHS = {"qwen2.5-7b": "下载到的文件夹"}`，'
            "再用 `local-qwen2.5-7b(quant=INT4)`。`chatglm3`、`chatglm4` 直接 `pull` 即可；`builtin-gemma3-270m` 无需下载。",
            "- **vLLM**（大显存 NVIDIA GPU）：`vllm serve Qwen/Qwen2.5-7B-Instruct --max-model-len 4096`，"
            '设 `VLLM_API_BASE = "http://localhost:8000/v1"`，再用 `vllm-Qwen/Qwen2.5-7B-Instruct`。',
        ]
    return [
        "- **Ollama** (the first choice on a CPU or a small GPU): install it from https://ollama.com, "
        "`ollama pull qwen2.5:7b`, then pick `ollama-qwen2.5:7b` in the model list. Its default q4_K_M files are "
        "about 10% larger than the INT4 column.",
        "- **LocalScholar native** (FP16 / INT8 / INT4): `python -m request_llms pull local-qwen2.5-7b --repo "
        'Qwen/Qwen2.5-7B-Instruct`, set `LOCAL_MODEL_PATHS = {"qwen2.5-7b": "the downloaded folder"}` in '
        "config_private.py, then use `local-qwen2.5-7b(quant=INT4)`. `chatglm3` and `chatglm4` need only `pull`; "
        "`builtin-gemma3-270m` needs nothing.",
        "- **vLLM** (a large NVIDIA GPU): `vllm serve Qwen/Qwen2.5-7B-Instruct --max-model-len 4096`, "
        'set `VLLM_API_BASE = "http://localhost:8000/v1"`, then use `vllm-Qwen/Qwen2.5-7B-Instruct`.',
    ]


def ollama_lines(models: list[dict] | None, base: str, zh: bool, suggest: str = "qwen2.5:7b") -> list[str]:
    if models is None:
        if zh:
            return [
                f"Ollama 未运行（{base} 无法连接）：安装 https://ollama.com 后运行 `ollama serve` 启动，再 `ollama pull {suggest}`。"
            ]
        return [
            f"Ollama is not running ({base} cannot be reached): install it from https://ollama.com, start it with "
            f"`ollama serve`, then `ollama pull {suggest}`."
        ]
    if not models:
        return [
            f"Ollama 正在运行，但还没有模型：`ollama pull {suggest}`。"
            if zh
            else f"Ollama is running but has no models yet: `ollama pull {suggest}`."
        ]
    rows = [
        "| 模型 | 大小 | 参数 | 量化 | 标识 |" if zh else "| Model | Size | Params | Quantisation | Identifier |",
        "|---|---:|---|---|---|",
    ]
    for entry in sorted(models, key=lambda e: str(e.get("name", ""))):
        name = str(entry.get("name") or entry.get("model") or "?")
        details = entry.get("details") or {}
        size = entry.get("size")
        rows.append(
            f"| {name} | {size_text(size if isinstance(size, int) else None)} | {details.get('parameter_size') or '—'} | "
            f"{details.get('quantization_level') or '—'} | `ollama-{name}` |"
        )
    return rows


def hardware_report(facts: MachineFacts, models: list[dict] | None, ollama_base: str, lang: str) -> str:
    """The whole report as Markdown."""
    zh = lang == "zh"
    first = start_with(facts)
    lines = [f"# {'硬件评估与模型推荐' if zh else 'Hardware report and model advice'}", ""]
    lines += [f"## {'本机配置' if zh else 'This machine'}", "", *_machine_lines(facts, zh), ""]
    lines += [f"## {'建议' if zh else 'Advice'}", ""]
    if first is None:
        lines.append("内存不足以运行表中任何模型。" if zh else "There is not enough memory for any model in the table.")
    else:
        advice = advise(first, facts)
        ids = " / ".join(f"`{i}`" for i in advice.identifiers)
        way = advice.way_zh if zh else advice.way_en
        lines.append(f"从 **{first.label}** 开始：{way}，{ids}。" if zh else f"Start with **{first.label}**: {way}, {ids}.")
    if not facts.gpus:
        lines.append(
            "没有 GPU：推荐 Ollama 的 q4_K_M 量化模型在 CPU 上运行；0.5B–3B 的模型回答流畅，7B–8B 每秒只有几个 token，"
            "更大的模型在 CPU 上很慢。"
            if zh
            else "No GPU: Ollama's q4_K_M models on the CPU are the practical choice; 0.5B–3B models answer smoothly, "
            "7B–8B at a few tokens per second, and larger ones are very slow on a CPU."
        )
    lines.append("")
    lines += [f"## {'常见模型需要的内存' if zh else 'Memory the common models need'}", ""]
    lines.append(
        "估算（仅供参考）：内存 ≈ 参数量 × 每参数字节（FP16 2、INT8 1、INT4 0.5）× 1.2 + 4k 上下文的 KV 缓存"
        "（2 × 层数 × KV 头数 × 头维度 × 4096 × 2 字节）。实际占用随运行时与上下文长度变化。"
        if zh
        else "Estimate (a guide, not a promise): memory ≈ parameters × bytes per parameter (FP16 2, INT8 1, INT4 0.5) × 1.2 "
        "+ the KV cache of a 4k context (2 × layers × KV heads × head size × 4096 × 2 bytes). Real use varies with the "
        "runtime and the context length."
    )
    lines.append("")
    lines.append(
        "✅ 放得进 GPU 显存 · 🟡 放得进内存（CPU 运行）· ❌ 放不下"
        if zh
        else "✅ fits in GPU memory · 🟡 fits in RAM (runs on the CPU) · ❌ does not fit"
    )
    lines += ["", *_model_table(facts, zh), ""]
    lines += [f"## {'部署方式' if zh else 'How to deploy'}", "", *_deploy_lines(zh), ""]
    lines += [f"## {'Ollama 已有的模型' if zh else 'Models Ollama has'}", ""]
    lines += ollama_lines(models, ollama_base, zh, first.ollama if first and first.ollama else "qwen2.5:7b")
    return "\n".join(lines) + "\n"


@CatchException
def hardware_advisor(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    say = chatbot.say
    question = say(zh="硬件评估与模型推荐", en="Hardware report and model advice")
    chatbot.append([question, say(zh="正在检查本机硬件与 Ollama…", en="Checking this machine and Ollama…")])
    yield from update_ui(chatbot, history)
    base = chatbot.config["OLLAMA_API_BASE"]
    report = hardware_report(machine_facts(chatbot.config), ollama_models(base), base, chatbot.lang)
    saved = chatbot.write_output("hardware-report.md", report)
    chatbot[-1] = [question, f"{report}\n📄 {saved.name}"]
    history.extend([question, report])
    yield from update_ui(chatbot, history)


PLUGIN = Plugin(
    key="hardware_advisor",
    zh="硬件评估与模型推荐",
    en="Hardware report and model advice",
    group="models",
    about_zh="检查本机 CPU、内存、GPU 与磁盘，估算常见本地模型在 FP16/INT8/INT4 下需要的内存，判断能否运行并给出部署方式"
    "（Ollama、原生、vLLM）与模型标识，并列出 Ollama 已有的模型。无需调用模型。",
    about_en="Checks this machine's CPU, RAM, GPU and disk, estimates the memory common local models need in FP16/INT8/INT4, "
    "says which fit and how to deploy them (Ollama, native, vLLM) with the identifier to use, and lists Ollama's models. "
    "No model is asked.",
    run=hardware_advisor,
)
