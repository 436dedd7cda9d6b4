"""Finding the passages that answer a question: keywords and vectors, fused.

Academic questions are full of exact terms (gene and method names, acronyms, formula names) that small
embedding models miss, and the built-in embedding model reads English only, so every search runs both:
BM25 over the chunks' words (FTS5), and the question's vector against the chunks' vectors. The candidates
(the first CANDIDATES of each list) are then scored on two scales that mean the same in every base and
every question:
  nearness   the cosine of the chunk's vector and the question's;
  coverage   the share of what the question's words say that the chunk holds, each word weighed by its
             rarity in the base (BM25's IDF: a gene name counts for more than a common word);
  score = NEARNESS_WEIGHT * nearness + (1 - NEARNESS_WEIGHT) * coverage.
A keyword list alone always fills its candidates with chunks that share one common word; weighing it by
rank, as reciprocal-rank fusion does, let such chunks push a passage the vectors found second out of the
first ten. Coverage asks how much of the question a chunk holds instead (benchmarks/KNOWLEDGE.md).

A passage counts as found only if it is near the question in meaning (MIN_SIMILARITY) or holds at least
half of what the question's words say (MIN_COVERAGE). With none found, the answer says so instead of
asking a model to invent one from unrelated text. Nearness is not trusted where the model cannot read the
question: the built-in model reads English only and finds every Chinese text near every other (cosine 0.4
to 0.6), so a Chinese question asked of it is ranked and counted by its words alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from request_llms.embeddings import embed
from request_llms.native.catalog import BUILTIN_EMBED
from request_llms.request import CancelToken
from request_llms.text import Text

from .bases import Base
from .reranking import RERANK_CANDIDATES, rerank
from .store import StoredChunk

CANDIDATES = 50  # taken from each list before scoring
NEARNESS_WEIGHT = 0.6  # chosen on the first question set, confirmed on the held-out one (benchmarks/KNOWLEDGE.md)
MIN_SIMILARITY = 0.3  # cosine: below this a passage is not near the question in meaning
MIN_COVERAGE = 0.5  # share of the question's words, weighed by rarity, a passage must hold to count by keywords alone
MAX_QUERY_TERMS = 48
MAX_K = 50
ENGLISH_ONLY = {BUILTIN_EMBED}  # embedding models that read English only

_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\W_\u3400-\u9fff\uf900-\ufaff]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ENGLISH_STOPWORDS = """a an the and or of to in on for with by from at as is are was were be been being this that these those it its
    what which who whom whose when where why how do does did done can could should would may might will shall not no
    than then there their them they we our you your i me my he she his her about into over under between among also
    if so such any all each other some more most very just only both either neither nor per via using use used
    have has had many much paper papers study studies find found show shown result results say says said tell
    according"""
_CHINESE_STOPWORDS = "的 了 和 与 及 或 是 在 有 中 对 为 以 把 被 等 这 那 哪 什么 怎么 如何 哪些 是否 吗 呢 吧 啊"
STOPWORDS = frozenset(_ENGLISH_STOPWORDS.split()) | frozenset(_CHINESE_STOPWORDS.split())


def terms(text: str) -> list[str]:
    """The words FTS5 indexes: lower-case words, and Chinese as overlapping character pairs."""
    out = []
    for token in _TOKEN.findall(text):
        if _CJK.match(token):
            out += [token] if len(token) == 1 else [token[i : i + 2] for i in range(len(token) - 1)]
        else:
            out.append(token.lower())
    return out


def query_terms(question: str) -> list[str]:
    """The question's words that carry meaning, once each."""
    found = []
    for term in terms(question):
        if term not in STOPWORDS and (len(term) > 1 or _CJK.match(term)) and term not in found:
            found.append(term)
    return found[:MAX_QUERY_TERMS]


def match_expression(words: list[str]) -> str:
    """An FTS5 MATCH for any of `words`, each quoted (no FTS5 syntax reaches the engine from a question)."""
    return " OR ".join('"' + word.replace('"', '""') + '"' for word in words)


@dataclass(frozen=True)
class Hit:
    chunk: StoredChunk
    score: float  # NEARNESS_WEIGHT * cosine + the rest * coverage, 0..1
    similarity: float | None
    keyword_rank: int | None  # 1-based, None when the chunk holds none of the question's words
    coverage: float
    near_counts: bool = True  # whether the model reads the question's language, so nearness means something

    @property
    def relevant(self) -> bool:
        near = self.near_counts and (self.similarity or 0.0) >= MIN_SIMILARITY
        return near or self.coverage >= MIN_COVERAGE

    def as_dict(self) -> dict:
        c = self.chunk
        return {"file": c.file, "page": c.page, "section": c.section, "text": c.text, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Found:
    hits: list[Hit]  # best first, at most k, relevant or not
    model: str  # the embedding model the question was embedded with
    notices: list[Text] = field(default_factory=list)

    @property
    def relevant(self) -> list[Hit]:
        return [hit for hit in self.hits if hit.relevant]


def search(
    base: Base,
    question: str,
    config,
    k: int = 5,
    files: list[str] | None = None,
    cancel: CancelToken | None = None,
) -> Found:
    """The k passages of `base` that best answer `question`, keyword and vector rankings fused."""
    k = max(1, min(int(k), MAX_K))
    store = base.store
    file_ids = None
    if files:
        wanted = set(files)
        file_ids = [record.id for record in store.files() if record.name in wanted]
    model = base.model
    words = query_terms(question)
    keyword = store.keyword(match_expression(words), CANDIDATES, file_ids)
    vector = embed(model, [question], config, cancel).vectors[0] if store.count_chunks() else None
    nearest = store.nearest(vector, CANDIDATES, file_ids) if vector is not None else []
    candidates = list(dict.fromkeys([i for i, _ in nearest] + [i for i, _ in keyword]))
    similarity = store.similarities(vector, candidates) if vector is not None else {}
    covered = coverage(store, candidates, rarity(store, words))
    near_counts = not (model in ENGLISH_ONLY and _CJK.search(question))
    weight = NEARNESS_WEIGHT if near_counts else 0.0
    keyword_rank = {chunk_id: rank for rank, (chunk_id, _) in enumerate(keyword, start=1)}
    score = {i: weight * max(similarity.get(i, 0.0), 0.0) + (1 - weight) * covered[i] for i in candidates}
    reranker = config["KB_RERANK_MODEL"]
    best = sorted(candidates, key=lambda i: (-score[i], keyword_rank.get(i, CANDIDATES + 1)))
    best = best[: max(k, RERANK_CANDIDATES) if reranker else k]
    notices = []
    if reranker and len(best) > 1:
        texts = store.chunks(best)
        reranked = rerank(reranker, question, [texts[i].text for i in best], config, cancel)
        best = [best[i] for i in reranked.order]
        notices += [reranked.notice] if reranked.notice else []
    best = best[:k]
    chunks = store.chunks(best)
    hits = [Hit(chunks[i], score[i], similarity.get(i), keyword_rank.get(i), covered[i], near_counts) for i in best]
    return Found(hits, model, notices)


def rarity(store, words: list[str]) -> dict[str, float]:
    """Each word's weight: BM25's inverse document frequency in the base (a word no chunk holds weighs most).

    A pair of Chinese characters no chunk holds is left out: pairs are cut across word boundaries (冰川退缩 gives
    川退), and such a pair says nothing about the question."""
    total = store.count_chunks()
    return {
        w: math.log((total - df + 0.5) / (df + 0.5) + 1.0)
        for w, df in store.frequencies(words).items()
        if df or not _CJK.match(w)
    }


def coverage(store, ids: list[int], weights: dict[str, float]) -> dict[int, float]:
    """The share of the question's weight that each chunk of `ids` holds."""
    whole = sum(weights.values())
    found = {}
    for chunk_id, words in store.terms_of(ids).items():
        held = {_stem(term) for term in words.split()}
        found[chunk_id] = sum(w for word, w in weights.items() if _stem(word) in held) / whole if whole else 0.0
    return found | {chunk_id: 0.0 for chunk_id in ids if chunk_id not in found}


def _stem(word: str) -> str:
    """A word without its plural, -ing or -ed ending: enough to see "models" in a chunk that says "model"."""
    for ending in ("ing", "es", "s", "ed"):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            return word[: -len(ending)]
    return word
