"""State a GPT Academic plugin keeps between runs in one conversation, in the chatbot's cookies.

The page keeps a conversation's cookies between plugin runs (in memory, for the running server), so a
plugin finds what it saved last time. The state is the plugin's own object, pickled by the plugin and
read back only by it; nothing from the page is ever unpickled.
"""

from __future__ import annotations

import pickle

from toolbox import update_ui
from toolbox.folders import have_any_recent_upload_files

__all__ = ["GptAcademicGameBaseState", "GptAcademicState", "have_any_recent_upload_files"]


class GptAcademicState:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        pass

    def dump_state(self, chatbot) -> None:
        chatbot.get_cookies()["plugin_state"] = pickle.dumps(self)

    def set_state(self, chatbot, key: str, value) -> None:
        setattr(self, key, value)
        self.dump_state(chatbot)

    def get_state(chatbot, cls=None):  # noqa: N805 (GPT Academic calls it on the class)
        saved = chatbot.get_cookies().get("plugin_state")
        state = pickle.loads(saved) if saved is not None else (cls or GptAcademicState)()
        state.chatbot = chatbot
        return state


class GptAcademicGameBaseState:
    """A plugin played in steps: `sync_state` finds or starts the game, `continue_game` plays one step."""

    def init_game(self, chatbot, lock_plugin) -> None:
        self.plugin_name = None
        self.callback_fn = None
        self.delete_game = False
        self.step_cnt = 0

    def lock_plugin(self, chatbot) -> None:
        if self.callback_fn is None:
            raise ValueError("callback_fn is None")
        chatbot.get_cookies()["lock_plugin"] = self.callback_fn
        self.dump_state(chatbot)

    def get_plugin_name(self) -> str:
        if self.plugin_name is None:
            raise ValueError("plugin_name is None")
        return self.plugin_name

    def dump_state(self, chatbot) -> None:
        chatbot.get_cookies()[f"plugin_state/{self.get_plugin_name()}"] = pickle.dumps(self)

    def set_state(self, chatbot, key: str, value) -> None:
        setattr(self, key, value)
        self.dump_state(chatbot)

    @staticmethod
    def sync_state(chatbot, llm_kwargs, cls, plugin_name, callback_fn, lock_plugin=True):
        saved = chatbot.get_cookies().get(f"plugin_state/{plugin_name}")
        if saved is not None:
            state = pickle.loads(saved)
        else:
            state = cls()
            state.init_game(chatbot, lock_plugin)
        state.plugin_name, state.llm_kwargs, state.chatbot, state.callback_fn = plugin_name, llm_kwargs, chatbot, callback_fn
        return state

    def continue_game(self, prompt, chatbot, history):
        yield from self.step(prompt, chatbot, history)
        self.step_cnt += 1
        self.dump_state(chatbot)
        if self.delete_game:
            chatbot.get_cookies()["lock_plugin"] = None
            chatbot.get_cookies()[f"plugin_state/{self.get_plugin_name()}"] = None
        yield from update_ui(chatbot=chatbot, history=history)
