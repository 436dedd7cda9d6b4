"""The worker process's entry point: load the model, then answer requests one at a time.

Messages from the parent: ("generate", id, messages, options), ("embed", id, texts), ("cancel", id), ("count", id,
text), ("stop",). Messages to the parent: ("progress", stage_en, stage_zh, percent), ("ready", info), ("load_error",
kind, en, zh), ("delta", id, text), ("done", id, usage), ("vectors", id, vectors, tokens, cut), ("error", id, kind,
en, zh), ("count", id, tokens).

Counts are answered at once, beside a running generation, by a copy of the tokenizer of their own.
"""

from __future__ import annotations

import os
import queue
import threading


def serve(conn, plan) -> None:
    # Before torch is imported: its idle threads must not spin on two busy cores, and nothing may be fetched from a
    # hub. llama-server inherits this environment and keeps OpenMP's default: passive waits halve its speed.
    if plan.runner == "transformers":
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # the parent shows progress; no bars or warnings on the terminal
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from .failures import WorkerFailure
    from .runners import start_runner

    send_lock = threading.Lock()

    def send(*message) -> None:
        with send_lock:
            conn.send(message)

    try:
        runner = start_runner(plan, lambda stage, percent: send("progress", stage.en, stage.zh, percent))
    except WorkerFailure as failure:
        send("load_error", failure.kind, failure.en, failure.zh)
        return
    except Exception as exc:  # anything else a model folder can throw while loading
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        send("load_error", "ModelLoadFailed", f"{plan.name} could not be loaded: {first}", f"无法加载 {plan.name}：{first}")
        return
    send("ready", runner.info)

    jobs: queue.Queue = queue.Queue()
    cancels: dict[str, threading.Event] = {}
    count = runner.count

    def read() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                jobs.put(None)
                return
            if message[0] in ("generate", "embed"):
                cancels[message[1]] = threading.Event()
                jobs.put(message)
            elif message[0] == "count":
                try:
                    send("count", message[1], count(message[2]))
                except Exception:  # noqa: BLE001 (an odd text must not end the reader): the parent falls back
                    send("count", message[1], None)
            elif message[0] == "cancel" and message[1] in cancels:
                cancels[message[1]].set()
            elif message[0] == "stop":
                jobs.put(None)
                return

    threading.Thread(target=read, daemon=True, name="worker-reader").start()
    while (job := jobs.get()) is not None:
        kind, request_id = job[0], job[1]
        send("started", request_id)  # from here a death is this request's: before it, the parent asks again
        try:
            if kind == "embed":
                if not hasattr(runner, "embed"):
                    raise WorkerFailure(
                        "WrongKindOfModel",
                        en=f"{plan.name} does not make embeddings: set EMBED_MODEL to an embedding model.",
                        zh=f"{plan.name} 不能生成向量（embedding）：请把 EMBED_MODEL 设为向量模型。",
                    )
                send("vectors", request_id, *runner.embed(job[2]))
                continue
            _, _, messages, options = job
            usage = runner.generate(
                messages, options, cancels[request_id], lambda text, request_id=request_id: send("delta", request_id, text)
            )
            send("done", request_id, usage)
        except WorkerFailure as failure:
            send("error", request_id, failure.kind, failure.en, failure.zh)
        except Exception as exc:  # a failure inside generate: report it, keep serving
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
            send(
                "error",
                request_id,
                "ServerError",
                f"{plan.name} failed while answering: {first}",
                f"{plan.name} 回答时出错：{first}",
            )
        finally:
            cancels.pop(request_id, None)
