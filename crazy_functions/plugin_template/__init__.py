"""GPT Academic's class-based plugins (`crazy_functions.plugin_template`)."""
