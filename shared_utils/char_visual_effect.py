"""GPT Academic's scrolling view of a stream's last characters."""


def scolling_visual_effect(text: str, scroller_max_len: int) -> str:
    """The last `scroller_max_len` characters of `text` on one line (GPT Academic's spelling of the name)."""
    text = text.replace("\n", " ").replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")
    return text[-scroller_max_len:] if len(text) > scroller_max_len else text


scrolling_visual_effect = scolling_visual_effect  # the newer spelling
