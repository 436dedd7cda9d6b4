"""What this machine has for running models: CPU, memory, GPUs, free disk in the data folder.

`machine_facts()` never raises: whatever cannot be read is None (or no GPUs). GPUs come from
`nvidia-smi` when it is on PATH; torch is asked only when some other part of the process has
already imported it, so the web process never loads torch for this.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MIB = 1024**2
NVIDIA_SMI_SECONDS = 5.0


@dataclass(frozen=True)
class Gpu:
    name: str
    total_bytes: int | None
    free_bytes: int | None


@dataclass(frozen=True)
class MachineFacts:
    system: str  # e.g. "Linux 6.8 (x86_64)"
    cpu_model: str | None
    cpu_cores: int | None  # logical cores, as os.cpu_count() gives them
    physical_cores: int | None
    ram_total: int | None  # bytes
    ram_available: int | None  # bytes
    gpus: tuple[Gpu, ...]
    gpu_source: str | None  # "nvidia-smi" or "torch" where GPUs were found
    apple_mps: bool  # an Apple Silicon Mac: its GPU shares the RAM (Metal / mps)
    data_folder: str | None
    disk_free: int | None  # bytes free on the data folder's disk

    @property
    def best_gpu(self) -> Gpu | None:
        """The GPU with the most memory (free where known, else total)."""
        sized = [gpu for gpu in self.gpus if (gpu.free_bytes or gpu.total_bytes)]
        return max(sized, key=lambda gpu: gpu.free_bytes or gpu.total_bytes or 0, default=None)


def _cpu_model() -> str | None:
    try:
        if sys.platform.startswith("linux"):
            for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip() or None
        if sys.platform == "darwin":
            done = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=NVIDIA_SMI_SECONDS
            )
            if done.returncode == 0 and done.stdout.strip():
                return done.stdout.strip()
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    return platform.processor() or None


def _int_or_none(text: str) -> int | None:
    try:
        return int(float(text.strip()))
    except ValueError:
        return None


def _nvidia_smi_gpus() -> tuple[Gpu, ...] | None:
    """GPUs from nvidia-smi; None when it is missing or fails."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    try:
        done = subprocess.run(
            [smi, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_SECONDS,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    gpus = []
    for line in done.stdout.strip().splitlines():
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) < 3 or not cells[0]:
            continue
        total, free = _int_or_none(cells[1]), _int_or_none(cells[2])
        gpus.append(Gpu(cells[0], total * MIB if total is not None else None, free * MIB if free is not None else None))
    return tuple(gpus)


def _torch_gpus() -> tuple[Gpu, ...] | None:
    """GPUs from torch.cuda, only when torch is already loaded in this process."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.cuda.is_available():
            return ()
        gpus = []
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            gpus.append(Gpu(torch.cuda.get_device_name(index), int(total), int(free)))
        return tuple(gpus)
    except Exception:  # a broken driver or CUDA install: report no GPU rather than fail
        return None


def _gpus() -> tuple[tuple[Gpu, ...], str | None]:
    for source, probe in (("nvidia-smi", _nvidia_smi_gpus), ("torch", _torch_gpus)):
        found = probe()
        if found:
            return found, source
    return (), None


def _memory() -> tuple[int | None, int | None]:
    try:
        import psutil

        memory = psutil.virtual_memory()
        return int(memory.total), int(memory.available)
    except Exception:  # psutil missing or unsupported here
        return None, None


def _physical_cores() -> int | None:
    try:
        import psutil

        return psutil.cpu_count(logical=False)
    except Exception:
        return None


def data_folder(config) -> Path | None:
    """DATA_DIR as the web app resolves it (a relative path is under the LocalScholar folder)."""
    try:
        from request_llms.config_loader import ROOT

        path = Path(config["DATA_DIR"]).expanduser()
        return path if path.is_absolute() else ROOT / path
    except Exception:
        return None


def _disk_free(folder: Path | None) -> int | None:
    if folder is None:
        return None
    probe = folder
    while not probe.exists() and probe != probe.parent:  # the folder may not be made yet
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def machine_facts(config=None) -> MachineFacts:
    """What this machine has; missing information is None, never an error."""
    if config is None:
        try:
            from request_llms.config_loader import get_config

            config = get_config()
        except Exception:
            config = None
    folder = data_folder(config) if config is not None else None
    ram_total, ram_available = _memory()
    gpus, source = _gpus()
    return MachineFacts(
        system=f"{platform.system()} {platform.release()} ({platform.machine()})".strip(),
        cpu_model=_cpu_model(),
        cpu_cores=os.cpu_count(),
        physical_cores=_physical_cores(),
        ram_total=ram_total,
        ram_available=ram_available,
        gpus=gpus,
        gpu_source=source,
        apple_mps=sys.platform == "darwin" and platform.machine() == "arm64",
        data_folder=str(folder) if folder else None,
        disk_free=_disk_free(folder),
    )
