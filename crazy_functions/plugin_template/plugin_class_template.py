"""GPT Academic's plugin class: `define_arg_selection_menu` names its arguments, `execute` runs it.

Named in CUSTOM_PLUGINS like a function ("module:ClassName"), such a class joins the menu with its
arguments as the plugin's fields (`main_input` is the input box itself), and runs through `execute`.
"""

from __future__ import annotations

import base64
import json

from pydantic import BaseModel, Field


class ArgProperty(BaseModel):
    """One argument of the plugin's menu: a text box (`string`), a choice (`dropdown`) or a tick (`checkbox`)."""

    title: str = Field(default="", description="The title")
    description: str = Field(default="", description="The description")
    default_value: str | float = Field(default="", description="The default value")
    type: str = Field(default="", description="The type")
    options: list[str] = Field(default_factory=list, description="The choices of a dropdown")


class GptAcademicPluginTemplate:
    """Subclass it: `execute` may run in several threads at once, so keep no state on the instance."""

    def define_arg_selection_menu(self) -> dict[str, str]:
        """{argument name: ArgProperty(...).model_dump_json()}, with "main_input" among them."""
        raise NotImplementedError("You need to implement this method in your plugin class")

    def get_js_code_for_generating_menu(self, btnName: str) -> str:  # noqa: N803 (GPT Academic's name)
        menu = self.define_arg_selection_menu()
        if len(menu) > 8:
            raise ValueError("You can only have up to 8 arguments in the define_arg_selection")
        if "main_input" not in menu:
            raise ValueError("You must have a 'main_input' in the define_arg_selection")
        return base64.b64encode(json.dumps(menu).encode("utf-8")).decode("utf-8")

    def execute(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):  # noqa: N805
        raise NotImplementedError("You need to implement this method in your plugin class")
