"""GPT Academic's plugins that keep state from one run to the next (`crazy_functions.multi_stage`)."""
