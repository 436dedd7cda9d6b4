"""Runs one plugin of the menu on an upload, as the page does, and prints what it did as JSON; for the venv of
tests.support.servers.provision.gpt_academic_python() (GPT Academic's extra packages). The configuration comes
from LOCALSCHOLAR_CONFIG.

    python -m tests.support.gpt_academic.run_plugin NAME FOLDER

FOLDER is copied into the user's uploads, as an upload lands, and its copy is handed in `txt` to the plugin
whose key ("custom-0", ...) or menu name (GPT Academic's "注释Python项目", ...) is NAME. The report: the chat, the run's failure line ("" when none), the files it
offered, and where the copy was.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from crazy_functions.runtime.registry import all_plugins, plugin_named
from crazy_functions.runtime.session import PluginChatbot, ending, stepped
from request_llms.config_loader import get_config
from userfiles import user_dir


def main(name: str, folder: str) -> None:
    config = get_config()
    plugin = plugin_named(name, config) or next(p for p in all_plugins(config) if p.zh == name)
    chatbot = PluginChatbot(lang="zh", files=[], out_dir=Path(config["DATA_DIR"]) / "driver-out", config=config)
    upload = user_dir(config, chatbot.get_user(), "uploads") / Path(folder).name
    shutil.copytree(folder, upload)
    kwargs = {"llm_model": config["LLM_MODEL"], "temperature": 0, "top_p": 1.0, "max_length": 64}
    for _ in stepped(plugin.run(str(upload), kwargs, {}, chatbot, [], "", None), chatbot):
        pass
    report = {
        "chat": [[str(q), str(a)] for q, a in chatbot],
        "ending": ending(chatbot),
        "outputs": [str(path) for path in chatbot.outputs],
        "upload": str(upload),
    }
    print("REPORT " + json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
