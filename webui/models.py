"""The model dropdown: configured models and those found on local servers, each with its kind and, when it cannot
answer now, a few words why; the line under the dropdown says how to fix that for the model picked (the list itself
is request_llms.offered's, shared with the API)."""

from __future__ import annotations

from request_llms.offered import Catalog, label

__all__ = ["Catalog", "label"]
