"""Long documents on local models: a paper summarised with its pieces in parallel against one at a time.

A 40-page paper (a PDF made here with PyMuPDF: numbered sections of academic prose, figures in the
text, a running header, references) is read with crazy_functions pdf_text and summarised with
summarise (notes on each piece, merged, one synthesis), as the PDF 论文总结 plugin does, on a real
llama-server (4 slots of 1024 tokens) and on a real vLLM (CPU, max_model_len 2048). Two arms on the
same server and the same pieces: "parallel" (the server's PARALLEL_REQUESTS: llama.cpp 4, vLLM 16) and
"serial" (PARALLEL_REQUESTS 1). Answers are capped at --answer tokens, temperature 0. The arms
alternate (parallel first on the first server, serial first on the next). Each arm puts its own title
in the prompts, so neither can reuse prompts the server cached for the other (llama.cpp and vLLM both
cache prompt prefixes). Figures: wall time of the whole summary, the number of requests, and serial /
parallel as a ratio.

    python benchmarks/plugin_pieces.py [--pages 40] [--answer 48] [--servers llamacpp vllm]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from common import machine, progress, table, write_config

from crazy_functions.documents.paper_prompts import paper_prompts
from crazy_functions.documents.pdf_text import read_pdf, split_references
from crazy_functions.documents.summarise import summarise
from crazy_functions.runtime.session import PluginChatbot
from request_llms.config_loader import load_config
from tests.support.servers.running import RunningServer, start_llama_server, start_vllm

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
    settings: dict[str, object] = {
        "LOCAL_SERVER_URLS": {"llamacpp": f"{server.base_url}/v1"},
        "VLLM_API_BASE": f"{server.base_url}/v1",
    }
    if parallel:
        settings["PARALLEL_REQUESTS"] = {name: parallel}
    return load_config(private=write_config(folder / f"config-{name}-{parallel}.py", **settings), environ={})


def summary(args: argparse.Namespace, folder: Path, text: str) -> None:
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
                progress(f"  {name} {arm}: {wall:.1f} s, {requests} requests\n")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=40, help="pages of the paper (default 40)")
    parser.add_argument("--answer", type=int, default=48, help="longest answer per request, tokens (default 48)")
    parser.add_argument("--servers", nargs="+", default=["llamacpp", "vllm"], choices=["llamacpp", "vllm"])
    args = parser.parse_args()
    print(machine())
    folder = Path(tempfile.mkdtemp(prefix="plugin-pieces-"))
    body, _references = split_references(read_pdf(make_paper(folder / "paper.pdf", args.pages)))
    print(f"paper: {args.pages} pages, {len(body)} characters of text before the references\n")
    summary(args, folder, body)


if __name__ == "__main__":
    main()
