"""TeX runs sandboxed (crazy_functions.latex.sandbox): an uploaded project's rc file, \\write18, reads and writes
outside its folder and an endless loop get nowhere and end with one clear line; a real multi-file paper, made
the way papers are (inputs, macros, a bibliography, a figure), compiles, and so does its Chinese translation.
Needs the TeX Live the test setup installs (XeLaTeX, ctex)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from crazy_functions import latex_translate
from crazy_functions.latex.sandbox import compile_project
from tests.support.plugin_support import drive, make_chatbot

pytestmark = pytest.mark.servers

MAIN = r"""\documentclass[11pt]{article}
\usepackage{amsmath,graphicx,booktabs}
\newcommand{\model}{\textsc{TinyLM}}
\newcommand{\dataset}{GlacierBench}
\title{Small Models for Glacier Monitoring}
\author{A. Researcher}
\begin{document}
\maketitle
\begin{abstract}
We show that \model{} reads field notes about glaciers as well as larger models on \dataset{}.
\end{abstract}
\input{sections/intro}
\input{sections/method}
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
"""
INTRO = r"""\section{Introduction}\label{sec:intro}
Glaciers in the Alps retreat every year~\cite{smith2020}. Field notes record how far each front moved,
and Figure~\ref{fig:front} shows one such record.
\begin{figure}[h]
\centering
\includegraphics[width=0.3\linewidth]{figures/front.png}
\caption{The front of the glacier.}\label{fig:front}
\end{figure}
"""
METHOD = r"""\section{Method}
We fine-tune \model{} on \dataset{} and minimise
\begin{equation}\label{eq:loss}
L = -\sum_i \log p(x_i),
\end{equation}
as in Section~\ref{sec:intro}. Table~\ref{tab:result} gives the accuracy.
\begin{table}[h]
\centering
\begin{tabular}{lr}\toprule Model & Accuracy \\ \midrule \model{} & 0.82 \\ \bottomrule\end{tabular}
\caption{Accuracy on \dataset{}.}\label{tab:result}
\end{table}
"""
REFS = r"""@article{smith2020,
  author = {Smith, Jane},
  title = {Retreating Glaciers},
  journal = {Journal of Ice},
  year = {2020}
}
"""


def png(path: Path) -> None:
    import pymupdf

    path.parent.mkdir(parents=True, exist_ok=True)
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 32, 16), False)
    pixmap.set_rect(pixmap.irect, (40, 90, 160))
    pixmap.save(str(path))


def paper(folder: Path) -> Path:
    for name, text in {"main.tex": MAIN, "sections/intro.tex": INTRO, "sections/method.tex": METHOD, "refs.bib": REFS}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    png(folder / "figures" / "front.png")
    return folder / "main.tex"


def project(folder: Path, body: str, **extra: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "main.tex").write_text(
        f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n", encoding="utf-8"
    )
    for name, text in extra.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "main.tex"


def test_a_real_multi_file_paper_compiles_with_its_bibliography_and_figure(tmp_path):
    compiled = compile_project(paper(tmp_path / "paper"))
    assert compiled.problem is None and compiled.pdf.read_bytes().startswith(b"%PDF")
    log = compiled.log.read_text(encoding="utf-8", errors="replace")
    assert "Citation `smith2020' undefined" not in log and "Reference `fig:front' undefined" not in log


def test_an_rc_file_and_write18_run_nothing(tmp_path):
    marker = tmp_path / "ran"
    rc = f'system("touch {marker}");\n$pdflatex = "touch {marker}; pdflatex";\n'
    main = project(tmp_path / "p", f"\\immediate\\write18{{touch {marker}}}Hello.", **{".latexmkrc": rc, "latexmkrc": rc})
    compiled = compile_project(main)
    assert compiled.pdf is not None and not marker.exists()


def test_reading_a_file_outside_the_project_fails_and_says_where(tmp_path):
    compiled = compile_project(project(tmp_path / "p", "\\input{/etc/passwd}"))
    assert compiled.pdf is None and "root:" not in compiled.log.read_text(encoding="utf-8", errors="replace")
    assert compiled.problem.en == "The compile stopped at main.tex, line 3: LaTeX Error: File `/etc/passwd.tex' not found."
    assert compiled.problem.zh.startswith("编译在 main.tex 第 3 行出错：")


def test_writing_outside_the_project_fails(tmp_path):
    body = (
        "\\newwrite\\f\\immediate\\openout\\f=" + str(tmp_path / "out.txt") + "\\immediate\\write\\f{x}\\immediate\\closeout\\f"
    )
    compiled = compile_project(project(tmp_path / "p", body))
    assert not (tmp_path / "out.txt").exists() and "I can't write on file" in compiled.problem.en
    body = "\\newwrite\\f\\immediate\\openout\\f=../up.txt\\immediate\\write\\f{x}\\immediate\\closeout\\f"
    compiled = compile_project(project(tmp_path / "q", body))
    assert not (tmp_path / "up.txt").exists() and "I can't write on file" in compiled.problem.en


def test_an_endless_loop_is_stopped_at_its_time_limit(tmp_path):
    compiled = compile_project(project(tmp_path / "p", "\\loop\\iftrue\\repeat"), seconds=5)
    assert compiled.pdf is None
    assert compiled.problem.en in (
        "TeX ran longer than 5 s (an endless loop?) and was stopped.",
        "TeX used up its 5 s of CPU time and was stopped.",
    )


def test_the_latex_translation_compiles_a_chinese_translation_of_the_paper(llama_kwargs, tmp_path):
    source = tmp_path / "source"
    paper(source)
    archive = tmp_path / "paper.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in source.rglob("*"):
            if path.is_file():
                bundle.write(path, path.relative_to(source).as_posix())
    chatbot = make_chatbot(tmp_path, files=[archive], lang="en")
    drive(latex_translate.run, "", {**llm_kwargs_short(llama_kwargs)}, chatbot, {"language": "Chinese"})
    pdfs = [path for path in chatbot.outputs if path.suffix == ".pdf"]
    assert pdfs and pdfs[0].read_bytes().startswith(b"%PDF"), chatbot[-1][1]
    assert "Compiled to PDF with XeLaTeX" in chatbot[-1][1]


def llm_kwargs_short(llm_kwargs: dict) -> dict:
    return {**llm_kwargs, "max_length": 48}
