"""The error a plugin raises when it cannot run on what it was given; the page shows its message."""

from __future__ import annotations

from request_llms.errors import LLMError


class PluginInputError(LLMError):
    """The plugin cannot run on what it was given: the message says what to upload or change."""

    exit_code = 2  # bad input, where a command line reads the same files (kb add)
    final = True
