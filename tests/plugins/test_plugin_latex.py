"""The LaTeX plugins on a real llama-server: a user uploads a paper's sources (a zipped project or one .tex)
and gets them back polished, proofread or translated with every command and formula where it was, a diff
page, or an abstract; Stop keeps the finished pieces; typed paths and zip members outside the project are
refused."""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

from crazy_functions import latex_polish, latex_proofread, latex_translate, tex_abstract
from crazy_functions.latex.html_diff import diff_page
from crazy_functions.latex.latex_project import Project, checked_answer, parts_of, plain_text, protect
from crazy_functions.latex.rewrite import rewrite
from crazy_functions.latex_polish import polish_en
from tests.support.plugin_support import LLAMA, LLAMA_SLOT_TOKENS, drive, make_chatbot

INTRO = r"""\section{Introduction}\label{sec:intro}
Small language models can run on a laptop~\cite{smith2020,doe2021}. Their quality depends on the
training data, as Figure~\ref{fig:curve} shows. % check this claim
The loss falls as $L(n) = a n^{-b}$ for $n$ training tokens, which is \emph{slower} than expected.
"""

MAIN = r"""\documentclass[11pt]{article}
\usepackage{amsmath,graphicx}
\title{Small Models in Practice}
\begin{document}
\maketitle
% the body starts here
\begin{abstract}
We study how small models behave when the data are scarce and the hardware is modest.
\end{abstract}

\input{sections/intro}

\section{Method}
We minimise the loss in Equation~\eqref{eq:loss}, where $p$ is the model and $x_i$ the tokens:
\begin{equation}\label{eq:loss}
L = -\sum_i \log p(x_i)
\end{equation}
and the energy obeys \[ E = m c^2 \] as usual (see \url{https://example.org/a_b}).

\begin{figure}[t]
\centering
\includegraphics[width=0.5\linewidth]{curve.png}
\caption{The loss curve.}\label{fig:curve}
\end{figure}

\section{Conclusion}
Small models are useful when the task is narrow, and 50\% of the runs finished within \(t < 10\) minutes.
\end{document}
"""


def paragraphs(count: int) -> str:
    return "".join(
        f"The experiment number {i} measured the accuracy $a_{{{i}}}$ of a model with {i + 2} layers on the "
        f"benchmark of~\\cite{{bench{i}}}, and the result in Table~\\ref{{tab:{i}}} is \\textbf{{better}} than the "
        f"baseline by {i} points, which we discuss in the following section of this paper.\n\n"
        for i in range(count)
    )


def single_tex(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\\end{{document}}\n", encoding="utf-8")
    return path


def zipped_project(folder: Path, files: dict[str, str | bytes] | None = None) -> Path:
    archive = folder / "paper.zip"
    files = files or {"main.tex": MAIN, "sections/intro.tex": INTRO, "curve.png": b"\x89PNG\r\n\x1a\n"}
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, text in files.items():
            bundle.writestr(name, text)
    return archive


def short(llm_kwargs: dict) -> dict:
    """Answers of a few tokens: these runs check what is kept and written, never the prose."""
    return {**llm_kwargs, "max_length": 16}


def commands(text: str) -> Counter:
    return Counter(re.findall(r"\\[A-Za-z]+", text))


def inline_maths(text: str) -> Counter:
    return Counter(re.findall(r"(?<!\\)\$[^$]+\$", text))


def assert_markup_kept(before: str, after: str) -> None:
    assert commands(after) == commands(before)
    assert inline_maths(after) == inline_maths(before)


def output(chatbot, name: str) -> Path:
    found = [path for path in chatbot.outputs if path.name == name]
    assert found, f"{name} not offered; outputs: {[p.name for p in chatbot.outputs]}"
    return found[0]


# ---------------------------------------------------------------- protection, without a model


def test_protected_markup_comes_back_exactly_and_only_prose_goes_to_the_model():
    masked = protect(MAIN)
    assert masked.restore(masked.body) == MAIN
    assert "\\documentclass" in masked.head and "\\begin{document}" in masked.head
    sent = "".join(part.core for part in parts_of(masked.body, lambda text: [text]))
    assert "\\" not in sent and "$" not in sent and "%" not in sent
    assert "We study how small models behave" in sent and "The loss curve" not in sent  # figure bodies stay out


def test_definitions_verbatim_and_escapes_in_the_body_are_protected_too():
    source = (
        "\\documentclass{article}\n\\def\\be{\\begin{equation}}\n% \\begin{document} in a comment\n\\begin{document}\n"
        "\\newcommand\\R[1]{\\mathbb{R}^{#1}}\nIn \\R{3}, 100\\% of \\verb|x_y| cost \\$5 $$ x $$ and\\\\[2pt] more.\n"
        "\\begin{lstlisting}\ncode \\end{document}\n\\end{lstlisting}\nDone.\n\\end{document}\n% after\n"
    )
    masked = protect(source)
    assert masked.restore(masked.body) == source
    assert "\\def" in masked.head and "Done." in masked.body and "% after" in masked.tail
    (part,) = parts_of(masked.body, lambda text: [text])
    assert "\\" not in part.core and "$" not in part.core and "#" not in part.core and "Done." in part.core


def test_an_answer_that_breaks_the_markup_is_not_used():
    core = "Models run~⟦1⟧, see ⟦2⟧{fast} runs."
    assert checked_answer(core, "Models run well~⟦1⟧; see ⟦2⟧{fast} runs.")[0] == "Models run well~⟦1⟧; see ⟦2⟧{fast} runs."
    assert checked_answer(core, "Models run~⟦1⟧, see {fast} runs.")[1] == "markers"  # missing
    assert checked_answer(core, "Models ⟦1⟧ run~⟦1⟧, see ⟦2⟧{fast}.")[1] == "markers"  # duplicated
    assert checked_answer(core, "Models run~⟦1 ⟧, see ⟦2⟧{fast}.")[1] == "markers"  # altered
    assert checked_answer(core, "Models run~⟦1⟧, see ⟦2⟧{fast} \\cite{x}.")[1] == "latex"
    assert checked_answer(core, "Models run~⟦1⟧, see ⟦2⟧ fast} runs.")[1] == "braces"
    assert checked_answer(core, "```latex\nModels run~⟦1⟧ at 5% of ⟦2⟧{fast} R&D.\n```")[0] == (
        "Models run~⟦1⟧ at 5\\% of ⟦2⟧{fast} R\\&D."
    )


def test_rewritten_prose_next_to_a_command_or_a_comment_still_compiles_the_same():
    masked = protect("Intro. \\LaTeX is fine % note\nmore text.\n")
    (part,) = parts_of(masked.body, lambda text: [text])
    answer, _ = checked_answer(part.core, "Intro. ⟦1⟧is fine ⟦2⟧ more text.")
    assert masked.restore(part.masked(answer)) == "Intro. \\LaTeX is fine % note\n more text.\n"


def test_the_diff_page_marks_deletions_and_insertions_and_escapes_text():
    page = diff_page("a <b>", [("main.tex", "one two <three>\n", "one 2 <three>\n")], "en")
    assert "<del>two</del><ins>2</ins>" in page and "&lt;three&gt;" in page and "<title>a &lt;b&gt;</title>" in page


def test_plain_text_keeps_prose_and_drops_markup():
    text = plain_text(MAIN)
    assert "We study how small models behave" in text and "Conclusion" in text
    assert "\\" not in text.replace("\\(t < 10\\)", "") and "loss curve" not in text and "amsmath" not in text


# ---------------------------------------------------------------- the plugins


def test_polishing_a_zipped_project_keeps_every_command_and_formula(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path, files=[zipped_project(tmp_path)])
    drive(latex_polish.run, "", short(llama_kwargs), chatbot)
    message = chatbot[-1][1]
    assert "完成" in message and "paper-polished.zip" in message, message
    with zipfile.ZipFile(output(chatbot, "paper-polished.zip")) as bundle:
        assert {"main.tex", "sections/intro.tex", "curve.png"} <= set(bundle.namelist())
        assert_markup_kept(MAIN, bundle.read("main.tex").decode())
        assert_markup_kept(INTRO, bundle.read("sections/intro.tex").decode())
    page = output(chatbot, "paper-diff.html").read_text(encoding="utf-8")
    assert "<h2>main.tex</h2>" in page and "<h2>sections/intro.tex</h2>" in page
    assert not any(path.name.startswith(".latex-") for path in (tmp_path / "out").iterdir()), "scratch folder left"


def test_no_request_exceeds_the_models_window(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path, lang="en")
    single_tex(tmp_path, "intro.tex", INTRO)
    order = [Path("intro.tex")]
    project = Project("intro", tmp_path, order, order[0], order, zipped=False)
    runner = rewrite(chatbot, [], short(llama_kwargs), project, polish_en("en"))
    try:
        while True:
            next(runner)
    except StopIteration as finished:
        outcome = finished.value
    assert outcome.sizer.counter.exact and len(outcome.pieces) >= 2
    for piece in outcome.pieces:
        assert piece.prompt_tokens is not None
        assert piece.prompt_tokens + outcome.sizer.answer_tokens <= LLAMA_SLOT_TOKENS
    assert_markup_kept(outcome.files[0].original, outcome.files[0].result)


def test_proofreading_one_tex_file(llama_kwargs, tmp_path):
    source = single_tex(tmp_path, "draft.tex", "We has tested the modle on $n=5$ datasets~\\cite{x}.\n\n")
    chatbot = make_chatbot(tmp_path, files=[source], lang="en")
    drive(latex_proofread.run, "", short(llama_kwargs), chatbot)
    assert "Done" in chatbot[-1][1], chatbot[-1][1]
    assert_markup_kept(source.read_text(), output(chatbot, "draft-proofread.tex").read_text(encoding="utf-8"))
    assert "draft-diff.html" in chatbot[-1][1]


def test_stop_after_the_first_piece_writes_the_finished_part(llama_kwargs, tmp_path):
    sections = {f"part{i}.tex": paragraphs(1).replace("number 0", f"number {i}") for i in range(8)}
    main = single_tex(tmp_path, "main.tex", "".join(f"\\input{{part{i}}}\n" for i in range(8))).read_text()
    chatbot = make_chatbot(tmp_path, files=[zipped_project(tmp_path, {"main.tex": main, **sections})], lang="en")

    def first_piece_done(cb) -> bool:
        found = re.search(r"(\d+) done", cb[-1][1] or "")
        return bool(found and int(found.group(1)) >= 1)

    drive(latex_polish.run, "", short(llama_kwargs), chatbot, stop_when=first_piece_done)
    stopped = re.search(r"Stopped: (\d+) of (\d+) pieces finished", chatbot[-1][1])
    assert stopped and 1 <= int(stopped.group(1)) < int(stopped.group(2)), chatbot[-1][1]
    with zipfile.ZipFile(output(chatbot, "paper-polished.zip")) as bundle:
        assert set(bundle.namelist()) == {"main.tex", *sections}
        for name, text in sections.items():
            assert_markup_kept(text, bundle.read(name).decode())
    assert output(chatbot, "paper-diff.html").exists()


def test_a_path_typed_in_the_box_is_refused(tmp_path):
    chatbot = make_chatbot(tmp_path, lang="en")
    drive(latex_polish.run, "../papers/main.tex", {"llm_model": LLAMA, "max_length": 64}, chatbot)
    assert "refused" in chatbot[-1][1] and not chatbot.outputs


def test_a_zip_member_outside_the_project_is_not_written(llama_kwargs, tmp_path):
    main = "\\documentclass{article}\n\\begin{document}\nA short note.\n\\end{document}\n"
    archive = zipped_project(tmp_path, {"main.tex": main, "../evil.tex": main})
    chatbot = make_chatbot(tmp_path, files=[archive], lang="en")
    drive(latex_proofread.run, "", short(llama_kwargs), chatbot)
    assert "Done" in chatbot[-1][1], chatbot[-1][1]
    assert not list(tmp_path.parent.glob("evil.tex")) and not list(tmp_path.rglob("evil.tex"))
    with zipfile.ZipFile(output(chatbot, "paper-proofread.zip")) as bundle:
        assert bundle.namelist() == ["main.tex"]


def test_translating_writes_the_tex_and_says_no_tex_engine_is_installed(llama_kwargs, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no xelatex to be found
    source = single_tex(tmp_path, "paper.tex", INTRO)
    chatbot = make_chatbot(tmp_path, files=[source], lang="en")
    drive(latex_translate.run, "", short(llama_kwargs), chatbot, {"language": "Chinese"})
    message = chatbot[-1][1]
    assert "No TeX engine (xelatex) is installed" in message, message
    translated = output(chatbot, "paper-translated.tex").read_text(encoding="utf-8")
    assert "\\usepackage{ctex}" in translated
    assert commands(translated) - commands(source.read_text()) == Counter({"\\usepackage": 1})
    assert inline_maths(translated) == inline_maths(source.read_text())


def test_an_abstract_is_written_from_the_zipped_project(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path, files=[zipped_project(tmp_path)])
    drive(tex_abstract.run, "", short(llama_kwargs), chatbot)
    assert "paper-abstract.md" in chatbot[-1][1], chatbot[-1][1]
    text = output(chatbot, "paper-abstract.md").read_text(encoding="utf-8")
    assert text.startswith("# Small Models in Practice\n\n") and len(text.strip()) > len("# Small Models in Practice")
