"""Source of the remote-code test model "tinychat".

These two modules are copied verbatim into the model folder that `remote_code_model` builds, next to a
config.json whose `auto_map` names them, so transformers can load the model only with `trust_remote_code=True`.
They are importable from here too, which is how the builder makes the weights.
"""
