"""The plugin runtime: the menu, what a plugin is handed as chatbot, the parallel runner, uploads and sizing."""
