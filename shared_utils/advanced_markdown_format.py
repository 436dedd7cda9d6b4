"""GPT Academic's Markdown to HTML."""

from toolbox.settings import markdown_convertion


def markdown_convertion_for_file(txt: str) -> str:
    """Markdown as a standalone HTML fragment for a file (code blocks kept as <pre><code>)."""
    return f'<div class="markdown-body">{markdown_convertion(txt)}</div>'


def format_io(self, y):
    """GPT Academic's page hook; here the page renders Markdown itself, so the chat is returned as it is."""
    return y


__all__ = ["format_io", "markdown_convertion", "markdown_convertion_for_file"]
