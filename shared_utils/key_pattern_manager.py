"""GPT Academic's key helpers."""

from toolbox.settings import is_any_api_key, select_api_key, what_keys

__all__ = ["is_any_api_key", "select_api_key", "what_keys"]
