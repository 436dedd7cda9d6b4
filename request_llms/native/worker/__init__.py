"""The worker process of a native model: loads it (device, quantisation, adapter) and streams answers.

Only this package imports torch and transformers, and only inside the worker process.
"""
