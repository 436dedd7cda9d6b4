"""Start real LLM servers on 127.0.0.1 for tests and benchmarks, and stop them.

start_llama_server(), start_ollama() and start_vllm() provision what they need (see
provision.py), start the server on a free port in its own process group with its output in
a log file under the cache, wait until it answers, and return a RunningServer. A server
that exits or does not answer in time raises ServerStartError with the tail of its log.

RunningServer.stop() ends the whole process group (SIGTERM, then SIGKILL after a grace
period). Servers still running when the Python process exits are stopped by an atexit
hook, and each server is sent SIGTERM by the kernel if the thread that started it dies
(so start servers from the main thread or from one that outlives them).
"""

from __future__ import annotations

import atexit
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from . import provision

GEMMA_ALIAS = "gemma-270m"
OLLAMA_MODEL = "gemma3:270m"
OLLAMA_TEMPLATE = """\
{{- $system := .System }}
{{- range .Messages }}
{{- if eq .Role "user" }}<start_of_turn>user
{{ if $system }}{{ $system }}

{{ $system = "" }}{{ end }}{{ .Content }}<end_of_turn>
{{ else if eq .Role "assistant" }}<start_of_turn>model
{{ .Content }}<end_of_turn>
{{ end }}
{{- end }}
{{- if $system }}<start_of_turn>user
{{ $system }}<end_of_turn>
{{ end }}<start_of_turn>model
"""
PORT_ATTEMPTS = 3
_PORT_TAKEN_MARKERS = ("address already in use", "couldn't bind")


class ServerStartError(RuntimeError):
    """A server could not be started; the message holds the command and its log's tail."""


@dataclass(eq=False)
class RunningServer:
    """A server process started by this module.

    `model` is the model name to use in requests; `startup_s` the seconds from launch until
    the server was ready (for Ollama, including making its model); `command` its argv.
    """

    name: str
    base_url: str
    port: int
    model: str
    process: subprocess.Popen[bytes]
    log_path: Path
    command: list[str] = field(default_factory=list)
    startup_s: float = 0.0

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def busy_slots(self) -> int:
        """llama-server only: how many of its slots are generating now (GET /slots)."""
        slots = httpx.get(f"{self.base_url}/slots", timeout=5, trust_env=False).json()
        return sum(1 for slot in slots if slot.get("is_processing"))

    def wait_idle(self, timeout: float) -> bool:
        """llama-server only: wait until no slot is generating; False if one still is after `timeout` s."""
        deadline = time.monotonic() + timeout
        while self.busy_slots() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.busy_slots() == 0

    def stop(self, grace: float = 5.0) -> None:
        """Stop the server's whole process group: SIGTERM, then SIGKILL after `grace` s."""
        _ACTIVE.discard(self)
        group = self.process.pid
        if _signal_group(group, signal.SIGTERM):
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                self.process.poll()
                if not _signal_group(group, 0):
                    break
                time.sleep(0.1)
            _signal_group(group, signal.SIGKILL)
        self.process.wait()


_ACTIVE: set[RunningServer] = set()


def _signal_group(group: int, signum: int) -> bool:
    """Send `signum` to a process group; False when the group no longer exists."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True


@atexit.register
def stop_all() -> None:
    """Stop every server this process started and has not stopped yet."""
    for server in list(_ACTIVE):
        server.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _PortTaken(Exception):
    pass


def wait_until_healthy(server: RunningServer, path: str, timeout: float) -> None:
    """Poll GET base_url+path until it answers 200.

    Raises ServerStartError (with the log's tail) if the process exits or `timeout` s pass.
    """
    deadline = time.monotonic() + timeout
    url = server.base_url + path
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while True:
            code = server.process.poll()
            if code is not None:
                tail = server.log_tail()
                if any(marker in tail.lower() for marker in _PORT_TAKEN_MARKERS):
                    raise _PortTaken()
                hint = (
                    " (illegal instruction: this build needs CPU features this machine lacks)" if code == -signal.SIGILL else ""
                )
                raise ServerStartError(
                    f"{server.name} exited with code {code} while starting{hint}\n"
                    f"  command: {shlex.join(server.command)}\n"
                    f"  log {server.log_path}, last lines:\n{tail}"
                )
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{server.name} did not answer 200 on {url} within {timeout:g} s\n"
                    f"  command: {shlex.join(server.command)}\n"
                    f"  log {server.log_path}, last lines:\n{server.log_tail()}"
                )
            time.sleep(0.25)


Launch = Callable[[int], tuple[list[str], dict[str, str]]]


def start_server(
    name: str, model: str, launch: Launch, health_path: str, timeout: float, port: int | None = None
) -> RunningServer:
    """Start `launch(port)`'s command on `port` (a server started again where it was), else on a free port, and
    wait for health_path to answer."""
    logs = provision.cache_root() / "logs"
    logs.mkdir(exist_ok=True)
    for _ in range(1 if port else PORT_ATTEMPTS):
        port = port or free_port()
        command, env = launch(port)
        log_path = logs / f"{name}-{port}.log"
        started = time.monotonic()
        with open(log_path, "wb") as log:
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=provision.cache_root(),
                    start_new_session=True,
                    preexec_fn=provision.die_with_parent,
                )
            except OSError as exc:
                raise ServerStartError(f"cannot run {shlex.join(command)}: {exc}") from exc
        server = RunningServer(
            name=name,
            base_url=f"http://127.0.0.1:{port}",
            port=port,
            model=model,
            process=process,
            log_path=log_path,
            command=command,
        )
        _ACTIVE.add(server)
        try:
            wait_until_healthy(server, health_path, timeout)
        except _PortTaken:
            server.stop()
            continue
        except BaseException:
            server.stop()
            raise
        server.startup_s = time.monotonic() - started
        return server
    raise ServerStartError(f"{name}: the port was taken on each of {PORT_ATTEMPTS} tries")


def start_llama_server(
    parallel: int = 4,
    ctx: int = 4096,
    extra_args: Sequence[str] = (),
    timeout: float = 120.0,
    port: int | None = None,
    alias: str = GEMMA_ALIAS,
) -> RunningServer:
    """llama.cpp's llama-server with the Gemma GGUF, served as model `alias` (`gemma-270m`).

    `ctx` is the total context, split evenly over the `parallel` slots (llama.cpp's
    default). /slots is enabled. `port` starts it on that port (again where a stopped one was).
    """
    binary = provision.llama_server_binary()
    gguf = provision.gemma_gguf()

    def launch(port: int) -> tuple[list[str], dict[str, str]]:
        command = [
            str(binary),
            "--model", str(gguf),
            "--alias", alias,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--parallel", str(parallel),
            "--ctx-size", str(ctx),
            "--jinja",
            "--chat-template-file", str(provision.CHAT_TEMPLATE_FILE),
            "--slots",
            "--no-webui",
            *extra_args,
        ]  # fmt: skip
        return command, dict(os.environ)

    return start_server("llama-server", alias, launch, "/health", timeout, port)


def _ollama_env(port: int) -> dict[str, str]:
    runtime = provision.ollama_runtime()
    home = provision.cache_root() / "ollama"
    (home / "home").mkdir(parents=True, exist_ok=True)
    (home / "models").mkdir(parents=True, exist_ok=True)
    library_path = [str(runtime), str(provision.intel_runtime_folder())]
    if os.environ.get("LD_LIBRARY_PATH"):
        library_path.append(os.environ["LD_LIBRARY_PATH"])
    return dict(
        os.environ,
        LD_LIBRARY_PATH=":".join(library_path),
        OLLAMA_HOST=f"127.0.0.1:{port}",
        OLLAMA_MODELS=str(home / "models"),
        OLLAMA_NOPRUNE="1",
        HOME=str(home / "home"),
    )


def _ollama_has_model(server: RunningServer) -> bool:
    with httpx.Client(base_url=server.base_url, timeout=30.0, trust_env=False) as client:
        tags = client.get("/api/tags").raise_for_status().json()
        if OLLAMA_MODEL not in {entry["name"] for entry in tags.get("models", [])}:
            return False
        shown = client.post("/api/show", json={"model": OLLAMA_MODEL}).raise_for_status().json()
        return shown.get("template", "").strip() == OLLAMA_TEMPLATE.strip()


def _ollama_create_model(server: RunningServer, env: dict[str, str]) -> None:
    gguf = provision.gemma_gguf()
    modelfile = provision.cache_root() / "ollama" / f"Modelfile-{server.port}"
    modelfile.write_text(
        f'FROM {gguf}\nTEMPLATE """{OLLAMA_TEMPLATE}"""\nPARAMETER stop <end_of_turn>\n',
        encoding="utf-8",
    )
    try:
        provision.run_command(
            [server.command[0], "create", OLLAMA_MODEL, "-f", str(modelfile)],
            what=f"creating the Ollama model {OLLAMA_MODEL}",
            env=env,
            timeout=300,
        )
    finally:
        modelfile.unlink(missing_ok=True)


def start_ollama(parallel: int = 4, timeout: float = 60.0) -> RunningServer:
    """Ollama 0.5.4 (`ollama-lib serve`) with model `gemma3:270m` made from the GGUF.

    Models and Ollama's home live in the cache; the model is (re)created only when
    /api/tags lacks it or its template differs. OLLAMA_NUM_PARALLEL is `parallel`.
    """
    binary = provision.ollama_runtime() / "ollama-lib"

    def launch(port: int) -> tuple[list[str], dict[str, str]]:
        env = dict(_ollama_env(port), OLLAMA_NUM_PARALLEL=str(parallel))
        return [str(binary), "serve"], env

    started = time.monotonic()
    server = start_server("ollama", OLLAMA_MODEL, launch, "/api/version", timeout)
    try:
        with provision.locked("ollama-model"):
            if not _ollama_has_model(server):
                _ollama_create_model(server, _ollama_env(server.port))
    except (httpx.HTTPError, provision.ProvisionError) as exc:
        server.stop()
        raise ServerStartError(
            f"Ollama started but making the model {OLLAMA_MODEL} failed: {exc}\n"
            f"  log {server.log_path}, last lines:\n{server.log_tail()}"
        ) from exc
    server.startup_s = time.monotonic() - started
    return server


def start_vllm(
    max_model_len: int = 2048,
    extra_args: Sequence[str] = (),
    timeout: float = 300.0,
    model_dir: Path | None = None,
    alias: str = GEMMA_ALIAS,
) -> RunningServer:
    """vLLM's OpenAI server on CPU with the Gemma HF folder (or `model_dir`), served as model `alias`.

    Eager mode (startup ~60 s instead of 3-4 min compiled), 1 GiB KV cache, offline.
    It idles at ~40% CPU: stop it when its tests are done.
    """
    python = provision.vllm_python()
    model_dir = model_dir or provision.gemma_hf_folder()
    cache = provision.cache_root() / "vllm-cache"
    cache.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        VLLM_CPU_KVCACHE_SPACE="1",
        VLLM_NO_USAGE_STATS="1",
        DO_NOT_TRACK="1",
        VLLM_CACHE_ROOT=str(cache),
        VLLM_HOST_IP="127.0.0.1",
    )

    def launch(port: int) -> tuple[list[str], dict[str, str]]:
        command = [
            str(python), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(model_dir),
            "--served-model-name", alias,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--max-model-len", str(max_model_len),
            "--enforce-eager",
            *extra_args,
        ]  # fmt: skip
        return command, env

    return start_server("vllm", alias, launch, "/health", timeout)


def start_all() -> list[RunningServer]:
    """Start llama-server, Ollama and vLLM one after the other (stopping all on failure)."""
    servers: list[RunningServer] = []
    try:
        for start in (start_llama_server, start_ollama, start_vllm):
            servers.append(start())
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers
