"""Documents for the knowledge-base tests, made the way real ones are, each stating checkable facts at known places.

`make_papers(folder)` writes four multi-page PDFs typeset line by line with PyMuPDF: a title in a large bold font,
numbered section headings in a larger bold font, a running header and page numbers, words hyphenated at line ends,
a References section whose entries name a decoy term (DECOY) that no question may find. One paper is set in a
single column, one double-spaced as a manuscript, one in two columns, one carries an outline. `make_latex_project`
zips a LaTeX project (macros, \\input, sections, inline maths, a figure, a bibliography); `make_report` writes a
Word file with headings. Each returns its facts: a question, the file's name as a base names it (under the folder
or zip added), the page (None where a format has none), the section, and a phrase of the passage that answers it.
"""

from __future__ import annotations

import functools
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

DECOY = "Quokkanine"  # only in the papers' reference lists
HEADER = "Journal of Applied Imaginary Science 12 (2024)"


@dataclass(frozen=True)
class Fact:
    question: str
    file: str  # as the base names it
    page: int | None  # the page the answering passage starts on (PDFs), else None
    section: str  # the heading the passage sits under, as the reader gives it
    phrase: str  # words of the passage that answers it


@dataclass(frozen=True)
class Style:
    columns: tuple[tuple[float, float], ...]  # (left, width) of each column
    size: float = 10.0  # body font size
    leading: float = 13.0  # baseline to baseline
    gap: float = 4.0  # extra space between paragraphs
    indent: float = 14.0  # of a paragraph's first line
    heading: float = 13.0  # font size of section headings
    font: str = "tiro"
    bold: str = "hebo"


SINGLE = Style(columns=((72, 451),))
DOUBLE_SPACED = Style(columns=((72, 451),), size=11, leading=22, gap=0, indent=36, heading=11)
TWO_COLUMNS = Style(columns=((54, 235), (307, 235)), size=9, leading=11.5, gap=3, indent=10, heading=11)
TOP, BOTTOM = 90.0, 750.0  # the body's area; the running header sits at 40, the page number at 805


@dataclass
class Section:
    heading: str
    paragraphs: list[str]
    size: float | None = None  # the heading's font size when not the style's (a subsection)
    new_page: bool = False
    new_column: bool = False


@dataclass
class Paper:
    name: str
    title: str
    authors: str
    sections: list[Section]
    references: list[str]
    style: Style
    appendix: list[Section] = field(default_factory=list)
    outline: bool = False


def _prose(sentences: list[str], count: int, start: int = 0) -> str:
    return " ".join(sentences[(start + i) % len(sentences)] for i in range(count))


@functools.cache
def _font(name: str):
    import pymupdf

    return pymupdf.Font(name)


@functools.cache
def _advance(font: str, char: str) -> float:
    """A character's width in a base-14 font at size 1 (pymupdf.get_text_length, without its cost per call)."""
    return _font(font).text_length(char, fontsize=1)


class _Typesetter:
    """Lines set one by one as a typesetter does: wrapped to the column, words hyphenated at line ends."""

    def __init__(self, paper: Paper) -> None:
        import pymupdf

        self.pymupdf, self.paper, self.style = pymupdf, paper, paper.style
        self.doc = pymupdf.open()
        self.page = None
        self.column, self.y, self.top = 0, TOP, TOP
        self.toc: list[list] = []
        self._new_page()

    def _new_page(self) -> None:
        self.page = self.doc.new_page(width=595, height=842)
        number = self.doc.page_count
        if number > 1:
            self.page.insert_text((72, 40), HEADER, fontsize=8, fontname="tiit")
        self.page.insert_text((292, 805), str(number), fontsize=8, fontname="tiro")
        self.column, self.y, self.top = 0, TOP, TOP

    def _next_column(self) -> None:
        if self.column + 1 < len(self.style.columns):
            self.column, self.y = self.column + 1, self.top
        else:
            self._new_page()

    def _room(self, height: float) -> None:
        if self.y + height > BOTTOM:
            self._next_column()

    @staticmethod
    def length(text: str, font: str, size: float) -> float:
        return size * sum(_advance(font, char) for char in text)

    def wrap(self, text: str, width: float, indent: float, font: str, size: float) -> list[str]:
        """`text` in lines of `width` points (the first indented): a word that does not fit is hyphenated (after a
        compound's own hyphen, or between letters with a hyphen added) or goes to the next line."""
        lines, current, room = [], "", width - indent
        for word in text.split():
            if self.length(f"{current} {word}".strip(), font, size) <= room:
                current = f"{current} {word}".strip()
                continue
            cuts = {k + 1 for k, c in enumerate(word[:-1]) if c == "-"}
            cuts |= {k for k in range(3, len(word) - 2) if word[:k].isalpha() and word[k:].rstrip(".,;").isalpha()}
            heads = [(k, word[:k] if word[k - 1] == "-" else word[:k] + "-") for k in sorted(cuts, reverse=True)]
            k, head = next(((k, h) for k, h in heads if self.length(f"{current} {h}".strip(), font, size) <= room), (0, ""))
            lines.append(f"{current} {head}".strip())
            current, room = word[k:], width
        lines.append(current)
        return [line for line in lines if line]

    def title(self) -> None:
        for line in self.wrap(self.paper.title, 451, 0, "hebo", 18):
            self.page.insert_text((72, self.y), line, fontsize=18, fontname="hebo")
            self.y += 24
        self.page.insert_text((72, self.y), self.paper.authors, fontsize=10, fontname="tiit")
        self.y += 30
        self.top = self.y  # the columns of the first page start under the title

    def heading(self, section: Section) -> None:
        if section.new_page:
            self._new_page()
        elif section.new_column:
            self._next_column()
        size = section.size or self.style.heading
        if self.y > self.top:
            self.y += self.style.leading * 0.8
        self._room(size + 3 * self.style.leading)
        left, width = self.style.columns[self.column]
        for line in self.wrap(section.heading, width, 0, self.style.bold, size):
            self.page.insert_text((left, self.y), line, fontsize=size, fontname=self.style.bold)
            self.y += size * 1.4
        self.toc.append([1 if section.size is None else 2, section.heading, self.doc.page_count])
        self.y += self.style.leading - size * 1.4 + 2

    def paragraph(self, text: str, indent: bool = True) -> None:
        style = self.style
        for i, line in enumerate(self.wrap(text, style.columns[self.column][1], style.indent if indent else 0,
                                           style.font, style.size)):  # fmt: skip
            self._room(style.size)
            left = style.columns[self.column][0] + (style.indent if indent and i == 0 else 0)
            self.page.insert_text((left, self.y), line, fontsize=style.size, fontname=style.font)
            self.y += style.leading
        self.y += style.gap

    def save(self, path: Path) -> Path:
        if self.paper.outline:
            self.doc.set_toc(self.toc)
        self.doc.save(path)
        self.doc.close()
        return path


def typeset(paper: Paper, path: Path) -> Path:
    setter = _Typesetter(paper)
    setter.title()
    for section in paper.sections:
        setter.heading(section)
        for i, text in enumerate(section.paragraphs):
            setter.paragraph(text, indent=i > 0 or paper.style is DOUBLE_SPACED)
    setter.heading(Section("References", []))
    for entry in paper.references:
        setter.paragraph(entry, indent=False)
    for section in paper.appendix:
        setter.heading(section)
        for text in section.paragraphs:
            setter.paragraph(text, indent=False)
    return setter.save(path)


# ---------------------------------------------------------------- the papers

CATALYSIS = [
    "Ammonia synthesis consumes a large share of the energy used by the chemical industry worldwide.",
    "Ruthenium promoters lower the activation barrier for nitrogen dissociation on the catalyst surface.",
    "The reactor was operated at pressures between forty and one hundred bar with a hydrogen to nitrogen ratio of three.",
    "Each screening campaign compared twelve formulations prepared by incipient wetness impregnation.",
    "Surface areas were characterised by nitrogen physisorption before and after every pressure cycle.",
    "Temperature programmed desorption revealed two distinct adsorption sites on the promoted supports.",
]
CATALYSIS_FACT = (
    "In the pressure trials the catalyst XR-7 raised the ammonia yield to 83 percent at 250 degrees, "
    "against 41 percent for the unpromoted iron reference."
)
GLACIER = [
    "Outlet glaciers of the southern ice cap respond within years to changes in summer temperature.",
    "Terminus positions were digitised from orthorectified aerial photographs and satellite imagery.",
    "Uncertainties in the digitisation were estimated from repeated tracing by independent observers.",
    "Proglacial lakes enlarge as the ice retreats and accelerate calving along the terminus.",
    "Meteorological records from the nearest lowland station extend continuously back to 1949.",
    "Mass balance stakes were read every autumn along the central flowline of each glacier.",
]
GLACIER_FACT = (
    "Between 2001 and 2019 the Skalafell outlet glacier retreated 412 metres, the fastest retreat recorded "
    "anywhere in the survey."
)
SLEEP = [
    "Memory consolidation during slow wave sleep strengthens recently encoded declarative associations.",
    "Participants learned lists of semantically unrelated word pairs in the evening before the test night.",
    "Polysomnography recorded sleep stages with electrodes placed according to the international standard.",
    "Actigraphy confirmed habitual sleep schedules during the fortnight preceding each laboratory session.",
    "Recall was tested the following morning by cued presentation of the first word of every pair.",
    "Caffeine and alcohol were forbidden during the twenty four hours before each laboratory night.",
]
SLEEP_FACT = (
    "Participants who slept less than six hours recalled 31 percent fewer word pairs than those who slept "
    "eight hours, an effect that persisted after controlling for age."
)
CORAL = [
    "Reef building corals host symbiotic algae that supply most of their metabolic energy.",
    "Loggers moored at three depths recorded water temperature every thirty minutes for two summers.",
    "Bleaching was scored visually on tagged colonies using a standard colour reference card.",
    "Recovery of pigmentation was followed for eighteen months after the thermal anomaly ended.",
    "Shaded colonies on the lower slope experienced markedly smaller daily temperature fluctuations.",
    "Symbiont densities were counted in tissue samples taken from the upper surface of each colony.",
]
CORAL_FACT = (
    "Colonies of Acropora bleached once the water stayed above 30.5 degrees Celsius for nine consecutive days, "
    "whereas massive Porites tolerated the same anomaly."
)


def _references(*titles: str) -> list[str]:
    return [
        f"[1] R. Lindqvist and T. Ono. {DECOY} {titles[0]}. Journal of Imaginary Studies 12 (2019) 1-9.",
        f"[2] M. Okafor. A survey of {DECOY} {titles[1]}. Proceedings of the Symposium on Nothing (2021) 44-51.",
        f"[3] H. Brandt, J. Silva and K. Ito. {DECOY} {titles[2]} revisited. Annals of Decoys 3 (2022) 100-120.",
    ]


def papers() -> list[Paper]:
    """The four papers: one column, double spaced, two columns, with an outline; their facts are PDF_FACTS."""
    catalysis = Paper(
        "catalysis.pdf",
        "Promoted Ruthenium Catalysts for Low Pressure Ammonia Synthesis",
        "A. Researcher, B. Chemist, Department of Imaginary Chemistry",
        [
            Section("1 Introduction", [_prose(CATALYSIS, 6), _prose(CATALYSIS, 5, 2)]),
            Section("2 Related Work", [_prose(CATALYSIS, 6, 1)], new_page=True),
            Section("3 Method", [_prose(CATALYSIS, 7, 3), _prose(CATALYSIS, 4, 4)]),
            Section("4 Results", [CATALYSIS_FACT + " " + _prose(CATALYSIS, 3, 1), _prose(CATALYSIS, 6, 2)], new_page=True),
            Section("4.1 Stability", [_prose(CATALYSIS, 5, 5)], size=10),
            Section("5 Conclusion", [_prose(CATALYSIS, 4, 3)], new_page=True),
        ],
        _references("ligands for ammonia synthesis", "promoters", "surfaces"),
        SINGLE,
        appendix=[Section("Appendix A. Raw yields", ["The raw yields of all twelve formulations are listed per run."])],
    )
    glacier = Paper(
        "glaciers.pdf",
        "Retreat of Outlet Glaciers on the Southern Ice Cap",
        "C. Glaciologist, Institute of Imaginary Earth Sciences",
        [
            Section("1 Introduction", [_prose(GLACIER, 5, i) for i in range(3)]),
            Section("2 Data and Methods", [_prose(GLACIER, 4, 2), _prose(GLACIER, 5, 4)], new_page=True),
            Section("3 Observations", [GLACIER_FACT + " " + _prose(GLACIER, 3, 3), _prose(GLACIER, 4, 1)], new_page=True),
            Section("4 Discussion", [_prose(GLACIER, 5, 5)]),
        ],
        _references("moraines", "calving glaciers", "ice caps"),
        DOUBLE_SPACED,
    )
    sleep = Paper(
        "sleep.pdf",
        "Short Sleep Impairs the Recall of Word Pairs",
        "D. Somnologist, E. Psychologist, Imaginary Sleep Laboratory",
        [
            Section("1 Introduction", [_prose(SLEEP, 6), _prose(SLEEP, 5, 3)]),
            Section("2 Participants", [_prose(SLEEP, 6, 1)]),
            Section("3 Procedure", [_prose(SLEEP, 6, 2), _prose(SLEEP, 4, 4)], new_page=True),
            Section("4 Findings", [SLEEP_FACT + " " + _prose(SLEEP, 3, 5), _prose(SLEEP, 4, 0)], new_column=True),
            Section("5 Discussion", [_prose(SLEEP, 6, 3)], new_page=True),
        ],
        _references("sleep spindles", "memory", "word pairs"),
        TWO_COLUMNS,
    )
    coral = Paper(
        "coral.pdf",
        "Thermal Thresholds of Coral Bleaching on a Fringing Reef",
        "F. Ecologist, Imaginary Marine Station",
        [
            Section("1 Introduction", [_prose(CORAL, 6), _prose(CORAL, 4, 2)]),
            Section("2 Methods", [_prose(CORAL, 6, 1)], new_page=True),
            Section("2.1 Temperature loggers", [_prose(CORAL, 3, 1)], size=10),
            Section("3 Results", [_prose(CORAL, 4, 3)], new_page=True),
            Section("3.1 Bleaching thresholds", [CORAL_FACT + " " + _prose(CORAL, 3, 2), _prose(CORAL, 4, 4)], size=10),
            Section("4 Conclusion", [_prose(CORAL, 4, 5)]),
        ],
        _references("reef temperatures", "algal symbionts", "bleaching"),
        SINGLE,
        outline=True,
    )
    return [catalysis, glacier, sleep, coral]


# key: (the paper's file, question, page, section, phrase of the answer)
PDF_FACTS = {
    "catalysis": ("catalysis.pdf", "What ammonia yield did the XR-7 catalyst reach?", 3, "4 Results", "yield to 83 percent"),
    "glacier": ("glaciers.pdf", "How far did the Skalafell outlet glacier retreat?", 3, "3 Observations", "retreated 412 metres"),
    "sleep": (
        "sleep.pdf",
        "How does sleeping less than six hours affect the recall of word pairs?",
        2,
        "4 Findings",
        "recalled 31 percent fewer word pairs",
    ),
    "coral": (
        "coral.pdf",
        "At what water temperature did the Acropora corals bleach?",
        3,
        "3.1 Bleaching thresholds",
        "above 30.5 degrees Celsius",
    ),
}


def make_papers(folder: Path) -> dict[str, Fact]:
    """Four multi-page PDFs in `folder`; their facts, files named as a base names them when `folder` is added."""
    folder.mkdir(parents=True, exist_ok=True)
    for paper in papers():
        typeset(paper, folder / paper.name)
    return {key: Fact(question, f"{folder.name}/{name}", page, section, phrase)
            for key, (name, question, page, section, phrase) in PDF_FACTS.items()}  # fmt: skip


def make_changed_paper(path: Path) -> str:
    """catalysis.pdf again with another finding in its results; returns the phrase that replaced the old one."""
    paper = papers()[0]
    results = paper.sections[3]
    results.paragraphs[0] = results.paragraphs[0].replace("XR-7", "XR-9").replace("83 percent", "57 percent")
    typeset(paper, path)
    return "yield to 57 percent"


def make_filler_paper(path: Path, number: int, pages: int = 2, sentences: int = 4) -> Path:
    """A short paper of `pages` pages, a section of `sentences` sentences on each, its numbers its own."""
    said = [f"{s[:-1]} in trial {number}." for s in CATALYSIS + CORAL]
    sections = [Section(f"{i + 1} Part {i + 1}", [_prose(said, sentences, 3 * i)], new_page=i > 0) for i in range(pages)]
    paper = Paper(path.name, f"Trial {number} of the Screening Campaign", "G. Author", sections,
                  _references("a", "b", "c"), SINGLE)  # fmt: skip
    return typeset(paper, path)


# ---------------------------------------------------------------- LaTeX and Word

LATEX_MAIN = r"""\documentclass[11pt]{article}
\usepackage{amsmath,graphicx}
\newcommand{\method}{\textsc{SpectraNet}}
\newcommand{\R}{\mathbb{R}}
\title{Spectral Pooling for Lichen Classification}
\author{H. Lichenologist}
\begin{document}
\maketitle
\begin{abstract}
We classify lichens from photographs with a small convolutional network, \method{}, whose pooling works in
the frequency domain.
\end{abstract}

\section{Introduction}
Lichens are symbiotic organisms whose growth forms vary with the substrate. % a comment that is no prose
Each photograph is a tensor $x \in \R^{3 \times h \times w}$ and every class has a prototype $p_k$.

\section{Method}\label{sec:method}
\input{sections/method}

\section{Experiments}
\subsection{Datasets}
The lichen atlas holds 9412 photographs taken in 37 herbaria, split by herbarium into training and test sets.
\begin{figure}[t]
\centering
\includegraphics[width=0.8\linewidth]{figures/atlas.png}
\caption{Photographs from the lichen atlas, one per growth form.}
\label{fig:atlas}
\end{figure}
Accuracy on the held out herbaria is reported in Table~\ref{tab:accuracy} \cite{decoy2020}.

\section{Conclusion}
Spectral pooling makes a small network practical for field guides on a phone.

\begin{thebibliography}{9}
\bibitem{decoy2020} K. Moss. Quokkanine lichens of the northern tundra. Imaginary Botany 4 (2020).
\end{thebibliography}
\end{document}
"""
LATEX_METHOD = r"""% sections/method.tex, read where main.tex inputs it
The spectral pooling layer cut the training time of the lichen classifier from 14 hours to 5 hours, because
the network keeps only the lowest frequencies $\hat{x}_{uv}$ with $u, v < k$ of each feature map.

\subsection{Frequency masks}
Each mask keeps a square of $k \times k$ coefficients, with $k$ chosen per layer by \method{}.
"""
LATEX_FACTS = {
    "latex-method": (
        "How much did spectral pooling shorten the training of the lichen classifier?",
        "Method",
        "from 14 hours to 5 hours",
    ),
    "latex-datasets": ("How many photographs does the lichen atlas hold?", "Datasets", "9412 photographs"),
}


def make_latex_project(path: Path) -> dict[str, Fact]:
    """A zipped LaTeX project (main.tex inputs sections/method.tex); facts named as `path`'s members in a base."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("main.tex", LATEX_MAIN)
        bundle.writestr("sections/method.tex", LATEX_METHOD)
        bundle.writestr("figures/atlas.png", b"\x89PNG\r\n\x1a\n")
    return {key: Fact(q, f"{path.name}/main.tex", None, section, phrase) for key, (q, section, phrase) in LATEX_FACTS.items()}


REPORT_FACT = "The night-time drip schedule cut water use on the tomato plots by 37 percent without lowering the harvest."


def make_report(path: Path, prefix: str = "") -> dict[str, Fact]:
    """A Word report with headings; its fact sits under "2.1 Drip schedule". `prefix`: the folder it is added in."""
    import docx

    document = docx.Document()
    document.add_heading("Irrigation Trials 2023", level=0)
    document.add_heading("1 Background", level=1)
    document.add_paragraph("Irrigation accounts for most of the water drawn by the farms of the valley.")
    document.add_heading("2 Field trial", level=1)
    document.add_paragraph("Six plots were watered by hand and six by drip lines on a timer.")
    document.add_heading("2.1 Drip schedule", level=2)
    document.add_paragraph(REPORT_FACT + " Soil moisture probes confirmed that the roots stayed moist.")
    document.add_heading("3 Costs", level=1)
    document.add_paragraph("The drip lines paid for themselves within two growing seasons.")
    document.save(str(path))
    name = f"{prefix}/{path.name}" if prefix else path.name
    return {"report": Fact("How much water did the night-time drip schedule save?", name, None, "2.1 Drip schedule",
                           "by 37 percent")}  # fmt: skip


@dataclass(frozen=True)
class Corpus:
    paths: list[Path]  # what to add: the papers folder (PDFs and the report) and the LaTeX zip
    facts: dict[str, Fact]


def make_corpus(root: Path) -> Corpus:
    folder = root / "papers"
    facts = make_papers(folder)
    facts |= make_report(folder / "report.docx", prefix=folder.name)
    facts |= make_latex_project(root / "thesis.zip")
    return Corpus([folder, root / "thesis.zip"], facts)
