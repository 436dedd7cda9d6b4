"""What goes into a base, without a model: papers read as blocks that know their page and section (PDF, LaTeX project,
Word), the bibliography left out, blocks cut into chunks that keep to one section and point into the text, and zips
that lie about their size or reach outside their folder refused or skipped."""

from __future__ import annotations

import re
import stat
import tempfile
import zipfile
from contextlib import ExitStack
from pathlib import Path

import pytest

from crazy_functions.runtime import files as runtime_files
from crazy_functions.runtime.errors import PluginInputError
from knowledge.chunking import CHUNK_WORDS, chunk_blocks, words
from knowledge.readers import Block, sources
from tests.support.documents import lying_zip
from tests.support.papers import DECOY, HEADER, REPORT_FACT, make_corpus, papers


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def documents(corpus) -> dict[str, list[Block]]:
    with ExitStack() as stack:
        return {source.name: source.read() for source in sources(corpus.paths, stack)}


def block_with(blocks: list[Block], phrase: str) -> Block:
    found = [block for block in blocks if phrase in block.text and not block.heading]
    assert len(found) == 1, f"{phrase!r} in {len(found)} blocks"
    return found[0]


def headings(blocks: list[Block]) -> list[tuple[int | None, str]]:
    return [(block.page, block.text) for block in blocks if block.heading]


def test_the_corpus_is_the_documents_a_base_names(documents, corpus):
    assert sorted(documents) == [
        "papers/catalysis.pdf",
        "papers/coral.pdf",
        "papers/glaciers.pdf",
        "papers/report.docx",
        "papers/sleep.pdf",
        "thesis.zip/main.tex",  # sections/method.tex is part of it, not a document of its own
    ]
    assert {fact.file for fact in corpus.facts.values()} <= set(documents)


def test_each_fact_is_read_on_its_page_under_its_section(documents, corpus):
    for key, fact in corpus.facts.items():
        block = block_with(documents[fact.file], fact.phrase)
        assert (block.page, block.section) == (fact.page, fact.section), key


def test_pdf_headings_are_found_on_their_pages_in_reading_order(documents):
    """One column, double spaced, two columns (the right column read after the left) and an outline."""
    assert headings(documents["papers/catalysis.pdf"]) == [
        (1, "Promoted Ruthenium Catalysts for Low Pressure Ammonia Synthesis"),
        (1, "1 Introduction"),
        (2, "2 Related Work"),
        (2, "3 Method"),
        (3, "4 Results"),
        (3, "4.1 Stability"),
        (4, "5 Conclusion"),
        (4, "Appendix A. Raw yields"),  # after the bibliography, and kept
    ]
    assert [text for _, text in headings(documents["papers/sleep.pdf"])][1:] == [
        "1 Introduction",
        "2 Participants",
        "3 Procedure",
        "4 Findings",
        "5 Discussion",
    ]
    assert headings(documents["papers/glaciers.pdf"])[-2:] == [(3, "3 Observations"), (3, "4 Discussion")]
    assert (3, "3.1 Bleaching thresholds") in headings(documents["papers/coral.pdf"])


def test_every_paragraph_of_a_pdf_is_read_whole_with_hyphenated_words_joined(documents, corpus):
    import pymupdf

    folder = corpus.paths[0]
    cut = 0
    for paper in papers():
        with pymupdf.open(folder / paper.name) as doc:
            cut += len(re.findall(r"[a-z]-\n[a-z]", "".join(page.get_text() for page in doc)))
        read = [block.text for block in documents[f"papers/{paper.name}"]]
        for section in paper.sections:
            for paragraph in section.paragraphs:
                assert paragraph in read, f"{paper.name}: {paragraph[:60]!r} was not read as one paragraph"
    assert cut >= 20, "the papers do not hyphenate words at line ends"


def test_running_headers_page_numbers_and_the_bibliography_are_left_out(documents):
    for name, blocks in documents.items():
        text = "\n".join(block.text for block in blocks)
        assert HEADER not in text, name
        assert DECOY not in text, f"{name}: the bibliography was indexed"
        assert not re.search(r"^\[\d\]", text, re.MULTILINE), name
        assert not [block for block in blocks if block.text.strip().isdigit()], f"{name}: a page number was kept"
        assert not [block for block in blocks if re.fullmatch(r"references|bibliography", block.text, re.I)], name
    appendix = block_with(documents["papers/catalysis.pdf"], "raw yields of all twelve")
    assert (appendix.page, appendix.section) == (4, "Appendix A. Raw yields")


def test_a_latex_project_is_read_in_input_order_under_its_section_titles(documents):
    blocks = documents["thesis.zip/main.tex"]
    assert [text for _, text in headings(blocks)] == [
        "Introduction",
        "Method",
        "Frequency masks",  # sections/method.tex, read where main.tex inputs it
        "Experiments",
        "Datasets",
        "Conclusion",
    ]
    assert all(block.page is None for block in blocks)
    method = block_with(blocks, "from 14 hours to 5 hours")
    assert method.section == "Method", "the \\input file's text sits under the section that inputs it"
    assert block_with(blocks, "Each mask keeps a square").section == "Frequency masks"


def test_latex_macros_maths_comments_figures_and_the_bibliography_do_not_break_the_text(documents):
    blocks = documents["thesis.zip/main.tex"]
    text = "\n".join(block.text for block in blocks)
    for markup in ("\\newcommand", "\\input", "\\section", "\\begin", "\\end", "\\includegraphics", "\\cite", "\\label"):
        assert markup not in text
    assert "a comment that is no prose" not in text and DECOY not in text
    intro = block_with(blocks, "Lichens are symbiotic organisms")
    assert intro.section == "Introduction" and "$x \\in" in intro.text and intro.text.rstrip().endswith("$p_k$.")
    datasets = block_with(blocks, "9412 photographs")
    assert datasets.text.startswith("The lichen atlas") and datasets.text.endswith("test sets.")
    method = block_with(blocks, "from 14 hours to 5 hours")
    assert method.text.startswith("The spectral pooling layer") and method.text.endswith("of each feature map.")


def test_latex_inputs_are_read_in_place_nested_once_and_never_from_a_comment(tmp_path):
    project = tmp_path / "thesis"
    (project / "chapters").mkdir(parents=True)
    (project / "main.tex").write_text(
        "\\documentclass{report}\n\\begin{document}\n\\chapter{One}\n\\input{chapters/one}\n"
        "% \\input{chapters/old}\n\\chapter{Two}\nText of two. \\include{chapters/deep}\n\\end{document}\n",
        encoding="utf-8",
    )
    (project / "chapters" / "one.tex").write_text("Text of one.\n\n\\input{deep}\n", encoding="utf-8")
    (project / "chapters" / "deep.tex").write_text("Deep text, read once.\n", encoding="utf-8")
    (project / "chapters" / "old.tex").write_text("Old text nobody inputs.\n", encoding="utf-8")
    with ExitStack() as stack:
        found = {source.name: source.read() for source in sources([project], stack)}
    assert sorted(found) == ["thesis/chapters/old.tex", "thesis/main.tex"]
    assert [(b.section, b.text) for b in found["thesis/main.tex"] if not b.heading] == [
        ("One", "Text of one."),
        ("One", "Deep text, read once."),
        ("Two", "Text of two."),
    ]
    assert [b.text for b in found["thesis/chapters/old.tex"]] == ["Old text nobody inputs."]


def test_a_word_report_has_its_headings_as_sections_and_no_pages(documents):
    blocks = documents["papers/report.docx"]
    assert [text for _, text in headings(blocks)] == ["1 Background", "2 Field trial", "2.1 Drip schedule", "3 Costs"]
    fact = block_with(blocks, REPORT_FACT)
    assert (fact.page, fact.section) == (None, "2.1 Drip schedule")
    assert block_with(blocks, "Six plots").section == "2 Field trial"


# ---------------------------------------------------------------- chunking


def spans(blocks: list[Block]) -> tuple[str, list[tuple[int, int, Block]]]:
    """The document's text as chunking counts it (blocks joined by blank lines) and each block's span in it."""
    placed, offset = [], 0
    for block in blocks:
        placed.append((offset, offset + len(block.text), block))
        offset += len(block.text) + 2
    return "\n\n".join(block.text for block in blocks), placed


def test_chunks_of_the_papers_point_into_the_text_and_keep_to_one_section(documents):
    for name, blocks in documents.items():
        text, placed = spans(blocks)
        chunks = chunk_blocks(blocks)
        assert chunks and [chunk.seq for chunk in chunks] == list(range(len(chunks)))
        for chunk in chunks:
            assert text[chunk.start : chunk.end] == chunk.text, name
            under = [block for start, end, block in placed if start < chunk.end and end > chunk.start]
            assert {block.section for block in under} == {chunk.section}, f"{name}: a chunk spans two sections"
            assert not any(block.heading for block in under), f"{name}: a heading inside a chunk"
            assert chunk.page == under[0].page and chunk.page_end == under[-1].page
            assert words(chunk.text) <= CHUNK_WORDS
        body = "".join(block.text for block in blocks if not block.heading)
        assert re.sub(r"\s", "", "".join(chunk.text for chunk in chunks)) == re.sub(r"\s", "", body), f"{name}: text lost"


def test_small_sections_are_not_merged_and_a_chunk_spanning_pages_says_so():
    blocks = [
        Block("A", 1, "A", heading=True),
        Block("Alpha one.", 1, "A"),
        Block("Alpha two.", 2, "A"),
        Block("B", 2, "B", heading=True),
        Block("Beta one.", 2, "B"),
    ]
    chunks = chunk_blocks(blocks)
    assert [(c.text, c.section, c.page, c.page_end) for c in chunks] == [
        ("Alpha one.\n\nAlpha two.", "A", 1, 2),
        ("Beta one.", "B", 2, 2),
    ]


def test_a_long_paragraph_is_cut_at_sentence_ends_and_every_piece_points_into_it():
    sentences = [f"Sentence {i} reports that measurement {i} of the sample stayed within the expected range." for i in range(60)]
    paragraph = " ".join(sentences)
    blocks = [Block("Results", 4, "Results", heading=True), Block(paragraph, 4, "Results"), Block("Short one.", 5, "Results")]
    text, _ = spans(blocks)
    chunks = chunk_blocks(blocks)
    assert len(chunks) >= words(paragraph) // CHUNK_WORDS
    for chunk in chunks:
        assert words(chunk.text) <= CHUNK_WORDS and text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.endswith("."), "a cut inside a sentence"
        assert chunk.text.startswith(("Sentence ", "Short one.")), "a chunk starts inside a sentence"
    assert " ".join(chunk.text.replace("\n\n", " ") for chunk in chunks) == f"{paragraph} Short one."
    assert chunks[-1].page_end == 5


def test_a_sentence_longer_than_a_chunk_is_cut_at_words_and_chinese_counts_characters():
    run_on = " ".join(f"w{i}" for i in range(400))
    chunks = chunk_blocks([Block(run_on, None, None)])
    assert [words(chunk.text) for chunk in chunks] == [CHUNK_WORDS, CHUNK_WORDS, 400 - 2 * CHUNK_WORDS]
    assert " ".join(chunk.text for chunk in chunks) == run_on
    chinese = "本研究测量了样品的稳定性。" * 40  # 13 characters a sentence, 520 in all
    chunks = chunk_blocks([Block(chinese, None, "结果")])
    assert len(chunks) == 4 and all(words(chunk.text) <= CHUNK_WORDS for chunk in chunks)
    assert "".join(chunk.text.replace("\n\n", "") for chunk in chunks) == chinese
    assert all(chunk.text.endswith("。") and chunk.section == "结果" for chunk in chunks)


# ---------------------------------------------------------------- zips


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """The temporary folder zips are unpacked in: the tests look at what is left in it."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def every_file(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def test_a_zip_that_lies_about_its_size_is_refused_and_leaves_nothing(tmp_path, scratch, monkeypatch):
    monkeypatch.setattr(runtime_files, "MAX_ZIP_BYTES", 1024 * 1024)
    archive = tmp_path / "bomb.zip"
    lying_zip(archive, real_size=4 * 1024 * 1024, claimed=100)
    with pytest.raises(PluginInputError) as refused, ExitStack() as stack:
        list(sources([archive], stack))
    assert "bomb.zip" in refused.value.en and "bomb.zip" in refused.value.zh
    assert every_file(scratch) == [] and every_file(tmp_path) == ["bomb.zip"]


def test_zip_members_reaching_outside_or_linking_are_skipped(tmp_path, scratch):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(zipfile.ZipInfo("../escape.md"), "# Escaped\n\nOutside the folder.\n")
        bundle.writestr(zipfile.ZipInfo("../../escape2.md"), "Further outside.\n")
        bundle.writestr(zipfile.ZipInfo(str(tmp_path / "absolute.md")), "An absolute path.\n")
        bundle.writestr(zipfile.ZipInfo("notes/../../sneaky.md"), "Up and out.\n")
        link = zipfile.ZipInfo("notes/link.md")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "/etc/passwd")
        bundle.writestr("notes/ok.md", "# Notes\n\nThe one member kept.\n")
    with ExitStack() as stack:
        found = list(sources([archive], stack))
        assert [source.name for source in found] == ["bundle.zip/notes/ok.md"]
        assert [block.text for block in found[0].read()] == ["Notes", "The one member kept."]
        unpacked = every_file(scratch)
    assert len(unpacked) == 1 and unpacked[0].endswith("/notes/ok.md")
    assert every_file(tmp_path) == ["bundle.zip"], "a member was written outside the folder it was unpacked in"
    assert not (tmp_path.parent / "escape.md").exists() and not (tmp_path / "absolute.md").exists()
    assert every_file(scratch) == [], "the unpacked files outlived the job"


def test_a_name_the_paper_writes_as_a_macro_is_read_as_its_words(documents):
    blocks = documents["thesis.zip/main.tex"]
    abstract = block_with(blocks, "small convolutional network")
    assert "network, SpectraNet, whose" in " ".join(abstract.text.split())
    masks = block_with(blocks, "Each mask keeps")
    assert masks.text.rstrip().endswith("chosen per layer by SpectraNet.")
    assert "$x \\in \\R^" in block_with(blocks, "Each photograph is a tensor").text  # a symbol in maths stays as written


def test_a_main_file_given_alone_brings_the_files_it_inputs_and_nothing_else(tmp_path):
    folder = tmp_path / "paper"
    (folder / "sections").mkdir(parents=True)
    (folder / "main.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\n\\section{Method}\n\\input{sections/method}\n\\end{document}\n",
        encoding="utf-8",
    )
    (folder / "sections" / "method.tex").write_text("The probe ran at 4 kelvin.\n", encoding="utf-8")
    (folder / "notes.tex").write_text("Unrelated notes.\n", encoding="utf-8")
    with ExitStack() as stack:
        found = {source.name: source.read() for source in sources([folder / "main.tex"], stack)}
    assert list(found) == ["main.tex"]
    assert [(b.section, b.text) for b in found["main.tex"] if not b.heading] == [("Method", "The probe ran at 4 kelvin.")]


def test_a_zip_in_a_folder_is_read_and_a_zip_in_that_zip_is_not(tmp_path):
    folder = tmp_path / "shelf"
    folder.mkdir()
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as bundle:
        bundle.writestr("deep.md", "# Deep\n\nToo deep to read.\n")
    with zipfile.ZipFile(folder / "box.zip", "w") as bundle:
        bundle.writestr("notes/a.md", "# A\n\nRead from the zip.\n")
        bundle.write(inner, "inner.zip")
    with ExitStack() as stack:
        found = {source.name: source.read() for source in sources([folder], stack)}
    assert list(found) == ["shelf/box.zip/notes/a.md"]
    assert [b.text for b in found["shelf/box.zip/notes/a.md"] if not b.heading] == ["Read from the zip."]


def test_a_comment_line_in_a_markdown_code_block_is_no_heading(tmp_path):
    notes = tmp_path / "setup.md"
    notes.write_text(
        "## Setup\n\n```bash\npip install localscholar\n\n# start the web page\n\npython main.py\n```\n\n"
        "The page opens on port 7860.\n",
        encoding="utf-8",
    )
    with ExitStack() as stack:
        (source,) = sources([notes], stack)
        blocks = source.read()
    assert [b.text for b in blocks if b.heading] == ["Setup"]
    assert {b.section for b in blocks} == {"Setup"}
    assert "# start the web page" in [b.text for b in blocks]
