"""Long documents on local models: parallel pieces against one at a time, and pieces that overflow the window.

Part 1, summary. A 40-page paper (a PDF made here with PyMuPDF: numbered sections of academic prose,
figures in the text, a running header, references) is read with crazy_functions.pdf_text and summarised
with crazy_functions.summarise (notes on each piece, merged, one synthesis), as the PDF 论文总结 plugin
does, on a real llama-server (4 slots of 1024 tokens) and on a real vLLM (CPU, max_model_len 2048).
Two arms on the same server and the same pieces: "parallel" (the server's PARALLEL_REQUESTS: llama.cpp 4,
vLLM 16) and "serial" (PARALLEL_REQUESTS 1). Answers are capped at --answer tokens, temperature 0.
The arms alternate (parallel first on the first server, serial first on the next). Each arm puts its own
title in the prompts, so neither can reuse prompts the server cached for the other (llama.cpp and vLLM
both cache prompt prefixes). Figures: wall time
of the whole summary, the number of requests, and serial / parallel as a ratio.

Part 2, overflow. The same paper's text, a Chinese report and a LaTeX section are cut for llama-server's
1024-token slot with the instruction of the summary plugin, two ways: by a GPT-3.5 token count (OpenAI's
cl100k_base, from the bpe-openai package, as tools tuned for GPT-3.5 count), once with GPT-3.5's 4096-token
window assumed and once with the real window, and by ours (the server's own /tokenize and real window). Every piece is then counted by the model's own tokenizer: a piece over the limit makes a
request longer than the window (the server refuses it, or cuts the prompt). Figures: pieces, pieces
over the limit, the largest piece as a share of the limit.

    python benchmarks/plugin_pieces.py [--pages 40] [--answer 48] [--servers llamacpp vllm] [--skip-summary]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from common import machine, table

from crazy_functions.paper_prompts import paper_prompts
from crazy_functions.pdf_text import read_pdf, split_references
from crazy_functions.pieces import sizer_for
from crazy_functions.session import PluginChatbot
from crazy_functions.split import split_text
from crazy_functions.summarise import summarise
from request_llms.config_loader import load_config
from tests.servers.running import RunningServer, start_llama_server, start_vllm

TOPICS = ["quantisation", "attention", "retrieval", "distillation", "tokenisation", "evaluation", "alignment"]
SENTENCES = [
    "We study how {t} affects the accuracy of small language models on reading comprehension benchmarks.",
    "Table {n} reports the mean score over five seeds, with the standard deviation in brackets.",
    "The loss $L = -\\sum_i y_i \\log p_i$ is minimised with AdamW at a learning rate of {n}e-4.",
    "Compared with the baseline, the proposed {t} method reduces memory by {n}% at equal perplexity.",
    "These results suggest that {t} matters most when the context exceeds {n} thousand tokens.",
    "A limitation of our analysis is that all experiments use English data and a single tokenizer.",
    "Figure {n} shows the trade-off between latency and quality as the batch size grows.",
    "Prior work on {t} (Smith et al., 20{n}) reported similar trends on larger models.",
]
ZH_SENTENCES = [
    "本文研究{t}对小型语言模型阅读理解准确率的影响。",
    "表{n}给出五个随机种子的平均得分，括号内为标准差。",
    "与基线相比，所提出的{t}方法在困惑度相同的情况下将显存占用降低了{n}%。",
    "实验表明，当上下文超过{n}千个词元时，{t}的作用最为明显。",
    "本研究的局限在于所有实验均使用单一分词器。",
]


def prose(rng: random.Random, bank: list[str], count: int) -> str:
    return " ".join(rng.choice(bank).format(t=rng.choice(TOPICS), n=rng.randint(2, 60)) for _ in range(count))


def make_paper(path: Path, pages: int) -> Path:
    """A PDF of `pages` pages: numbered sections, a running header, a page number, references at the end."""
    import pymupdf

    rng = random.Random(7)
    document = pymupdf.open()
    section = 0
    for number in range(1, pages + 1):
        page = document.new_page()
        page.insert_text((72, 40), "Small Models, Long Papers — preprint", fontsize=8)
        page.insert_text((300, 810), str(number), fontsize=8)
        y = 80
        if number == 1:
            page.insert_text((72, y), "Small Models, Long Papers", fontsize=18)
            y += 40
        if number % 4 == 1:
            section += 1
            page.insert_text((72, y), f"{section} Section on {TOPICS[section % len(TOPICS)]}", fontsize=14)
            y += 28
        box = pymupdf.Rect(72, y, 523, 780)
        page.insert_textbox(box, prose(rng, SENTENCES, 26), fontsize=10)
    page = document.new_page()
    page.insert_text((72, 80), "References", fontsize=14)
    page.insert_textbox(pymupdf.Rect(72, 100, 523, 780), "\n".join(f"[{i}] A. Author. Title {i}. 2024." for i in range(40)))
    document.save(str(path))
    return path


def summary_run(config, model: str, text: str, answer: int, title: str) -> tuple[float, int]:
    chatbot = PluginChatbot(lang="en", config=config, out_dir=Path(tempfile.mkdtemp()))
    kwargs = {"llm_model": model, "temperature": 0, "top_p": 1.0, "max_length": answer}
    started = time.perf_counter()
    runner = summarise(chatbot, [], kwargs, text, title, paper_prompts("en"))
    try:
        while True:
            next(runner)
    except StopIteration as end:
        result = end.value
    wall = time.perf_counter() - started
    if not result.complete:
        raise SystemExit(f"the summary on {model} did not finish: {[p.error for p in result.failed]}")
    return wall, len(chatbot.requests)


def config_for(folder: Path, name: str, server: RunningServer, parallel: int | None):
    lines = [f'LOCAL_SERVER_URLS = {{"llamacpp": "{server.base_url}/v1"}}', f'VLLM_API_BASE = "{server.base_url}/v1"']
    if parallel:
        lines.append(f'PARALLEL_REQUESTS = {{"{name}": {parallel}}}')
    path = folder / f"config-{name}-{parallel}.py"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(private=path, environ={})


def part_summary(args, folder: Path, text: str) -> None:
    rows = []
    for index, name in enumerate(args.servers):
        server = start_llama_server(parallel=4, ctx=4096) if name == "llamacpp" else start_vllm(max_model_len=2048)
        model = "llamacpp-gemma-270m" if name == "llamacpp" else "vllm-gemma-270m"
        try:
            arms = [("parallel", None), ("serial", 1)]
            if index % 2:
                arms.reverse()
            summary_run(config_for(folder, name, server, None), model, text[:4000], args.answer, "Warm-up")
            times = {}
            for arm, parallel in arms:
                title = f"Small Models, Long Papers ({arm})"  # its own prompts: nothing cached by the other arm
                wall, requests = summary_run(config_for(folder, name, server, parallel), model, text, args.answer, title)
                times[arm] = wall
                print(f"  {name} {arm}: {wall:.1f} s, {requests} requests", file=sys.stderr)
            rows.append(
                [
                    name,
                    requests,
                    f"{times['parallel']:.1f}",
                    f"{times['serial']:.1f}",
                    f"{times['serial'] / times['parallel']:.2f}x",
                ]
            )
        finally:
            server.stop()
    print(table(["server", "requests", "parallel (s)", "one at a time (s)", "speed-up"], rows))


def part_overflow(folder: Path, paper_text: str) -> None:
    import bpe_openai

    gpt35 = bpe_openai.get_encoding("cl100k_base")
    rng = random.Random(11)
    documents = {
        "paper (English, 40 pages)": paper_text,
        "report (Chinese)": "\n\n".join(f"## 第{i}节\n\n" + prose(rng, ZH_SENTENCES, 30).replace(" ", "") for i in range(30)),
        "LaTeX section": "\n\n".join(
            f"\\section{{Part {i}}}\n"
            + prose(rng, SENTENCES, 12)
            + "\n\\begin{equation} E_{i} = \\frac{1}{N}\\sum_{j} x_{ij}^2 \\end{equation}"
            for i in range(30)
        ),
    }
    server = start_llama_server(parallel=4, ctx=4096)
    try:
        config = config_for(folder, "llamacpp", server, None)
        kwargs = {"llm_model": "llamacpp-gemma-270m", "max_length": 400}
        overhead = paper_prompts("en").note.format(title="Small Models, Long Papers", i=999, n=999, text="")
        sizer = sizer_for(kwargs, config, overhead, answer=400)
        real, limit = sizer.counter, sizer.piece_tokens
        assumed = sizer_for({**kwargs, "llm_model": "llamacpp-gemma-270m(max_token=4096)"}, config, overhead, answer=400)
        gpt35_count = lambda s: len(gpt35.encode(s))  # noqa: E731
        ways = (
            ("GPT-3.5 count, 4096 window assumed", gpt35_count, assumed.piece_tokens),
            ("GPT-3.5 count (cl100k), real window", gpt35_count, limit),
            ("ours (server /tokenize), real window", real, limit),
        )
        rows = []
        for name, text in documents.items():
            for how, count, cut_at in ways:
                pieces = split_text(text, cut_at, count)
                sizes = [real(piece) for piece in pieces]
                over = sum(size > limit for size in sizes)
                rows.append([name, how, len(pieces), over, f"{max(sizes) / limit:.2f}"])
        print(f"\nlimit per piece: {limit} tokens (window {sizer.window}, answer {sizer.answer_tokens}, instruction and margin)")
        print(table(["document", "cut by", "pieces", "over the limit", "largest / limit"], rows))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--answer", type=int, default=48, help="longest answer per request, tokens")
    parser.add_argument("--servers", nargs="+", default=["llamacpp", "vllm"], choices=["llamacpp", "vllm"])
    parser.add_argument("--skip-summary", action="store_true")
    args = parser.parse_args()
    print(machine())
    folder = Path(tempfile.mkdtemp(prefix="plugin-pieces-"))
    body, _references = split_references(read_pdf(make_paper(folder / "paper.pdf", args.pages)))
    print(f"paper: {args.pages} pages, {len(body)} characters of text before the references\n")
    if not args.skip_summary:
        part_summary(args, folder, body)
    part_overflow(folder, body)


if __name__ == "__main__":
    main()
