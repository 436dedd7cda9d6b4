"""Runs GPT Academic's own Rag问答 (from the checkout that GPT_ACADEMIC_FOLDER names) as the page does, and
prints what it did as JSON. It runs in the venv of tests.support.servers.provision.gpt_academic_python(),
which has llama-index-core; the configuration comes from LOCALSCHOLAR_CONFIG.

    python -m tests.support.gpt_academic.rag_driver FOLDER QUESTION

1. FOLDER, where it is (outside the user's folders): the plugin must refuse it.
2. FOLDER copied into the user's uploads, as an upload lands, and handed to the plugin: it adds each file.
3. The user's RAG worker is asked for the passages of QUESTION directly, to show which ones it finds.
4. QUESTION: the plugin retrieves passages and the chat model answers from them.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from crazy_functions.runtime.registry import plugin_named
from crazy_functions.runtime.session import PluginChatbot, stepped
from request_llms.config_loader import get_config
from userfiles import user_dir


def run(plugin, txt: str, kwargs: dict, config, out: Path) -> dict:
    chatbot = PluginChatbot(lang="zh", files=[], out_dir=out, config=config)
    statuses = []
    for update in stepped(plugin.run(txt, kwargs, {}, chatbot, [], "", None), chatbot):
        statuses.append(update[2] if isinstance(update, tuple) and len(update) > 2 else "")
    return {
        "chat": [[str(q), str(a)] for q, a in chatbot],
        "status": statuses[-1] if statuses else "",
        "user": chatbot.get_user(),
    }


def main(folder: str, question: str) -> None:
    config = get_config()
    plugin = plugin_named("custom-0", config)
    kwargs = {"llm_model": config["LLM_MODEL"], "temperature": 0, "top_p": 1.0, "max_length": 64}
    out = Path(config["DATA_DIR"]) / "driver-out"
    report = {"outside": run(plugin, folder, kwargs, config, out)}
    upload = user_dir(config, report["outside"]["user"], "uploads") / "papers"
    shutil.copytree(folder, upload)
    report["add"] = run(plugin, str(upload), kwargs, config, out)
    from crazy_functions.Rag_Interface import RAG_WORKER_REGISTER

    worker = RAG_WORKER_REGISTER[report["add"]["user"]]
    nodes = worker.retrieve_from_store_with_query(question)  # before asking: the plugin then stores the answer too
    report["found"] = [{"text": node.text, "score": node.score, "source": node.metadata.get("source")} for node in nodes]
    report["dimension"] = len(worker.embed_model.get_query_embedding(question))
    report["ask"] = run(plugin, question, kwargs, config, out)
    print("REPORT " + json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
