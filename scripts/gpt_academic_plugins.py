"""Which of a GPT Academic checkout's plugin modules load here, and why the others do not.

    python scripts/gpt_academic_plugins.py /path/to/gpt_academic [--json]

Each top-level module of its `crazy_functions/` is imported as CUSTOM_PLUGINS would import it (with
GPT_ACADEMIC_FOLDER pointing at the checkout), in a fresh process of its own so one module's side
effects cannot help or hurt another. Prints one line per module and the count.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from crazy_functions.runtime.registry import join_gpt_academic, why_not_loaded
join_gpt_academic(sys.argv[1])
try:
    __import__("crazy_functions." + sys.argv[2])
    print(json.dumps({"ok": True, "why": ""}))
except BaseException as exc:
    print(json.dumps({"ok": False, "why": why_not_loaded("crazy_functions." + sys.argv[2] + ":x", exc).en}))
"""


def probe(folder: Path, module: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder), module], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "why": f"the import ended the process: {tail}"}
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a GPT Academic checkout (it holds crazy_functions/)")
    parser.add_argument("--json", action="store_true", help="the results as JSON")
    args = parser.parse_args()
    plugins = args.folder.expanduser().resolve() / "crazy_functions"
    if not plugins.is_dir():
        print(f"{plugins} is not a folder: give the root of a GPT Academic checkout", file=sys.stderr)
        return 2
    ours = {path.stem for path in (ROOT / "crazy_functions").glob("*.py")}
    modules = sorted(path.stem for path in plugins.glob("*.py") if path.stem not in ours | {"__init__"})
    results = {module: probe(args.folder, module) for module in modules}
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        for module, result in results.items():
            print(f"{'ok ' if result['ok'] else 'no '} {module}{'' if result['ok'] else ': ' + result['why']}")
    loaded = sum(result["ok"] for result in results.values())
    print(f"{loaded} of {len(results)} plugin modules load", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
