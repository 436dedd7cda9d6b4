"""The vectors of the bases in a Milvus cluster, for a lab that outgrows one machine: set KB_STORE_URI.

The base's SQLite file stays the record of what is in it (files, chunks, keywords, and the vectors too,
so a collection can always be rebuilt from it); the vectors are also written to Milvus and searched
there. Milvus Lite (a path ending in `.db`) is the same engine embedded, and the same client
(`pymilvus`) talks to both, so the code that runs here is the code that runs against the cluster.

Consistency: a file's vectors are upserted before its SQLite transaction commits, keyed by chunk id. A
crash in between leaves vectors under ids SQLite never committed: a search keeps only ids SQLite has
(for the base's model), and an id used again is upserted over. A collection holds one base's vectors
of one embedding model: a re-index writes a new one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence

import numpy as np

from request_llms.errors import LLMError

OVERFETCH = 2  # results asked of Milvus per result wanted: room for ids SQLite has dropped
_clients: dict[tuple[str, str], object] = {}
_lock = threading.Lock()


class StoreUnavailable(LLMError):
    exit_code = 3


def _unavailable(uri: str, exc: Exception, token: str = "") -> StoreUnavailable:
    first = (str(exc).splitlines() or [""])[0][:160]
    if token:
        first = first.replace(token, "***")
    return StoreUnavailable(
        en=f"The vector store at {uri} (KB_STORE_URI) did not answer ({type(exc).__name__}: {first}). Start it, or "
        'set KB_STORE_URI = "" in config_private.py to keep vectors in the bases\' own files.',
        zh=f"向量库 {uri}（KB_STORE_URI）没有响应（{type(exc).__name__}: {first}）。请启动它，或在 config_private.py "
        '中设置 KB_STORE_URI = "" 改用知识库自带的文件存储。',
    )


class MilvusVectors:
    """One Milvus (or Milvus Lite) reached by URI; collections named from the base's file and its model."""

    def __init__(self, uri: str, token: str = "") -> None:
        self.uri, self.token = uri, token

    def _client(self):
        key = (self.uri, self.token)
        with _lock:
            if key not in _clients:
                try:
                    from pymilvus import MilvusClient  # only where KB_STORE_URI is set: the package is optional
                except ImportError as exc:
                    raise StoreUnavailable(
                        en="KB_STORE_URI names a Milvus store, but pymilvus is not installed: pip install pymilvus "
                        "(and milvus-lite for a local .db file).",
                        zh="KB_STORE_URI 指向 Milvus，但未安装 pymilvus：请 pip install pymilvus（本地 .db 文件还需 milvus-lite）。",
                    ) from exc
                logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # its failures reach the user as one line
                try:
                    _clients[key] = MilvusClient(uri=self.uri, token=self.token) if self.token else MilvusClient(self.uri)
                except Exception as exc:  # noqa: BLE001 - pymilvus raises many kinds for a store that is not there
                    raise _unavailable(self.uri, exc, self.token) from None
            return _clients[key]

    @staticmethod
    def collection(base_key: str, model: str) -> str:
        """`ls_<base>_<model>`: letters, digits and underscores, as Milvus wants."""
        return f"ls_{_digest(base_key)}_{_digest(model)}"

    def _ensure(self, name: str, dimension: int) -> None:
        from pymilvus import DataType

        client = self._client()
        if client.has_collection(name):
            return
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("file_id", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        index = client.prepare_index_params()
        index.add_index(field_name="vector", index_type="AUTOINDEX", metric_type="IP")  # unit vectors: cosine
        client.create_collection(name, schema=schema, index_params=index)

    def upsert(self, name: str, ids: Sequence[int], file_id: int, vectors: np.ndarray) -> None:
        if not len(ids):
            return
        try:
            self._ensure(name, int(vectors.shape[1]))
            rows = [{"id": int(i), "file_id": int(file_id), "vector": v.tolist()} for i, v in zip(ids, vectors, strict=True)]
            self._client().upsert(name, rows)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _unavailable(self.uri, exc, self.token) from None

    def delete(self, name: str, ids: Sequence[int]) -> None:
        if not ids:
            return
        try:
            if self._client().has_collection(name):
                self._client().delete(name, ids=[int(i) for i in ids])
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _unavailable(self.uri, exc, self.token) from None

    def search(self, name: str, vector: np.ndarray, limit: int, file_ids: Sequence[int] | None = None) -> list[tuple[int, float]]:
        try:
            client = self._client()
            if not client.has_collection(name):
                return []
            if str(client.get_load_state(name).get("state", "")).endswith("NotLoad"):
                client.load_collection(name)  # a restarted store keeps its collections released until asked
            where = f"file_id in [{', '.join(str(int(i)) for i in file_ids)}]" if file_ids is not None else ""
            found = client.search(name, [vector.tolist()], limit=limit * OVERFETCH, filter=where)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _unavailable(self.uri, exc, self.token) from None
        return [(int(hit["id"]), float(hit["distance"])) for hit in found[0]]

    def drop(self, base_key: str) -> None:
        prefix = f"ls_{_digest(base_key)}_"
        try:
            client = self._client()
            for name in client.list_collections():
                if name.startswith(prefix):
                    client.drop_collection(name)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _unavailable(self.uri, exc, self.token) from None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def remote_for(config) -> MilvusVectors | None:
    uri = (config["KB_STORE_URI"] or "").strip()
    return MilvusVectors(uri, config["KB_STORE_TOKEN"] or "") if uri else None
