"""`advanced_css` and `load_dynamic_theme`, which GPT Academic's plugins read to style the HTML files they write."""

from __future__ import annotations

advanced_css = """
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; line-height: 1.6; max-width: 60rem; margin: auto; }
pre, code { font-family: ui-monospace, monospace; background: #f6f8fa; border-radius: 4px; }
pre { padding: 0.8em; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
.markdown-body blockquote { color: #555; border-left: 4px solid #ddd; margin: 0; padding-left: 1em; }
"""


def load_dynamic_theme(theme: str = "Default"):
    """(the page theme, the CSS, the theme's HTML, its script) as GPT Academic returns them; only the CSS is used here."""
    return None, advanced_css, "", ""
