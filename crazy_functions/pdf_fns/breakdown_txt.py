"""GPT Academic's `breakdown_text_to_satisfy_token_limit`, over LocalScholar's splitter.

The text is cut at the strongest boundary available (headings, blank lines, lines, sentences, words)
and measured with the model's own counter (`model_info[llm_model]["token_cnt"]`), so every piece fits.
"""

from __future__ import annotations

from ..documents.split import split_text


def breakdown_text_to_satisfy_token_limit(txt: str, limit: int, llm_model: str = "gpt-3.5-turbo") -> list[str]:
    """`txt` in pieces of at most `limit` tokens of `llm_model` (the estimate for a model not configured here)."""
    from request_llms.bridge_all import get_token_num, model_info

    count = model_info[llm_model]["token_cnt"] if llm_model in model_info else get_token_num
    return [piece for piece in split_text(txt, int(limit), count) if piece.strip()]
