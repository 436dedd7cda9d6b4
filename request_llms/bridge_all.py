"""GPT Academic's module name for the bridge calls, so its plugins' imports work unchanged."""

from .compat import predict, predict_no_ui_long_connection

__all__ = ["predict", "predict_no_ui_long_connection"]
