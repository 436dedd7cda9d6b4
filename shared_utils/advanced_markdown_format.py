"""GPT Academic's Markdown to HTML."""

from toolbox.settings import markdown_convertion


def format_io(self, y):
    """GPT Academic's page hook; here the page renders Markdown itself, so the chat is returned as it is."""
    return y


__all__ = ["format_io", "markdown_convertion"]
