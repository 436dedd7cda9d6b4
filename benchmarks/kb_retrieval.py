"""Retrieval quality of knowledge bases: keywords alone, vectors alone and the hybrid search, on real documents.

The documents are real open texts found on this machine (benchmarks/kb_corpus.py): the GNU GPL v3, the Apache
License 2.0, the MPL 2.0, the man-db manual and the Debian Python Policy rendered as multi-page PDFs (headings in a
larger font, running headers, page numbers), and the GFDL 1.3, the LGPL 2.1, the sed FAQ, dpkg's triggers spec
and GPT Academic's README as Markdown. They are added to a fresh base with the built-in embedding model
(builtin-all-minilm-l6-v2) through knowledge.indexing.add_paths, as the page and `kb add` do.

The questions (benchmarks/data/kb_questions.json) were written by hand, each for the one place that answers it:
a PDF page (or two, where the answer is said twice) or a Markdown section. Most are paraphrased ("Am I allowed
to ask for money when I hand out copies of the program?"); "exact" ones name a rare term, a section number, an
acronym or an option (WIPO, accessdb, --disable-setuid, X-Python3-Version). Each question keeps the anchor
phrases its answer is located by; the script checks that every anchor is still on the pages (sections) the file
says, so a change of layout cannot silently move the answers.

Three rankings per question, as the base computes them:
  keyword   Store.keyword(match_expression(query_terms(q)), 50)   FTS5 BM25
  vector    Store.nearest(embed(q), 50)                            exact cosine search
  hybrid    knowledge.retrieval.search(base, q, k=10)              both lists' chunks scored 0.6 * cosine +
                                                                   0.4 * IDF-weighted coverage, what `kb search` runs
A retrieved chunk is a hit when it is from the expected file and its pages (page..page_end) hold an expected
page, or its section is an expected section. Reported: recall@1/5/10 (a hit in the first 1/5/10) and MRR@10,
overall and by kind of question, with a paired bootstrap interval of hybrid minus the better single ranking.
"hybrid, relevant only" counts only the hits that retrieval.Hit.relevant keeps, i.e. what `kb ask` gives a model.

    python benchmarks/kb_retrieval.py [--quick] [--questions FILE] [--per-question]

--quick indexes the five PDFs and the sed FAQ only and asks the questions about them.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import kb_corpus
from common import load, loads_line, machine, progress, table, write_config

from knowledge import retrieval
from knowledge.bases import OWNER, create_base
from knowledge.indexing import add_paths
from knowledge.retrieval import match_expression, query_terms, search
from request_llms.config_loader import load_config
from request_llms.embeddings import embed
from request_llms.native.catalog import BUILTIN_EMBED

QUESTIONS = Path(__file__).resolve().parent / "data" / "kb_questions.json"
DEPTH = 10  # ranks looked at: recall@10 and MRR@10
CANDIDATES = 50  # as retrieval.CANDIDATES: each single ranking's length
QUICK_FILES = {"gpl-3.0.pdf", "apache-2.0.pdf", "mpl-2.0.pdf", "man-db-manual.pdf", "debian-python-policy.pdf", "sed-faq.md"}
BOOTSTRAP = 5000
ARMS = ("keyword", "vector", "hybrid", "hybrid, relevant only")


@dataclass
class Ranked:
    question: dict
    ranks: dict[str, int | None]  # arm: the 1-based rank of the first hit, None when none in the first DEPTH
    keyword: list[int]  # chunk ids, best first
    nearest: list[int]
    hits: set[int]  # the chunk ids among both lists that answer the question
    bm25: dict[int, float]  # the keyword list's scores
    similarity: dict[int, float]  # cosine, for every chunk of both lists (of the base's model)
    coverage: dict[int, float]  # retrieval's weighed share of the question's words, for the same chunks


# Ways of joining the same two rankings, to choose retrieval.search's: reciprocal-rank fusion (RRF, what it used
# before), BM25 (divided by the question's best) mixed with the cosine, and coverage mixed with the cosine (what
# it uses now, at NEARNESS_WEIGHT). Each is scored over the chunks of both lists, best first.
WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9)
VARIANTS = {
    "RRF k=60": ("rrf", 60),
    "RRF k=20": ("rrf", 20),
    **{f"{a} cosine + {1 - a:.1f} BM25/best": ("bm25", a) for a in WEIGHTS},
    **{f"{a} cosine + {1 - a:.1f} coverage": ("coverage", a) for a in WEIGHTS},
}


def joined(r: Ranked, how: str, value: float) -> list[int]:
    if how == "rrf":
        scores: dict[int, float] = {}
        for ranking in (r.keyword, r.nearest):
            for rank, chunk_id in enumerate(ranking, start=1):
                scores[chunk_id] = scores.get(chunk_id, 0.0) + 1 / (value + rank)
        return sorted(scores, key=lambda i: -scores[i])
    best = max(r.bm25.values(), default=1.0) or 1.0
    other = {i: r.bm25.get(i, 0.0) / best for i in r.similarity} if how == "bm25" else r.coverage
    return sorted(r.similarity, key=lambda i: -(value * max(r.similarity[i], 0.0) + (1 - value) * other[i]))


def variant_rows(results: list[Ranked]) -> list[list[object]]:
    rows = []
    for name, (how, value) in VARIANTS.items():
        ranks = []
        for r in results:
            order = joined(r, how, value)[:DEPTH]
            ranks.append(next((n for n, i in enumerate(order, start=1) if i in r.hits), None))
        rows.append([name, f"{recall(ranks, 5):.3f}", f"{mrr(ranks):.3f}"])
    return rows


def expected_places(folder: Path, questions: list[dict]) -> list[str]:
    """Problems with the question set against the documents made here: anchors no longer where the file says."""
    problems = []
    for q in questions:
        path = folder / q["file"]
        for anchor in q["anchors"]:
            if path.suffix == ".pdf":
                found = kb_corpus.locate(path, anchor)
                if not set(found) & set(q["pages"]):
                    problems.append(f"#{q['id']} {q['file']}: {anchor!r} is on pages {found}, not {q['pages']}")
            else:
                found = kb_corpus.sections_holding(path, anchor)
                if not set(found) & set(q["sections"]):
                    problems.append(f"#{q['id']} {q['file']}: {anchor!r} is under {found}, not {q['sections']}")
    return problems


def is_hit(question: dict, chunk) -> bool:
    if Path(chunk.file).name != question["file"]:
        return False
    if "pages" in question:
        first = chunk.page or 0
        last = chunk.page_end or first
        return any(first <= page <= last for page in question["pages"])
    return chunk.section in question["sections"]


def first_hit(question: dict, chunks: list) -> int | None:
    for rank, chunk in enumerate(chunks[:DEPTH], start=1):
        if is_hit(question, chunk):
            return rank
    return None


def rank_all(base, config, questions: list[dict]) -> tuple[list[Ranked], list[float]]:
    store = base.store
    results, seconds = [], []
    for q in questions:
        words = query_terms(q["question"])
        keyword = store.keyword(match_expression(words), CANDIDATES)
        vector = embed(base.model, [q["question"]], config).vectors[0]
        nearest = store.nearest(vector, CANDIDATES)
        start = time.perf_counter()
        found = search(base, q["question"], config, k=DEPTH)
        seconds.append(time.perf_counter() - start)
        chunks = store.chunks(list({i for i, _ in keyword} | {i for i, _ in nearest}))
        lists = {
            "keyword": [chunks[i] for i, _ in keyword[:DEPTH]],
            "vector": [chunks[i] for i, _ in nearest[:DEPTH]],
            "hybrid": [hit.chunk for hit in found.hits],
            "hybrid, relevant only": [hit.chunk for hit in found.relevant],
        }
        hits = {i for i, chunk in chunks.items() if is_hit(q, chunk)}
        ranks = {arm: first_hit(q, lists[arm]) for arm in ARMS}
        both = list(chunks)
        cosines = store.similarities(vector, both)
        similarity = {i: cosines.get(i, 0.0) for i in both}
        coverage = retrieval.coverage(store, both, retrieval.rarity(store, words))
        results.append(
            Ranked(q, ranks, [i for i, _ in keyword], [i for i, _ in nearest], hits, dict(keyword), similarity, coverage)
        )
        progress(".")
    progress("\n")
    return results, seconds


def recall(ranks: list[int | None], at: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= at) / len(ranks)


def mrr(ranks: list[int | None]) -> float:
    return sum(1 / r for r in ranks if r is not None) / len(ranks)


def paired_interval(ours: list[float], base: list[float]) -> tuple[float, float, float]:
    """Mean of ours minus base over the questions, with a 95% paired bootstrap interval."""
    rng = random.Random(0)
    differences = [a - b for a, b in zip(ours, base, strict=True)]
    means = sorted(statistics.fmean(rng.choices(differences, k=len(differences))) for _ in range(BOOTSTRAP))
    return statistics.fmean(differences), means[int(0.025 * BOOTSTRAP)], means[int(0.975 * BOOTSTRAP) - 1]


def quality_rows(results: list[Ranked], label: str) -> list[list[object]]:
    rows = []
    for arm in ARMS:
        ranks = [r.ranks[arm] for r in results]
        rows.append(
            [
                label,
                arm,
                len(ranks),
                f"{recall(ranks, 1):.3f}",
                f"{recall(ranks, 5):.3f}",
                f"{recall(ranks, 10):.3f}",
                f"{mrr(ranks):.3f}",
            ]
        )
    return rows


def verdict_rows(results: list[Ranked]) -> tuple[list[list[object]], list[str]]:
    rows, verdicts = [], []
    measures = {
        "recall@5": lambda r: 1.0 if r is not None and r <= 5 else 0.0,
        "MRR@10": lambda r: 1 / r if r is not None else 0.0,
    }
    for name, score in measures.items():
        per_arm = {arm: [score(r.ranks[arm]) for r in results] for arm in ("keyword", "vector", "hybrid")}
        best = max(("keyword", "vector"), key=lambda arm: statistics.fmean(per_arm[arm]))
        for single in ("keyword", "vector"):
            mean, low, high = paired_interval(per_arm["hybrid"], per_arm[single])
            beats = "yes" if low > 0 else "NO (worse)" if high < 0 else "not shown (interval spans 0)"
            rows.append([name, f"hybrid - {single}", f"{mean:+.3f}", f"{low:+.3f} to {high:+.3f}", beats])
        hybrid, single = statistics.fmean(per_arm["hybrid"]), statistics.fmean(per_arm[best])
        verdicts.append(
            f"{name}: hybrid {hybrid:.3f} vs the better single ranking ({best}) {single:.3f}: "
            + ("hybrid beats both" if hybrid > single else "hybrid does NOT beat both")
        )
    return rows, verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the five PDFs and the sed FAQ, and their questions only")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help=f"the question set (default {QUESTIONS.name})")
    parser.add_argument("--per-question", action="store_true", help="print every question's ranks, not only the misses")
    args = parser.parse_args(argv)
    if kb_corpus.missing():
        print("missing source documents: " + ", ".join(kb_corpus.missing()), file=sys.stderr)
        return 2
    questions = json.loads(args.questions.read_text(encoding="utf-8"))["questions"]
    wanted = {s.name for s in kb_corpus.SOURCES if not args.quick or s.name in QUICK_FILES}
    questions = [q for q in questions if q["file"] in wanted]
    started, before = time.perf_counter(), load()
    with tempfile.TemporaryDirectory(prefix="kb-retrieval-") as name:
        folder = Path(name)
        corpus = folder / "corpus"
        progress("documents ")
        pages = kb_corpus.build(corpus)
        for path in corpus.iterdir():
            if path.name not in wanted:
                path.unlink()
        problems = expected_places(corpus, questions)
        if problems:
            print("the question set does not match the documents made here:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 2
        config = load_config(
            environ={}, private=write_config(folder / "config.py", DATA_DIR=str(folder / "data"), DISCOVER_LOCAL_MODELS=False)
        )
        base = create_base(config, OWNER, "kb-retrieval", BUILTIN_EMBED)
        progress("indexing ")
        indexed = add_paths(base, [corpus], config)
        index_seconds = indexed.seconds  # Progress.seconds goes on counting after the job
        if indexed.failed:
            print(f"files that failed: {indexed.failed}", file=sys.stderr)
            return 1
        progress(f"{indexed.chunks} chunks in {index_seconds:.0f} s; questions ")
        results, seconds = rank_all(base, config, questions)
        chunks_per_file = {Path(r.name).name: r.chunks for r in base.store.files()}
    wall = time.perf_counter() - started
    rows = quality_rows(results, "all")
    for kind in ("paraphrase", "exact"):
        subset = [r for r in results if r.question["type"] == kind]
        if subset:
            rows += quality_rows(subset, kind)
    comparisons, verdicts = verdict_rows(results)
    documents = [
        [
            f,
            "PDF" if f.endswith(".pdf") else "Markdown",
            pages.get(f) or "-",
            chunks_per_file.get(f, 0),
            sum(1 for q in questions if q["file"] == f),
        ]
        for f in sorted(wanted)
    ]
    lines = [
        "kb_retrieval: recall and MRR of keyword, vector and hybrid retrieval on real documents, built-in embedding model",
        machine(),
        f"{len(questions)} questions from {args.questions.name}; "
        f"{sum(1 for q in questions if q['type'] == 'paraphrase')} paraphrased, "
        f"{sum(1 for q in questions if q['type'] == 'exact')} with exact rare terms",
        "",
        table(["document", "kind", "pages", "chunks", "questions"], documents),
        f"  indexed {indexed.chunks} chunks in {index_seconds:.1f} s ({indexed.chunks / indexed.embed_seconds:.1f} chunks/s embedding)",
        "",
        table(["questions", "ranking", "n", "recall@1", "recall@5", "recall@10", "MRR@10"], rows),
        "",
        table(["measure", "difference", "mean over questions", "95% CI (paired bootstrap)", "hybrid better?"], comparisons),
        *[f"  {line}" for line in verdicts],
        f"  hybrid search (embed the question + both rankings + fuse) median {statistics.median(seconds) * 1000:.0f} ms, "
        f"max {max(seconds) * 1000:.0f} ms per question",
        "",
        f"Ways of joining the two rankings (search uses {retrieval.NEARNESS_WEIGHT} cosine + coverage; "
        f"one question is {1 / len(results):.3f} of recall):",
        table(["joined by", "recall@5", "MRR@10"], variant_rows(results)),
        "",
    ]
    shown = results if args.per_question else [r for r in results if (r.ranks["hybrid, relevant only"] or 99) > 5]
    lines.append(
        "per question (rank of the first hit in the first 10; - none):"
        if args.per_question
        else "hybrid misses (no hit in the first 5, or none that Hit.relevant keeps):"
    )
    lines.append(
        table(
            ["#", "file", "kind", "keyword", "vector", "hybrid", "relevant only", "question"],
            [
                [
                    r.question["id"],
                    r.question["file"],
                    r.question["type"],
                    *(r.ranks[arm] or "-" for arm in ARMS),
                    r.question["question"][:70],
                ]
                for r in shown
            ],
        )
        if shown
        else "  none"
    )
    lines += ["", loads_line(before, load(), "whole run"), f"whole run {wall / 60:.1f} min"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
