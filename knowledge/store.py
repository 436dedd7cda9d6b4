"""One knowledge base as one SQLite file: its files, their chunks, a keyword index and the chunks' vectors.

A file's chunks, their keyword rows and their vectors are written in one transaction, with the file's
record last: a process killed while it indexes (even `kill -9`) leaves every file either fully in the
base or not at all, and SQLite's journal rolls the rest back when the base is next opened. Keyword
search is SQLite's FTS5 (BM25) over `terms` that retrieval.py makes (words stemmed by FTS5's porter
tokenizer, Chinese as character pairs). Vector search is exact: the base's vectors, normalised when
written, are read once into one matrix (kept until the base changes) and scored with one product. With
KB_STORE_URI set (remote.py) the vectors are also written to Milvus and searched there.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from request_llms.text import Text

from .remote import MilvusVectors

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    added REAL NOT NULL,
    state TEXT NOT NULL,          -- indexed | failed
    reason TEXT NOT NULL DEFAULT '',  -- why it failed, {"zh": ..., "en": ...}
    chunks INTEGER NOT NULL DEFAULT 0,
    model TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT ''    -- what indexing noticed (texts cut to fit the model), as reason
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: an id in Milvus names one chunk only
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    page INTEGER,
    page_end INTEGER,
    section TEXT,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms, tokenize = 'porter unicode61 remove_diacritics 2');
"""
BUSY_SECONDS = 30.0  # another process writing the same base: wait this long for it


@dataclass(frozen=True)
class FileRecord:
    name: str
    sha256: str
    bytes: int
    added: float
    state: str  # "indexed" or "failed"
    reason: Text | None
    chunks: int
    model: str
    notes: Text | None = None
    id: int = 0

    def as_dict(self, lang: str) -> dict:
        return {
            "file": self.name,
            "state": self.state,
            "chunks": self.chunks,
            "added": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.added)),
            "model": self.model,
            "bytes": self.bytes,
            "reason": self.reason.text(lang) if self.reason else None,
        }


@dataclass(frozen=True)
class Chunk:
    """A piece of a file as it is indexed: where it came from, and its text."""

    seq: int
    page: int | None
    page_end: int | None
    section: str | None
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class StoredChunk:
    id: int
    file: str
    page: int | None
    page_end: int | None
    section: str | None
    start: int
    end: int
    text: str


def _text_json(text: Text | None) -> str:
    return json.dumps({"zh": text.zh, "en": text.en}, ensure_ascii=False) if text else ""


def _json_text(value: str) -> Text | None:
    if not value:
        return None
    words = json.loads(value)
    return Text(zh=words["zh"], en=words["en"])


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero), so a dot product is the cosine."""
    if not len(vectors):
        return vectors
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class _Matrix:
    """A base's vectors in memory, as of one generation of the base."""

    def __init__(self, generation: int, ids: np.ndarray, files: np.ndarray, vectors: np.ndarray) -> None:
        self.generation, self.ids, self.files, self.vectors = generation, ids, files, vectors


_matrices: dict[Path, _Matrix] = {}
_matrices_lock = threading.Lock()
KEPT_MATRICES = 8  # bases whose vectors stay in memory between questions


class Store:
    """A base's file. Every call opens its own connection, so threads and processes may share a base."""

    def __init__(self, path: Path, remote: MilvusVectors | None = None) -> None:
        self.path = path
        self.remote = remote
        self.key = f"{path.parent.parent.name}/{path.stem}"  # the user's folder and the base: its collections' names

    def _collection(self, model: str) -> str:
        return MilvusVectors.collection(self.key, model)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: a power cut may lose the last commit, never corrupt
            db.execute("PRAGMA foreign_keys = ON")
            yield db
        finally:
            db.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the base's generation moves on with it, so cached vectors are read anew."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute(
                    "INSERT INTO meta VALUES ('generation', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # ---- the base -------------------------------------------------------------------------------------
    def create(self, name: str, model: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)  # idempotent; the base counts as made once its name is written below
        with self._writing() as db:
            for key, value in (("name", name), ("model", model), ("created", str(time.time()))):
                db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))

    def exists(self) -> bool:
        return self.path.is_file()

    def meta(self) -> dict[str, str]:
        with self._db() as db:
            return dict(db.execute("SELECT key, value FROM meta"))

    def set_model(self, model: str) -> None:
        """Another embedding model: every chunk must be embedded again (indexing does, file by file)."""
        with self._writing() as db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'model'", (model,))
            db.execute("DELETE FROM meta WHERE key = 'dimension'")

    def drop(self) -> None:
        if self.remote is not None:
            self.remote.drop(self.key)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        with _matrices_lock:
            _matrices.pop(self.path, None)

    # ---- files ----------------------------------------------------------------------------------------
    def files(self) -> list[FileRecord]:
        with self._db() as db:
            rows = db.execute(
                "SELECT name, sha256, bytes, added, state, reason, chunks, model, notes, id FROM files ORDER BY name"
            ).fetchall()
        return [FileRecord(*row[:5], _json_text(row[5]), row[6], row[7], _json_text(row[8]), row[9]) for row in rows]

    def file(self, name: str) -> FileRecord | None:
        return next((record for record in self.files() if record.name == name), None)

    def put_file(self, record: FileRecord, chunks: Sequence[Chunk], terms: Sequence[str], vectors: np.ndarray) -> None:
        """A file's chunks, keyword rows and vectors in place of what the base had under its name, at once."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(chunks) != len(vectors) or len(chunks) != len(terms):
            raise ValueError("one vector and one set of terms per chunk")
        with self._writing() as db:
            gone = self._delete(db, record.name)
            if len(vectors):
                self._check_dimension(db, vectors.shape[1])
            cursor = db.execute(
                "INSERT INTO files (name, sha256, bytes, added, state, reason, chunks, model, notes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.name, record.sha256, record.bytes, record.added, record.state,
                    _text_json(record.reason), len(chunks), record.model, _text_json(record.notes),
                ),
            )  # fmt: skip
            file_id = cursor.lastrowid
            ids = []
            unit = _unit(vectors)
            for chunk, words, vector in zip(chunks, terms, unit, strict=True):
                row = db.execute(
                    "INSERT INTO chunks (file_id, seq, page, page_end, section, start, end, text, vector) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (file_id, chunk.seq, chunk.page, chunk.page_end, chunk.section, chunk.start, chunk.end, chunk.text,
                     vector.tobytes()),
                )  # fmt: skip
                db.execute("INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)", (row.lastrowid, words))
                ids.append(row.lastrowid)
            if self.remote is not None:  # before the commit: a committed chunk always has its vector there
                self.remote.upsert(self._collection(record.model), ids, file_id, unit)
        if gone is not None:
            self._forget_remote((gone[0], [i for i in gone[1] if i not in set(ids)]))

    @staticmethod
    def _check_dimension(db: sqlite3.Connection, dimension: int) -> None:
        row = db.execute("SELECT value FROM meta WHERE key = 'dimension'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta VALUES ('dimension', ?)", (str(dimension),))
        elif int(row[0]) != dimension:
            raise ValueError(f"vectors of {dimension} dimensions in a base of {row[0]}")

    def remove_file(self, name: str) -> bool:
        with self._writing() as db:
            gone = self._delete(db, name)
        self._forget_remote(gone)
        return gone is not None

    @staticmethod
    def _delete(db: sqlite3.Connection, name: str) -> tuple[str, list[int]] | None:
        """Delete a file's rows; (its model, its chunk ids) when it was there."""
        row = db.execute("SELECT id, model FROM files WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE file_id = ?", (row[0],))]
        db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE file_id = ?)", (row[0],))
        db.execute("DELETE FROM chunks WHERE file_id = ?", (row[0],))
        db.execute("DELETE FROM files WHERE id = ?", (row[0],))
        return row[1], ids

    def _forget_remote(self, gone: tuple[str, list[int]] | None) -> None:
        """A deleted file's vectors out of Milvus too (left there by a crash, they are filtered, then upserted over)."""
        if self.remote is not None and gone is not None:
            self.remote.delete(self._collection(gone[0]), gone[1])

    def file_chunks(self, name: str) -> list[Chunk]:
        with self._db() as db:
            rows = db.execute(
                "SELECT c.seq, c.page, c.page_end, c.section, c.start, c.end, c.text FROM chunks c "
                "JOIN files f ON f.id = c.file_id WHERE f.name = ? ORDER BY c.seq",
                (name,),
            ).fetchall()
        return [Chunk(*row) for row in rows]

    def put_vectors(self, name: str, model: str, vectors: np.ndarray) -> None:
        """New vectors for a file's chunks (in order), made by `model`, at once."""
        vectors = np.asarray(vectors, dtype=np.float32)
        with self._writing() as db:
            file_id = db.execute("SELECT id FROM files WHERE name = ?", (name,)).fetchone()[0]
            ids = [row[0] for row in db.execute("SELECT id FROM chunks WHERE file_id = ? ORDER BY seq", (file_id,))]
            if len(ids) != len(vectors):
                raise ValueError("one vector per chunk")
            if len(vectors):
                self._check_dimension(db, vectors.shape[1])
            unit = _unit(vectors)
            for chunk_id, vector in zip(ids, unit, strict=True):
                db.execute("UPDATE chunks SET vector = ? WHERE id = ?", (vector.tobytes(), chunk_id))
            db.execute("UPDATE files SET model = ? WHERE id = ?", (model, file_id))
            if self.remote is not None:
                self.remote.upsert(self._collection(model), ids, file_id, unit)

    def count_chunks(self) -> int:
        with self._db() as db:
            return db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    # ---- search ---------------------------------------------------------------------------------------
    def keyword(self, match: str, limit: int, file_ids: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score, higher is better) for an FTS5 MATCH expression, best first."""
        if not match:
            return []
        where, args = "", [match]
        if file_ids is not None:
            where = f" AND rowid IN (SELECT id FROM chunks WHERE file_id IN ({','.join('?' * len(file_ids))}))"
            args += list(file_ids)
        sql = f"SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?{where} ORDER BY bm25(chunks_fts) LIMIT ?"
        with self._db() as db:
            return [(int(i), float(s)) for i, s in db.execute(sql, [*args, limit])]

    def frequencies(self, words: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each of `words` (as FTS5 matches it: stemmed)."""
        with self._db() as db:
            return {
                word: db.execute("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (match,)).fetchone()[0]
                for word, match in ((w, '"' + w.replace('"', '""') + '"') for w in words)
            }

    def nearest(self, query: Sequence[float], limit: int, file_ids: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the chunks nearest to `query`, best first: exact search here, or Milvus's."""
        if self.remote is not None:
            return self._nearest_remote(query, limit, file_ids)
        matrix = self._matrix()
        if not len(matrix.ids):
            return []
        vector = np.asarray(query, dtype=np.float32)
        if vector.shape[0] != matrix.vectors.shape[1]:
            raise ValueError(f"a query of {vector.shape[0]} dimensions for vectors of {matrix.vectors.shape[1]}")
        vector = vector / (np.linalg.norm(vector) or 1.0)
        scores = matrix.vectors @ vector
        if file_ids is not None:
            scores = np.where(np.isin(matrix.files, np.asarray(list(file_ids))), scores, -np.inf)
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top])]
        return [(int(matrix.ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _nearest_remote(self, query: Sequence[float], limit: int, file_ids: Sequence[int] | None) -> list[tuple[int, float]]:
        vector = np.asarray(query, dtype=np.float32)
        model = self.meta().get("model", "")
        found = self.remote.search(self._collection(model), vector / (np.linalg.norm(vector) or 1.0), limit, file_ids)
        kept = self._current([chunk_id for chunk_id, _ in found])
        return [(chunk_id, score) for chunk_id, score in found if chunk_id in kept][:limit]

    def similarities(self, query: Sequence[float], ids: Sequence[int]) -> dict[int, float]:
        """Cosine similarity of `query` to each chunk of `ids` embedded by the base's model."""
        vector = np.asarray(query, dtype=np.float32)
        vector = vector / (np.linalg.norm(vector) or 1.0)
        kept = self._current(ids)
        return {i: float(np.frombuffer(blob, dtype=np.float32) @ vector) for i, blob in kept.items()}

    def _current(self, ids: Sequence[int]) -> dict[int, bytes]:
        """The vectors of those of `ids` that SQLite has, of files embedded by the base's model."""
        if not ids:
            return {}
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.vector FROM chunks c JOIN files f ON f.id = c.file_id "
                f"WHERE c.id IN ({','.join('?' * len(ids))}) AND f.model = (SELECT value FROM meta WHERE key = 'model')",
                [int(i) for i in ids],
            )
            return dict(rows.fetchall())

    def _matrix(self) -> _Matrix:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            generation = int(row[0]) if row else 0
            with _matrices_lock:
                cached = _matrices.get(self.path)
            if cached is not None and cached.generation == generation:
                return cached
            rows = db.execute(  # a file still embedded by another model (a re-index under way) is left out
                "SELECT c.id, c.file_id, c.vector FROM chunks c JOIN files f ON f.id = c.file_id "
                "WHERE f.model = (SELECT value FROM meta WHERE key = 'model') ORDER BY c.id"
            ).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        files = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        vectors = np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows]) if rows else np.zeros((0, 0), np.float32)
        matrix = _Matrix(generation, ids, files, vectors)
        with _matrices_lock:
            _matrices[self.path] = matrix
            while len(_matrices) > KEPT_MATRICES:
                _matrices.pop(next(iter(_matrices)))
        return matrix

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, f.name, c.page, c.page_end, c.section, c.start, c.end, c.text FROM chunks c "
                f"JOIN files f ON f.id = c.file_id WHERE c.id IN ({','.join('?' * len(ids))})",
                list(ids),
            ).fetchall()
        return {row[0]: StoredChunk(*row) for row in rows}

    def terms_of(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        with self._db() as db:
            rows = db.execute(f"SELECT rowid, terms FROM chunks_fts WHERE rowid IN ({','.join('?' * len(ids))})", list(ids))
            return dict(rows.fetchall())
