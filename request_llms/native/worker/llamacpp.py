"""The llama.cpp runner: the worker starts `llama-server` on 127.0.0.1 as its own child and streams from it.

llama-server keeps the GGUF weights quantised and runs them with llama.cpp's CPU (or Vulkan) kernels. It
lives and dies with the worker: it is killed when the worker ends, and when it dies the worker ends the same
way, so the parent's crash report and restart work as for any worker.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ...text import Text
from ..gguf import GGUF_CONTEXT, INSTALL_HINT_EN, INSTALL_HINT_ZH, server_command
from .failures import WorkerFailure
from .generation import COMPLETION_STOPS, completion_prompt

STARTING = Text(zh="正在启动 llama.cpp", en="starting llama.cpp")
LOADING = Text(zh="llama.cpp 正在读入权重", en="llama.cpp is reading the weights")
READY = Text(zh="就绪", en="ready")
REPETITION_PENALTY = 1.2  # a base model loops without it (the same as the transformers runner)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: be killed when the worker's thread that started it ends (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _log_tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    errors = [line for line in lines if "error" in line.lower() or "failed" in line.lower()]
    return ((errors or lines or [""])[-1]).strip()[:300]


class LlamaCppRunner:
    """A GGUF model in llama-server: chat through its template, or completion form for a base model."""

    def __init__(self, plan, progress) -> None:
        import httpx

        started = time.perf_counter()
        progress(STARTING, 2)
        command = server_command()
        if command is None:
            raise WorkerFailure(
                "DependencyMissing",
                en=f"{plan.name} is a GGUF model, which runs on llama.cpp: {INSTALL_HINT_EN}",
                zh=f"{plan.name} 是 GGUF 模型，需要 llama.cpp 运行：{INSTALL_HINT_ZH}",
            )
        gguf = Path(plan.folder) if plan.folder else _builtin_gguf(plan, progress)
        self.plan = plan
        self.completion_style = plan.completion_style
        self.context = plan.context or GGUF_CONTEXT
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.log = Path(plan.cache_dir) / "logs" / f"llama-server-{re.sub(r'[^A-Za-z0-9._-]', '_', plan.name)}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        binary, env = command
        argv = [binary, "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--ctx-size", str(self.context), "--parallel", "1", "--cache-ram", "0", "--no-webui"]
        argv += ["--reasoning-format", "deepseek", "--jinja"]
        if plan.threads:
            argv += ["--threads", str(plan.threads)]
        if plan.device == "cpu":
            argv += ["--n-gpu-layers", "0"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={key: value for key, value in env.items() if not key.startswith("LLAMA_ARG_")},
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        # a new connection per request: llama-server closes idle ones after 5 s, and a request sent on one it is
        # closing at that moment fails with nothing received (a loopback connection costs well under a millisecond)
        self.client = httpx.Client(
            base_url=self.base,
            timeout=httpx.Timeout(30.0, read=None),
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._wait_healthy(plan, progress)
        threading.Thread(target=self._follow_server, daemon=True, name="llama-server-watch").start()
        progress(READY, 100)
        self.info = {
            "device": "cpu" if plan.device == "cpu" else "llama.cpp (cpu, or a Vulkan GPU)",
            "quant": "GGUF",
            "method": f"llama.cpp ({gguf.name})",
            "dtype": "GGUF",
            "notice": "",
            "load_seconds": time.perf_counter() - started,
            "gpu_bytes": 0,
            "pid": os.getpid(),
            "server_pid": self.process.pid,
        }

    def _wait_healthy(self, plan, progress) -> None:
        import httpx

        deadline = time.monotonic() + 600
        shown = False
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self._load_failure(plan)
            try:
                answer = self.client.get("/health", timeout=2.0)
                if answer.status_code == 200:
                    return
                if not shown:
                    progress(LOADING, 50)
                    shown = True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.process.kill()
        raise self._load_failure(plan)

    def _load_failure(self, plan) -> WorkerFailure:
        why = _log_tail(self.log) or f"exit code {self.process.poll()}"
        return WorkerFailure(
            "ModelLoadFailed",
            en=f"llama.cpp could not load {plan.name}: {why} (log: {self.log})",
            zh=f"llama.cpp 无法加载 {plan.name}：{why}（日志：{self.log}）",
        )

    def _follow_server(self) -> None:
        """When llama-server dies, the worker dies the same way, so the parent reports it and starts afresh."""
        _end_like(self.process.wait())

    def _lost(self, error: Exception) -> WorkerFailure:
        """A broken stream: the worker ends like llama-server if it died, else the request fails with the reason."""
        try:
            _end_like(self.process.wait(timeout=3))
        except subprocess.TimeoutExpired:
            pass
        return WorkerFailure(
            "ServerError",
            en=f"llama.cpp stopped answering {self.plan.name}: {error}",
            zh=f"llama.cpp 中断了 {self.plan.name} 的回答：{error}",
        )

    def count(self, text: str) -> int:
        answer = self.client.post("/tokenize", json={"content": text, "add_special": False})
        return len(answer.raise_for_status().json()["tokens"])

    def generate(
        self, messages: list[dict[str, str]], options: dict, cancel: threading.Event, emit: Callable[[str], None]
    ) -> dict:
        limit = options.get("max_tokens") or 512
        body: dict = {"stream": True, "temperature": options.get("temperature") or 0.0, "cache_prompt": True}
        if options.get("top_p") is not None:
            body["top_p"] = options["top_p"]
        if self.completion_style:
            body |= {"prompt": completion_prompt(messages), "n_predict": limit, "stop": list(COMPLETION_STOPS)}
            body["repeat_penalty"] = REPETITION_PENALTY
            path = "/completion"
        else:
            body |= {"messages": messages, "max_tokens": limit, "stream_options": {"include_usage": True}}
            if options.get("think") is not None:
                body["chat_template_kwargs"] = {"enable_thinking": options["think"] != "false"}
            path = "/v1/chat/completions"
        return self._stream(path, body, limit, cancel, emit)

    def _stream(self, path: str, body: dict, limit: int, cancel, emit) -> dict:
        import httpx

        started = time.perf_counter()
        reading = _Reading(emit)
        try:
            with self.client.stream("POST", path, json=body) as answer:
                if answer.status_code != 200:
                    answer.read()
                    raise self._refused(answer)
                for line in answer.iter_lines():
                    if cancel.is_set():
                        break  # leaving the stream closes the connection; llama-server stops the slot
                    if line.startswith("data: ") and line[6:].strip() != "[DONE]":
                        reading.take(json.loads(line[6:]))
        except httpx.HTTPError as error:
            raise self._lost(error) from None
        reading.close()
        ended = time.perf_counter()
        generated = reading.generated or reading.pieces
        finish = "stop" if cancel.is_set() else reading.finish or ("length" if generated >= limit else "stop")
        return {
            "prompt_tokens": reading.prompt_tokens,
            "completion_tokens": generated,
            "finish_reason": finish,
            "server_tokens_per_s": reading.speed,
            "seconds": ended - started,
        }

    def _refused(self, answer) -> WorkerFailure:
        try:
            message = answer.json().get("error", {}).get("message", "")
        except ValueError:
            message = answer.text[:200]
        if "context" in message.lower() and ("exceed" in message.lower() or "too long" in message.lower()):
            return WorkerFailure(
                "ContextTooLong",
                en=f"The conversation is longer than {self.plan.name}'s {self.context}-token context: start a new chat, "
                f"or give a larger context with ({self.plan.name}(max_token=16384)).",
                zh=f"对话超过了 {self.plan.name} 的 {self.context} token 上下文：请新建对话，或在标识符中加 (max_token=16384)。",
            )
        return WorkerFailure(
            "ServerError",
            en=f"llama.cpp refused the request ({answer.status_code}): {message}",
            zh=f"llama.cpp 拒绝了请求（{answer.status_code}）：{message}",
        )


class _Reading:
    """Turns llama-server's stream chunks (native /completion or OpenAI chat) into text deltas and usage."""

    def __init__(self, emit) -> None:
        self.emit = emit
        self.in_thought = False
        self.pieces = 0
        self.generated = 0
        self.prompt_tokens = 0
        self.finish = ""
        self.speed: float | None = None

    def take(self, chunk: dict) -> None:
        if "choices" in chunk:
            for choice in chunk["choices"]:
                delta = choice.get("delta") or {}
                self._thought(delta.get("reasoning_content") or "")
                self._text(delta.get("content") or "")
                self.finish = choice.get("finish_reason") or self.finish
        else:
            self._text(chunk.get("content") or "")
            if chunk.get("stop"):
                self.finish = "length" if chunk.get("stop_type") == "limit" else "stop"
        timings = chunk.get("timings") or {}
        usage = chunk.get("usage") or {}
        self.generated = usage.get("completion_tokens") or timings.get("predicted_n") or self.generated
        self.prompt_tokens = usage.get("prompt_tokens") or chunk.get("tokens_evaluated") or self.prompt_tokens
        if timings.get("predicted_per_second"):
            self.speed = float(timings["predicted_per_second"])

    def _thought(self, text: str) -> None:
        if text:
            self.emit(text if self.in_thought else "<think>" + text)
            self.in_thought = True
            self.pieces += 1

    def _text(self, text: str) -> None:
        if text:
            self.emit(("</think>" + text) if self.in_thought else text)
            self.in_thought = False
            self.pieces += 1

    def close(self) -> None:
        if self.in_thought:
            self.emit("</think>")
            self.in_thought = False


def _end_like(code: int) -> None:
    """End this worker the way llama-server ended (the same signal, or its exit code)."""
    if code < 0:
        os.kill(os.getpid(), -code)
        time.sleep(5)  # the signal is on its way
    os._exit(code or 1)


def _builtin_gguf(plan, progress) -> Path:
    from .builtin import gguf_file

    return gguf_file(Path(plan.cache_dir), progress)
