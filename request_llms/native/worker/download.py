"""Download a model folder from ModelScope or Hugging Face; run as `python -m request_llms.native.worker.download SOURCE REPO DEST`.

A child process of `python -m request_llms pull`, so that the command line itself never imports the hub
libraries (ModelScope's pulls in torch). Their own progress bars go to the terminal.
"""

from __future__ import annotations

import sys


def main(source: str, repo: str, dest: str) -> None:
    if source == "modelscope":
        from modelscope.hub.snapshot_download import snapshot_download

        snapshot_download(repo, local_dir=dest)
    else:
        from huggingface_hub import snapshot_download

        snapshot_download(repo, local_dir=dest)


if __name__ == "__main__":
    try:
        main(*sys.argv[1:4])
    except Exception as exc:  # the hub libraries raise many kinds; the parent shows this one line
        print(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}", file=sys.stderr)
        sys.exit(1)
