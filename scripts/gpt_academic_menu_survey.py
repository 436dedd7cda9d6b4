"""How many entries of GPT Academic's own plugin menu run to the end on a local model, each run as the page runs it.

    PY=$(.venv/bin/python -c "from tests.support.servers.provision import gpt_academic_python; print(gpt_academic_python())")
    $PY scripts/gpt_academic_menu_survey.py /path/to/gpt_academic http://127.0.0.1:PORT [--only NAME ...] [--timeout 300]
        [--max-length 256] [--json results.json]

Run it with the Python that has GPT Academic's extra packages; URL is a llama-server's (its first model is asked).
Sample inputs are made under a temp folder as real documents would be (a Python and a LaTeX project as zips, a
README, a PDF paper, a .docx, a notebook, a .csv, a source file per language, a chat archive). Each entry gets the
upload or the typed text it reads (or nothing) and runs through the page's own code (webui.plugin_page) in a process
of its own with its own DATA_DIR and working folder, so one that hangs, or deletes, is alone. Entries that need the
web or a cloud service run too, but are counted as such. Code the model writes is never run: CodeInterpreter gets
only the page's first step (an upload, no instruction), 虚空终端 a question, and what would run such code raises.
Answers are capped at --max-length tokens (the page's default, 0, lets a tiny model loop until its context is full).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USER = "survey"
QUESTION = "请问Transformer网络的结构是怎样的？"  # "请问": 虚空终端 takes it as a chat
SELF = "[多线程Demo]解析此项目本身（源码自译解）"  # reads ./*.py: run in LocalScholar's folder, as the page is
# fmt: off
ONLINE = {  # entry: what it reaches (the machine this was written for has no internet)
    "多媒体智能体": "web search, bilibili", "查互联网后回答": "SearXNG web search", "Arxiv论文翻译": "arXiv",
    "谷歌学术检索助手（输入谷歌学术搜索页url）": "Google Scholar", "📚Arxiv论文精细翻译（输入arxivID）[需Latex]": "arXiv",
    "一键下载arxiv论文并翻译摘要（先在input输入编号，如1812.10695）": "arXiv", "PDF翻译中文并重新编译PDF（上传PDF）[需Latex]": "DOC2X or Mathpix cloud",
    "🎨图片生成（DALLE2/DALLE3, 使用前切换到GPT系列模型）": "OpenAI DALL·E", "🎨图片修改_DALLE2 （使用前请切换模型到GPT系列）": "OpenAI DALL·E",
    "批量总结音视频（输入路径或上传压缩包）": "OpenAI whisper", "交互功能模板Demo函数（查找wallhaven.cc的壁纸）": "wallhaven.cc",
    "构建知识库（先上传文件素材,再运行此插件）": "text2vec model from Hugging Face", "知识库文件注入（构建知识库后,再运行此插件）": "text2vec model from Hugging Face",
    "精准翻译PDF文档（NOUGAT）": "NOUGAT model download",
}
UPLOADED = {  # sample(s): the entries given them, the box left empty (as the page hands an upload over)
    "python.zip": ["解析整个Python项目", "注释Python项目", "批量生成函数注释", "解析项目源代码（手动指定和筛选源代码文件类型）"],
    "latex.zip": ["读Tex论文写摘要", "英文Latex项目全文润色（输入路径或上传压缩包）", "中文Latex项目全文润色（输入路径或上传压缩包）",
                  "Latex英文纠错+高亮修正位置 [需Latex]", "📚本地Latex论文精细翻译（上传Latex项目）[需Latex]"],
    "README.md": ["生成多种Mermaid图表(从当前对话或路径(.pdf/.md/.docx)中生产图表）", "翻译README或MD", "翻译Markdown或README（支持Github链接）",
                  "批量Markdown中译英（输入路径或上传压缩包）", "Markdown翻译（指定翻译成何种语言）", "构建知识库（先上传文件素材,再运行此插件）", "Rag智能召回"],
    "paper.pdf": ["PDF论文翻译", "批量总结PDF文档", "理解PDF文档内容 （模仿ChatPDF）", "PDF翻译中文并重新编译PDF（上传PDF）[需Latex]",
                  "精准翻译PDF文档（NOUGAT）", "速读论文"],
    "data.csv": ["批量文件询问 (支持自定义总结各种文件)", "动态代码解释器（CodeInterpreter）"],  # CodeInterpreter: no instruction, it asks for one
    "report.docx": ["批量总结Word文档"], "analysis.ipynb": ["解析Jupyter Notebook文件"], "stats.m": ["解析整个Matlab项目"],
    "vec.h vec.cpp": ["解析整个C++项目头文件", "解析整个C++项目（.cpp/.hpp/.c/.h）"], "main.go": ["解析整个Go项目"],
    "lib.rs": ["解析整个Rust项目"], "Main.java": ["解析整个Java项目"], "app.js style.css": ["解析整个前端项目（js,ts,css等）"],
    "game.lua": ["解析整个Lua项目"], "Program.cs": ["解析整个CSharp项目"],
    "GPT-Academic对话存档2025-01-01-00-00-00.html": ["载入对话历史存档（先上传存档或输入路径）"],
}
TYPED = {  # entry: the text typed in the box
    "虚空终端": QUESTION, "查互联网后回答": QUESTION, "询问多个GPT模型": QUESTION, "询问多个GPT模型（手动指定询问哪些模型）": QUESTION,
    "多媒体智能体": "一首歌，第一句是红豆生南国", "数学动画生成（Manim）": "画一个圆变成正方形的动画", "🎨图片生成（DALLE2/DALLE3, 使用前切换到GPT系列模型）": "一只猫",
    "Arxiv论文翻译": "1812.10695", "📚Arxiv论文精细翻译（输入arxivID）[需Latex]": "1812.10695",
    "一键下载arxiv论文并翻译摘要（先在input输入编号，如1812.10695）": "1812.10695",
    "谷歌学术检索助手（输入谷歌学术搜索页url）": "https://scholar.google.com/scholar?q=transformer",
    "知识库文件注入（构建知识库后,再运行此插件）": "tinystats 计算什么？", "交互功能模板Demo函数（查找wallhaven.cc的壁纸）": "cat",
}
FIELDS = {  # entry: its argument boxes
    "PDF论文翻译": {"pdf_parse_method": "Classic"},  # its default, GROBID, is a server
    "批量文件询问 (支持自定义总结各种文件)": {"searxng_url": "这份数据讲了什么？"},  # its question box
    "解析项目源代码（手动指定和筛选源代码文件类型）": {"advanced_arg": "*.py"},
    "询问多个GPT模型（手动指定询问哪些模型）": {"advanced_arg": "{model}&{model}"},
    "Markdown翻译（指定翻译成何种语言）": {"advanced_arg": "English"},
}
CHAT = {"保存当前的对话": [["注意力机制是什么？", "它按相关程度给输入的词加权。"]]}  # the conversation it saves
REFUSED = {"crazy_functions.Dynamic_Function_Generate": ("gpt_interact_multi_step", "try_make_module", "subprocess_worker"),
           "crazy_functions.Math_Animation_Gen": ("eval_manim",),
           "crazy_functions.Void_Terminal": ("execute_plugin", "modify_configuration_reboot", "modify_configuration_hot")}
MARKERS = ("失败", "找不到", "没有找到", "没有发现", "依赖不足", "缺失", "Traceback")  # said in the chat when it stops

TITLE, ABSTRACT = "Sparse Attention for Long Documents", "We study sparse attention that lets transformers read long documents at linear cost."
INTRO = "Transformers attend to every pair of tokens, so their cost grows quadratically with the length of the input."
METHOD = "Each token attends to a window of w neighbours and to g global tokens, so the cost is O(n(w+g))."
CELLS = [{"cell_type": "markdown", "metadata": {}, "source": ["# Rainfall\n", "Mean rainfall per city."]}, {"cell_type": "code", "metadata": {},
         "execution_count": None, "outputs": [], "source": ["import pandas as pd\n", "pd.read_csv('data.csv').mean()"]}]
FILES = {
    "README.md": "# tinystats\n\nComputes summary statistics of a CSV file.\n\n## Usage\n\n```bash\npython main.py data.csv\n```\n\n"
                 "## 说明\n\n本项目读取一个CSV文件，计算每一列的均值和方差，并输出简短的报告。\n",
    "data.csv": "city,year,rainfall_mm\nOslo,2022,763\nOslo,2023,811\nLima,2022,14\nLima,2023,9\n",
    "stats.m": "function [m, s] = stats(x)\n% Mean and standard deviation of x.\nm = mean(x);\ns = std(x);\nend\n",
    "vec.h": "#pragma once\nstruct Vec { double x, y; };\ndouble dot(Vec a, Vec b);\n",
    "vec.cpp": '#include "vec.h"\ndouble dot(Vec a, Vec b) { return a.x * b.x + a.y * b.y; }\n',
    "main.go": 'package main\n\nimport "fmt"\n\nfunc add(a, b int) int { return a + b }\n\nfunc main() { fmt.Println(add(1, 2)) }\n',
    "lib.rs": "/// Sum of a slice.\npub fn total(xs: &[i64]) -> i64 {\n    xs.iter().sum()\n}\n",
    "Main.java": "public class Main {\n  static int square(int x) { return x * x; }\n  public static void main(String[] a) { System.out.println(square(3)); }\n}\n",
    "app.js": "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n", "style.css": "body { font-family: sans-serif; }\n",
    "game.lua": "local Player = {}\nfunction Player.new(name) return { name = name, hp = 100 } end\nreturn Player\n",
    "Program.cs": "class Program {\n  static int Twice(int x) => 2 * x;\n  static void Main() { System.Console.WriteLine(Twice(4)); }\n}\n",
    "analysis.ipynb": json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": CELLS}),
    "GPT-Academic对话存档2025-01-01-00-00-00.html": '<!DOCTYPE html><head><meta charset="utf-8"></head><body><div class="QaBox"><div class="Question">'
        '什么是注意力机制？</div><div class="Answer">它给输入的词加权。</div></div><div class="historyBox"><div class="entry">什么是注意力机制？'
        '</div></div><div class="historyBox"><div class="entry">它给输入的词加权。</div></div></body>',
}
ZIPS = {
    "python.zip": {
        "tinystats/geometry.py": "import math\n\n\nclass Circle:\n    def __init__(self, r):\n        self.r = r\n\n    def area(self):\n"
                                 "        return math.pi * self.r**2\n\n\ndef distance(a, b):\n    return math.dist(a, b)\n",
        "tinystats/main.py": "import sys\n\nfrom geometry import Circle, distance\n\nprint(Circle(float(sys.argv[1])).area(), distance((0, 0), (3, 4)))\n"},
    "latex.zip": {
        "main.tex": f"\\documentclass{{article}}\n\\title{{{TITLE}}}\n\\author{{A. Author}}\n\\begin{{document}}\n\\maketitle\n\\begin{{abstract}}\n"
                    f"{ABSTRACT}\n\\end{{abstract}}\n\\input{{sections/intro}}\n\\input{{sections/method}}\n\\bibliographystyle{{plain}}\n"
                    "\\bibliography{refs}\n\\end{document}\n",
        "sections/intro.tex": f"\\section{{Introduction}}\n{INTRO} See~\\cite{{vaswani2017}}.\n",
        "sections/method.tex": f"\\section{{Method}}\n{METHOD.replace('O(n(w+g))', '$O(n(w+g))$')}\n",
        "refs.bib": "@inproceedings{vaswani2017,\n  title={Attention Is All You Need},\n  author={Vaswani, Ashish and others},\n  year={2017}\n}\n"},
}
PAPER = [f"{TITLE}\nA. Author\n\nAbstract\n{ABSTRACT}\n\n1 Introduction\n{INTRO}", f"2 Method\n{METHOD}\n\n3 Conclusion\nSparse attention "
         "makes long inputs cheap.\n\nReferences\n[1] A. Vaswani et al. Attention Is All You Need. NeurIPS 2017."]  # the PDF's pages
# fmt: on


def make_samples(folder: Path) -> None:
    import docx
    import pymupdf

    folder.mkdir(parents=True)
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    for name, members in ZIPS.items():
        with zipfile.ZipFile(folder / name, "w") as archive:
            for member, text in members.items():
                archive.writestr(member, text)
    pdf = pymupdf.open()
    for text in PAPER:
        pdf.new_page().insert_textbox(pymupdf.Rect(72, 72, 540, 770), text, fontsize=11)
    pdf.set_metadata({"title": TITLE, "author": "A. Author"})
    pdf.save(folder / "paper.pdf")
    document = docx.Document()
    document.add_heading(TITLE, 1)
    for text in (ABSTRACT, INTRO, METHOD):
        document.add_paragraph(text)
    document.save(folder / "report.docx")


def first_line(text, last: bool = False) -> str:
    lines = str(text or "").strip().splitlines() or [""]
    return lines[-1 if last else 0].strip()[:160]


def child(spec: dict) -> None:
    """Run one entry as webui.plugin_page runs it; print REPORT {json}."""
    import toolbox

    reported: list[str] = []

    def report_exception(chatbot, history, a, b):  # GPT Academic's way to stop a run: noted, then as before
        reported.append(first_line(b) or first_line(a))
        chatbot.append([a, b])
        history.extend([a, b])

    toolbox.report_exception = report_exception  # before its plugins import it
    from crazy_functions.runtime.registry import checkout_plugins
    from crazy_functions.runtime.session import PluginChatbot, ending, stepped
    from request_llms.config_loader import get_config
    from userfiles import user_dir, user_home
    from webui.plugin_page import handed_text, plugin_arguments

    config = get_config()
    plugin = next(p for p in checkout_plugins(config) if p.zh == spec["name"])
    for module, names in REFUSED.items():  # what would run code the model wrote, change settings or call plugins
        for name in names if module in sys.modules else ():
            setattr(sys.modules[module], name, refuse)
    files = [Path(shutil.copy(path, user_dir(config, USER, "uploads"))) for path in spec["files"]]  # as uploaded
    kwargs = plugin_arguments(plugin, [spec["fields"].get(f.key, f.default) for f in plugin.fields] or [""])
    cookies: dict = {}
    chatbot = PluginChatbot(spec["chat"], files=files, out_dir=user_dir(config, USER, "outputs"), config=config, user=USER, cookies=cookies)  # fmt: skip
    try:
        run_folder = user_dir(config, USER, "runs") / "run"
        text = handed_text(spec["text"], kwargs, user_home(config, USER), files, run_folder)
        if run_folder.exists():
            cookies["most_recent_uploaded"] = {"path": str(run_folder), "time": time.time(), "time_str": run_folder.name}
        llm = {"llm_model": config["LLM_MODEL"], "temperature": 0.7, "top_p": 1.0, "max_length": spec["max_length"] or None, "api_key": "",
               "most_recent_uploaded": cookies.get("most_recent_uploaded")}  # fmt: skip
        history = [said for pair in spec["chat"] for said in pair]
        for _ in stepped(plugin.run(text, llm, kwargs, chatbot, history, "", None), chatbot):
            pass
        last = chatbot[chatbot.first_new :][-1:] or [["", ""]]
        said = next((line for line in map(first_line, last[0]) if any(m in line for m in MARKERS)), "")
        line = ending(chatbot) or (reported[0] if reported else "") or said
    except Exception as exc:  # what the page shows in one line: a refused input, an error the plugin let out
        line = "⚠ " + toolbox.error_line(exc, "zh")
    last_pairs = [[first_line(q), str(a or "")[:300]] for q, a in chatbot[chatbot.first_new :][-2:]]
    report = {"ending": line, "last": last_pairs, "outputs": [p.name for p in chatbot.outputs]}
    print("REPORT " + json.dumps(report, ensure_ascii=False), flush=True)
    os._exit(0)  # threads the plugin left behind do not hold the process


def refuse(*args, **kwargs):
    raise RuntimeError("survey: model-written code is not run")


def spawn(args: list[str], config: Path, cwd: Path, timeout: float) -> tuple[str | None, str]:
    """(stdout, stderr) of this file run with `args` in a process group of its own; stdout None when it timed out."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOCALSCHOLAR_CONFIG": str(config)}
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return None, proc.communicate()[1]


def write_config(path: Path, folder: Path, url: str, model: str) -> Path:
    (path / "data").mkdir(parents=True, exist_ok=True)
    settings = {"GPT_ACADEMIC_FOLDER": str(folder), "LOCAL_SERVER_URLS": {"llamacpp": url + "/v1"}, "LLM_MODEL": model,
                "AVAIL_LLM_MODELS": [model], "MULTI_QUERY_LLM_MODELS": f"{model}&{model}", "DATA_DIR": str(path / "data"),
                "DISCOVER_LOCAL_MODELS": False, "EMBED_MODEL": "builtin-all-minilm-l6-v2"}  # fmt: skip
    (path / "config_private.py").write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()), encoding="utf-8")
    return path / "config_private.py"


def survey_one(name: str, place: Path, samples: Path, model: str, args) -> tuple[str, str, float, dict]:
    """(the input given, the outcome, seconds, the child's report) of one entry, whose config and folders are in `place`."""
    names = next((sample.split() for sample, entries in UPLOADED.items() if name in entries), [])
    text, fields = TYPED.get(name, ""), {key: value.format(model=model) for key, value in FIELDS.get(name, {}).items()}
    spec = {"name": name, "files": [str(samples / n) for n in names], "text": text, "fields": fields, "chat": CHAT.get(name, []),
            "max_length": args.max_length}  # fmt: skip
    given = [", ".join(names)] + [f"«{text}»"] * bool(text) + [f"{k}={v}" for k, v in fields.items()]
    given += ["a conversation of one exchange"] * bool(spec["chat"]) + ["run in LocalScholar's folder"] * (name == SELF)
    (place / "cwd").mkdir(parents=True)
    start = time.monotonic()
    cwd = ROOT if name == SELF else place / "cwd"
    out, err = spawn(["--child", json.dumps(spec, ensure_ascii=False)], place / "config_private.py", cwd, args.timeout)
    seconds = time.monotonic() - start
    report = next((json.loads(line[7:]) for line in (out or "").splitlines() if line.startswith("REPORT ")), {})
    if out is None:
        outcome = "timed out"
    elif not report:
        outcome = "failed: the process ended without a report: " + first_line(err, last=True)
    else:
        outcome = f"failed: {report['ending']}" if report["ending"] else "ran to the end"
    if name in ONLINE:
        outcome = f"needs the internet or a cloud service ({ONLINE[name]}; here: {outcome})"
    return "; ".join(part for part in given if part) or "nothing", outcome, seconds, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a GPT Academic checkout (it holds crazy_functional.py)")
    parser.add_argument("url", help="a llama-server's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these entries (their names in the menu)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per entry (default 300)")
    parser.add_argument("--max-length", type=int, default=256, help="longest answer in tokens (the page's slider; 0: none)")
    parser.add_argument("--json", type=Path, help="also write each result, with the end of its chat, to this file")
    args = parser.parse_args()
    url, folder = args.url.rstrip("/").removesuffix("/v1"), args.folder.expanduser().resolve()
    with urllib.request.urlopen(url + "/v1/models", timeout=10) as response:
        model = "llamacpp-" + json.load(response)["data"][0]["id"]
    work, results = Path(tempfile.mkdtemp(prefix="menu-survey-")), []
    try:
        make_samples(work / "samples")
        out, err = spawn(["--list"], write_config(work / "menu", folder, url, model), work, 300)
        menu = json.loads(((out or "").strip().splitlines() or ["null"])[-1])
        if not menu or set(args.only or ()) - {entry["name"] for entry in menu}:
            print(f"the menu has no such entry, or could not be read: {first_line(err, last=True)}", file=sys.stderr)
            return 2
        print(f"{len(menu)} entries in the menu; model {model} at {url}\n")
        print("| entry | group | input | outcome | seconds |\n|---|---|---|---|---|")
        for i, entry in enumerate(menu):
            if not args.only or entry["name"] in args.only:
                write_config(place := work / f"entry-{i:02d}", folder, url, model)
                given, outcome, seconds, report = survey_one(entry["name"], place, work / "samples", model, args)
                results.append({**entry, "input": given, "outcome": outcome, "seconds": round(seconds, 1), "report": report})
                cells = [entry["name"], entry["group"], given, outcome.replace("\n", " ").replace("|", "\\|"), f"{seconds:.1f}"]
                print("| " + " | ".join(cells) + " |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counts = Counter(r["outcome"].split(" (")[0].split(":")[0] for r in results)
    print(f"\n{len(results)} entries: " + ", ".join(f"{n} {kind}" for kind, n in counts.most_common()))
    print(f"{sum(r['seconds'] for r in results):.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(json.loads(sys.argv[2]))
    elif sys.argv[1:2] == ["--list"]:  # the menu as LocalScholar builds it
        from crazy_functions.runtime.registry import checkout_plugins
        from request_llms.config_loader import get_config

        print(json.dumps([{"name": p.zh, "group": p.group[3:]} for p in checkout_plugins(get_config())], ensure_ascii=False))
    else:
        sys.exit(main())
