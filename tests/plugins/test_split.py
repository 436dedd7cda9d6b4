"""Long texts cut to a token limit: every piece fits, nothing is lost, cuts fall at the strongest boundary,
and a text of thousands of tiny parts is counted in a few calls (each may be a request to the server)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crazy_functions.documents.pdf_text import read_pdf
from crazy_functions.documents.split import split_text
from request_llms.messages import estimate_tokens
from tests.support.documents import make_results_tables

PAPER = (
    "# Introduction\n\nLarge models are useful. They are also large.\n\nWe study them.\n"
    "# Method\n\nWe propose a method. It has three steps. 我们的方法分三步。\n\n"
    "\\section{Results}\nThe results are good.\n"
)


def test_pieces_fit_and_join_back_to_the_text():
    for limit in (5, 12, 30, 80, 1000):
        pieces = split_text(PAPER, limit, estimate_tokens)
        assert "".join(pieces) == PAPER
        assert all(estimate_tokens(p) <= limit for p in pieces)


def test_a_limit_that_fits_a_section_cuts_only_at_headings():
    pieces = split_text(PAPER, 40, estimate_tokens)
    assert [p.lstrip().split("\n")[0] for p in pieces] == ["# Introduction", "# Method", "\\section{Results}"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["\n", "\n\n", "# Title\n", "\\section{A}\n", ". ", "。", " ", "word", "词语", "$x^2$"]),
            st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
        ),
        max_size=60,
    ).map("".join),
    st.integers(1, 60),
)
def test_any_text_and_limit(text, limit):
    pieces = split_text(text, limit, estimate_tokens)
    assert "".join(pieces) == text
    assert all(estimate_tokens(p) <= limit for p in pieces)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # bpe_openai reads its tables with open_binary
def test_a_pdf_of_results_tables_is_cut_with_few_counts(tmp_path):
    import bpe_openai

    tokens = bpe_openai.get_encoding("cl100k_base")
    calls = []

    def count(text: str) -> int:
        calls.append(len(text))
        return len(tokens.encode(text))

    text = read_pdf(make_results_tables(tmp_path / "tables.pdf"))
    assert text.count("\n\n") > 2000, "the tables did not come out as thousands of small blocks"
    for limit in (300, 700, 1500):
        calls.clear()
        pieces = split_text(text, limit, count)
        assert "".join(pieces) == text
        assert all(len(tokens.encode(piece)) <= limit for piece in pieces)
        whole = len(tokens.encode(text))
        assert len(pieces) <= whole // (limit * 2 // 3) + 1, "the pieces are far from full"
        assert len(calls) <= 5 * len(pieces) + 5, f"{len(calls)} counts for {len(pieces)} pieces"
