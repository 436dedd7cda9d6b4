"""Academic plugins with GPT Academic's signature, one module each at this level, and the code they run on.

runtime/ is the plugin runtime (the menu, the chatbot a plugin is handed, the parallel runner, uploads);
latex/, documents/ and models/ hold the engines the plugins share; crazy_utils keeps GPT Academic's helpers.
"""
