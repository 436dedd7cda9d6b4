"""GPT Academic's diagrams of a project (`crazy_functions.diagram_fns`)."""
