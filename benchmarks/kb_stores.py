"""Vector stores for knowledge bases: query latency, recall and build time of our SQLite + numpy store against
sqlite-vec, LanceDB, Milvus Lite, Qdrant's local mode and two HNSW libraries, at 5,000 and 50,000 chunks.

The vectors are 384-dimensional, as the built-in embedding model (all-MiniLM-L6-v2) makes them:
  - real ones: --real chunks of generated papers (kb_papers.py) embedded with sentence-transformers on the
    built-in model's folder; they are the first rows;
  - the rest are made from them: each row mixes two real vectors (weights w and 1 - w, w uniform in 0.2..0.8) and
    adds Gaussian noise (norm about 0.35), then is scaled to length 1. So the rows keep the anisotropic shape of
    real MiniLM vectors (all in one cone, mean cosine well above 0) instead of the near-orthogonal spread of random
    unit vectors, which is easier on exact search and much harder on graph indexes than real data;
  - the queries: --queries questions (kb_papers.question) embedded with the same model: real query vectors.
The report prints the mean cosine between rows and of each query's nearest row, real and made, side by side.

Each candidate runs in a process of its own (a crash or a missing package is recorded with its error line and
the run goes on), builds its store from the same rows in a temporary folder, answers 5 warm-up queries and then
the --queries queries one at a time, top 10. Reported: build (insert + index) seconds, p50/p99 query latency,
recall@10 against exact search (numpy on the same rows), the process's peak resident memory over what it held
before building (VmHWM - RSS before), and the store's size on disk.

  ours          knowledge.store.Store: put_file in files of 40 chunks (text, FTS5 terms, vectors in SQLite), then
                Store.nearest (exact: the vectors in a numpy matrix, cached per base generation). The same process
                also measures Store.keyword (FTS5 BM25, top 10) on the questions' terms.
  ours, 1 BLAS thread   the same with OPENBLAS_NUM_THREADS=1: numpy's OpenBLAS uses both cores for the matrix-vector
                product, which is fast on an idle machine and waits a scheduler tick (~8 ms) when the other core is
                busy (a chat model or the embedding worker, as during a question). Both ours arms are also timed
                while one spinning process per core keeps the machine busy ("cores busy").
  sqlite-vec    a vec0 virtual table (float[384], cosine), KNN by MATCH ... AND k = 10: exact. Through
                pysqlite3-binary: this Python's sqlite3 cannot load extensions.
  lancedb       a Lance table, no index (exact scan), then with an IVF_PQ index (LanceDB's default) and with an
                IVF_HNSW_SQ index, default parameters; the indexed tables are also queried with nprobes 50 and
                refine_factor 10 (exact distances for the 100 best candidates).
  milvus-lite   pymilvus MilvusClient("file.db"), quick-setup collection (COSINE, AUTOINDEX: FAISS HNSW in
                milvus-lite 3.x), queried once the index reports no pending rows.
  qdrant-local  QdrantClient(path=...), COSINE: local mode, exact.
  usearch       usearch.index.Index (HNSW, cos, f32, its defaults: expansion_search 64), in memory; also
                queried with expansion_search 200.
  hnswlib       hnswlib.Index (HNSW, cosine, M=16, ef_construction=200, ef=64), in memory; also with ef 200.

    python benchmarks/kb_stores.py [--sizes 5000 50000] [--queries 200] [--real 600] [--only NAME ...] [--quick]

--quick: 5,000 rows only, 50 queries, 150 real vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from common import load, loads_line, machine, percentile, progress, table

DIM = 384
TOP = 10
WARMUP = 5
CHUNKS_PER_FILE = 40
CANDIDATES = [
    "ours",
    "ours, 1 BLAS thread",
    "sqlite-vec",
    "lancedb",
    "lancedb IVF_PQ",
    "lancedb IVF_HNSW_SQ",
    "milvus-lite",
    "qdrant-local",
    "usearch",
    "hnswlib",
]
PACKAGES = {
    "sqlite-vec": ["sqlite-vec", "pysqlite3-binary"],
    "lancedb": ["lancedb", "pyarrow"],
    "milvus-lite": ["pymilvus", "milvus-lite"],
    "qdrant-local": ["qdrant-client"],
    "usearch": ["usearch"],
    "hnswlib": ["hnswlib"],
}
MIB = 1024 * 1024
BUSY = "import time\nend = time.time() + 120\nwhile time.time() < end:\n    pass\n"  # a core, two minutes at most


# ---------------------------------------------------------------- the data (parent process)


def make_data(folder: Path, rows: int, real: int, queries: int, seed: int) -> dict:
    """Rows, queries and texts written to `folder`; returns figures about them."""
    import kb_papers  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415

    from knowledge.chunking import chunk_blocks  # noqa: PLC0415
    from knowledge.indexing import embedding_text  # noqa: PLC0415
    from request_llms.config_loader import load_config  # noqa: PLC0415
    from request_llms.native.plan import cache_dir  # noqa: PLC0415
    from request_llms.native.worker.encoder import unpack_builtin  # noqa: PLC0415

    rng = random.Random(seed)
    texts: list[str] = []
    n = 0
    start = time.perf_counter()
    while len(texts) < rows:
        texts += [embedding_text(c) for c in chunk_blocks(kb_papers.paper(seed * 1_000_000 + n, 4000).blocks())]
        n += 1
    texts = texts[:rows]
    questions = [kb_papers.question(rng) for _ in range(queries)]
    made_texts = time.perf_counter() - start
    folder_of_model = unpack_builtin(cache_dir(load_config(environ={})), lambda *_: None)
    model = SentenceTransformer(str(folder_of_model), device="cpu")
    start = time.perf_counter()
    real_vectors = model.encode(texts[:real], batch_size=32, show_progress_bar=False, normalize_embeddings=True)
    query_vectors = model.encode(questions, batch_size=32, show_progress_bar=False, normalize_embeddings=True)
    embedded = time.perf_counter() - start
    generator = np.random.default_rng(seed)
    a = generator.integers(0, real, rows - real)
    b = generator.integers(0, real, rows - real)
    w = generator.uniform(0.2, 0.8, (rows - real, 1)).astype(np.float32)
    noise = generator.normal(0.0, 0.35 / np.sqrt(DIM), (rows - real, DIM)).astype(np.float32)
    made = w * real_vectors[a] + (1 - w) * real_vectors[b] + noise
    made /= np.linalg.norm(made, axis=1, keepdims=True)
    vectors = np.vstack([real_vectors, made]).astype(np.float32)
    np.save(folder / "vectors.npy", vectors)
    np.save(folder / "queries.npy", query_vectors.astype(np.float32))
    (folder / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    (folder / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
    sample = generator.choice(rows, min(rows, 2000), replace=False)

    def mean_cosine(rows_a: np.ndarray, rows_b: np.ndarray) -> float:
        sims = rows_a @ rows_b.T
        return float(sims[~np.eye(len(rows_a), len(rows_b), dtype=bool)].mean()) if rows_a is rows_b else float(sims.mean())

    real_rows, made_rows = vectors[:real], vectors[real:][sample[sample < rows - real][:1000]]
    return {
        "papers": n,
        "texts_seconds": made_texts,
        "embed_seconds": embedded,
        "threads": torch.get_num_threads(),
        "cos_real": mean_cosine(real_rows, real_rows),
        "cos_made": mean_cosine(made_rows, made_rows),
        "top1_real": float((query_vectors @ real_rows.T).max(axis=1).mean()),
        "top1_made": float((query_vectors @ made_rows.T).max(axis=1).mean()),
    }


def exact_top(folder: Path, size: int) -> np.ndarray:
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")[:size]
    queries = np.load(folder / "queries.npy")
    scores = queries @ np.asarray(vectors).T
    top = np.argpartition(-scores, TOP, axis=1)[:, :TOP]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1), axis=1)


# ---------------------------------------------------------------- the candidates (a child process each)


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def hwm() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def timed_queries(search: Callable[[np.ndarray], list[int]], queries: np.ndarray) -> tuple[list[float], list[list[int]]]:
    for q in queries[:WARMUP]:
        search(q)
    seconds, found = [], []
    for q in queries:
        start = time.perf_counter()
        ids = search(q)
        seconds.append(time.perf_counter() - start)
        found.append([int(i) for i in ids])
    return seconds, found


def build_ours(where: Path, vectors: np.ndarray, texts: list[str]):
    from knowledge.retrieval import terms  # noqa: PLC0415
    from knowledge.store import Chunk, FileRecord, Store  # noqa: PLC0415

    store = Store(where / "base.sqlite3")
    store.create("bench", "builtin-all-minilm-l6-v2")
    for first in range(0, len(vectors), CHUNKS_PER_FILE):
        part = texts[first : first + CHUNKS_PER_FILE]
        chunks = [Chunk(i, 1, 1, "Section", 0, len(t), t) for i, t in enumerate(part)]
        record = FileRecord(
            f"file-{first:06d}.pdf", f"{first:064d}", 1, time.time(), "indexed", None, len(part), "builtin-all-minilm-l6-v2"
        )
        store.put_file(record, chunks, [" ".join(terms(t)) for t in part], vectors[first : first + len(part)])
    return store


def candidate(name: str, where: Path, vectors: np.ndarray, texts: list[str]) -> tuple[Callable[[np.ndarray], list[int]], dict]:
    """Build `name`'s store of `vectors` in `where`; returns its search (top-10 row numbers) and facts about it."""
    info: dict = {}
    n = len(vectors)
    if name.startswith("ours"):
        store = build_ours(where, vectors, texts)
        return (lambda q: [i - 1 for i, _ in store.nearest(q, TOP)]), info
    if name == "sqlite-vec":
        import pysqlite3.dbapi2 as sqlite3  # noqa: PLC0415
        import sqlite_vec  # noqa: PLC0415

        db = sqlite3.connect(where / "vec.sqlite3", isolation_level=None)
        db.enable_load_extension(True)
        sqlite_vec.load(db)
        db.enable_load_extension(False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"CREATE VIRTUAL TABLE vec USING vec0(embedding float[{DIM}] distance_metric=cosine)")
        db.execute("BEGIN")
        db.executemany("INSERT INTO vec(rowid, embedding) VALUES (?, ?)", ((i + 1, v.tobytes()) for i, v in enumerate(vectors)))
        db.execute("COMMIT")
        info["version"] = db.execute("SELECT vec_version()").fetchone()[0]
        sql = "SELECT rowid FROM vec WHERE embedding MATCH ? AND k = ? ORDER BY distance"
        return (lambda q: [r[0] - 1 for r in db.execute(sql, (q.tobytes(), TOP))]), info
    if name.startswith("lancedb"):
        import lancedb  # noqa: PLC0415
        import pyarrow as pa  # noqa: PLC0415

        db = lancedb.connect(where / "lance")
        column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), type=pa.float32()), DIM)
        tbl = db.create_table("chunks", data=pa.table({"id": pa.array(np.arange(n, dtype=np.int64)), "vector": column}))
        if name != "lancedb":
            kind = name.split()[1]
            start = time.perf_counter()
            tbl.create_index(metric="cosine", index_type=kind)
            info["index_seconds"] = time.perf_counter() - start

            info["indices"] = [f"{i.index_type} ({i.name})" for i in tbl.list_indices()]
            stats = tbl.index_stats("vector_idx")
            info["index"] = str(stats)[:300] if stats is not None else ""

        def search(q: np.ndarray) -> list[int]:
            found = tbl.search(q).distance_type("cosine").select(["id"]).limit(TOP).to_arrow()
            return found.column("id").to_pylist()

        def wider(q: np.ndarray) -> list[int]:  # more partitions probed, the PQ/SQ distances recomputed exactly
            found = tbl.search(q).distance_type("cosine").nprobes(50).refine_factor(10).select(["id"]).limit(TOP).to_arrow()
            return found.column("id").to_pylist()

        if name != "lancedb":
            info["variants"] = {"nprobes 50, refine_factor 10": wider}
        return search, info
    if name == "milvus-lite":
        from pymilvus import MilvusClient  # noqa: PLC0415

        client = MilvusClient(str(where / "milvus.db"))
        client.create_collection("chunks", dimension=DIM, metric_type="COSINE")
        for first in range(0, n, 2000):
            part = vectors[first : first + 2000]
            client.insert("chunks", [{"id": first + i, "vector": v.tolist()} for i, v in enumerate(part)])
        client.flush("chunks")
        deadline = time.perf_counter() + 300
        while True:  # the index is built in the background: queries before it is done scan growing segments
            described = [client.describe_index("chunks", i) for i in client.list_indexes("chunks")]
            if all(d.get("pending_index_rows", 0) == 0 and d.get("indexed_rows", n) >= n for d in described):
                break
            if time.perf_counter() > deadline:
                break
            time.sleep(0.5)
        info["index"] = described

        def search(q: np.ndarray) -> list[int]:
            return [hit["id"] for hit in client.search("chunks", data=[q.tolist()], limit=TOP)[0]]

        info["close"] = client.close
        return search, info
    if name == "qdrant-local":
        from qdrant_client import QdrantClient, models  # noqa: PLC0415

        client = QdrantClient(path=str(where / "qdrant"))
        client.create_collection("chunks", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
        for first in range(0, n, 1000):
            part = vectors[first : first + 1000]
            client.upsert("chunks", points=models.Batch(ids=list(range(first, first + len(part))), vectors=part.tolist()))

        def search(q: np.ndarray) -> list[int]:
            return [p.id for p in client.query_points("chunks", query=q.tolist(), limit=TOP, with_payload=False).points]

        info["close"] = client.close
        return search, info
    if name == "usearch":
        from usearch.index import Index  # noqa: PLC0415

        index = Index(ndim=DIM, metric="cos", dtype="f32")
        index.add(np.arange(n), vectors)
        index.save(str(where / "usearch.index"))
        info["params"] = (
            f"connectivity {index.connectivity}, expansion_add {index.expansion_add}, expansion_search {index.expansion_search}"
        )

        def wider(q: np.ndarray) -> list[int]:
            index.expansion_search = 200
            return index.search(q, TOP).keys.tolist()

        def default(q: np.ndarray) -> list[int]:
            index.expansion_search = 64
            return index.search(q, TOP).keys.tolist()

        info["variants"] = {"expansion_search 200": wider}
        return default, info
    if name == "hnswlib":
        import hnswlib  # noqa: PLC0415

        index = hnswlib.Index(space="cosine", dim=DIM)
        index.init_index(max_elements=n, ef_construction=200, M=16)
        index.add_items(vectors, np.arange(n))
        index.set_ef(64)
        index.save_index(str(where / "hnswlib.bin"))
        info["params"] = "M 16, ef_construction 200, ef 64"

        def with_ef(ef: int) -> Callable[[np.ndarray], list[int]]:
            def search(q: np.ndarray) -> list[int]:
                index.set_ef(ef)
                return index.knn_query(q, k=TOP)[0][0].tolist()

            return search

        info["variants"] = {"ef 200": with_ef(200)}
        return with_ef(64), info
    raise SystemExit(f"unknown candidate {name}")


def run_candidate(name: str, size: int, data: Path, where: Path) -> dict:
    vectors = np.ascontiguousarray(np.load(data / "vectors.npy", mmap_mode="r")[:size])
    queries = np.load(data / "queries.npy")
    texts = json.loads((data / "texts.json").read_text(encoding="utf-8"))[:size] if name.startswith("ours") else []
    before = rss()
    start = time.perf_counter()
    search, info = candidate(name, where, vectors, texts)
    built = time.perf_counter() - start
    seconds, found = timed_queries(search, queries)
    result = {"build": built, "seconds": seconds, "found": found, "peak": hwm() - before, "rss_before": before}
    result["variants"] = {label: timed_queries(other, queries) for label, other in info.pop("variants", {}).items()}
    if name.startswith("ours"):  # the same queries while every core is kept busy, as a local chat model does
        busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(os.cpu_count() or 1)]
        try:
            time.sleep(0.5)
            result["variants"]["cores busy"] = timed_queries(search, queries)
        finally:
            for process in busy:
                process.terminate()
                process.wait()
    if name.startswith("ours"):
        from knowledge.retrieval import match_expression, query_terms  # noqa: PLC0415
        from knowledge.store import Store  # noqa: PLC0415

        store = Store(where / "base.sqlite3")
        questions = json.loads((data / "questions.json").read_text(encoding="utf-8"))
        matches = [match_expression(query_terms(q)) for q in questions]
        for match in matches[:WARMUP]:
            store.keyword(match, TOP)
        keyword = []
        for match in matches:
            start = time.perf_counter()
            store.keyword(match, TOP)
            keyword.append(time.perf_counter() - start)
        result["keyword"] = keyword
        start = time.perf_counter()
        store.nearest(queries[0], TOP)  # after a write the matrix is read again: the first question's cost
        result["cached"] = time.perf_counter() - start
        with store._db() as db:  # noqa: SLF001 - a generation bump, as any write does, to time the reload
            db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        start = time.perf_counter()
        store.nearest(queries[0], TOP)
        result["reload"] = time.perf_counter() - start
    close = info.pop("close", None)
    if close:
        close()
    result["info"] = {k: (v if isinstance(v, int | float | str | list) else str(v)) for k, v in info.items()}
    result["disk"] = sum(p.stat().st_size for p in where.rglob("*") if p.is_file())
    return result


# ---------------------------------------------------------------- the report


def versions() -> list[list[str]]:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    rows = []
    for name in sorted({p for packages in PACKAGES.values() for p in packages}):
        try:
            rows.append([name, version(name)])
        except PackageNotFoundError:
            rows.append([name, "not installed"])
    return rows


def error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line or "Exception" in line]
    return (errors or lines or ["(no output)"])[-1][:200]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[5000, 50000], help="rows (chunks) per store (default 5000 50000)"
    )
    parser.add_argument("--queries", type=int, default=200, help="queries per store (default 200)")
    parser.add_argument("--real", type=int, default=600, help="rows embedded for real; the rest are made from them (default 600)")
    parser.add_argument("--only", nargs="+", choices=CANDIDATES, help="these candidates only")
    parser.add_argument("--quick", action="store_true", help="5000 rows, 50 queries, 150 real vectors")
    parser.add_argument("--timeout", type=int, default=420, help="seconds one candidate may take at one size (default 420)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidate", help=argparse.SUPPRESS)  # a child: NAME SIZE DATA WHERE
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.candidate:
        size, data, where = args.child
        result = run_candidate(args.candidate, int(size), Path(data), Path(where))
        print(json.dumps(result))
        return 0
    if args.quick:
        args.sizes, args.queries, args.real = [5000], 50, 150
    if args.real > min(args.sizes):
        parser.error("--real must not exceed the smallest size")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    started, before = time.perf_counter(), load()
    chosen = args.only or CANDIDATES
    rows, keyword_rows, notes, failures = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="kb-stores-") as name:
        folder = Path(name)
        progress(f"data: {max(args.sizes)} rows, {args.real} embedded ")
        facts = make_data(folder, max(args.sizes), args.real, args.queries, args.seed)
        progress(f"({facts['embed_seconds']:.0f} s)\n")
        for size in args.sizes:
            truth = exact_top(folder, size)
            for who in chosen:
                progress(f"{size} {who} ")
                where = folder / "stores" / f"{who.replace(' ', '-').replace(',', '')}-{size}"
                where.mkdir(parents=True)
                try:
                    env = dict(os.environ)
                    if who == "ours, 1 BLAS thread":
                        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
                    done = subprocess.run(
                        [sys.executable, __file__, "--candidate", who, "--child", str(size), str(folder), str(where)],
                        capture_output=True,
                        text=True,
                        timeout=args.timeout,
                        env=env,
                    )
                except subprocess.TimeoutExpired:
                    failures.append([size, who, f"did not finish within {args.timeout} s"])
                    progress("timeout\n")
                    shutil.rmtree(where, ignore_errors=True)
                    continue
                shutil.rmtree(where, ignore_errors=True)
                if done.returncode != 0:
                    failures.append([size, who, f"exit {done.returncode}: {error_line(done.stderr)}"])
                    progress("failed\n")
                    continue
                result = json.loads(done.stdout.strip().splitlines()[-1])
                info = result["info"]
                arms = [(who, result["seconds"], result["found"])]
                arms += [(f"{who}, {label}", seconds, found) for label, (seconds, found) in result["variants"].items()]
                for label, seconds, found in arms:
                    recall = float(np.mean([len(set(f) & set(t.tolist())) / TOP for f, t in zip(found, truth, strict=True)]))
                    ms = [s * 1000 for s in seconds]
                    first = label == who
                    rows.append(
                        [
                            size,
                            label,
                            f"{result['build']:.1f}" if first else "same",
                            f"{info['index_seconds']:.1f}" if "index_seconds" in info and first else "-",
                            f"{percentile(ms, 0.5):.2f}",
                            f"{percentile(ms, 0.99):.2f}",
                            f"{recall:.3f}",
                            f"{result['peak'] / MIB:.0f}" if first else "",
                            f"{result['disk'] / MIB:.1f}" if first else "",
                        ]
                    )
                    progress(f"p50 {percentile(ms, 0.5):.2f} ms, recall {recall:.3f}; ")
                progress("\n")
                if "keyword" in result and who == "ours":
                    kms = [s * 1000 for s in result["keyword"]]
                    keyword_rows.append([size, f"{percentile(kms, 0.5):.2f}", f"{percentile(kms, 0.99):.2f}"])
                    notes.append(
                        f"ours at {size}: the first Store.nearest after a write reads every vector from SQLite again: "
                        f"{result['reload'] * 1000:.0f} ms (a cached call: {result['cached'] * 1000:.2f} ms)"
                    )
                for key in ("params", "indices", "index", "version"):
                    if key in info:
                        notes.append(f"{who} at {size}: {key} {info[key]}")
    wall = time.perf_counter() - started
    exact = [row for row in rows if row[1] == "ours"]
    ratios = []
    for row in rows:
        base = next((b for b in exact if b[0] == row[0]), None)
        ratios.append(f"{float(row[4]) / float(base[4]):.2f}x" if base else "-")
    lines = [
        "kb_stores: query latency (top 10, one query at a time), recall@10 against exact search, and build time of vector stores",
        machine(),
        f"rows: {args.real} real MiniLM vectors of generated paper chunks ({facts['papers']} papers' text), the rest mixed from them "
        f"(two real vectors + noise, unit length); {args.queries} real query vectors of generated questions; "
        f"torch threads {facts['threads']} for the embedding ({facts['embed_seconds']:.0f} s)",
        f"  mean cosine between rows: real {facts['cos_real']:.3f}, made {facts['cos_made']:.3f}; "
        f"mean cosine of a query's nearest row: among real rows {facts['top1_real']:.3f}, among 1000 made rows {facts['top1_made']:.3f}",
        "",
        table(
            [
                "rows",
                "store",
                "build s",
                "of it index s",
                "p50 ms",
                "p99 ms",
                "recall@10",
                "peak MiB over before",
                "disk MiB",
                "p50 / ours",
            ],
            [row + [ratio] for row, ratio in zip(rows, ratios, strict=True)],
        ),
        "",
        "Store.keyword (FTS5 BM25, top 10, the questions' terms OR-ed as retrieval.search does), in the same bases:",
        table(["rows", "p50 ms", "p99 ms"], keyword_rows) if keyword_rows else "  not measured",
        "",
    ]
    if failures:
        lines += ["Candidates that failed here:", table(["rows", "store", "error"], failures), ""]
    lines += [
        *notes,
        "",
        table(["package", "version"], versions()),
        "",
        loads_line(before, load(), "whole run"),
        f"whole run {wall / 60:.1f} min",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
