"""LocalScholar's web page (Gradio). Imported only by main.py: the model layer never needs it."""
