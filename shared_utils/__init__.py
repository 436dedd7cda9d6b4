"""GPT Academic's `shared_utils` modules that its plugins import, with the same names and meanings.

Each module here is small and written over LocalScholar's own parts; `toolbox` re-exports what GPT
Academic's toolbox re-exports from these.
"""
