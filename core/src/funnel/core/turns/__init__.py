"""A turn: what the worker hands the pipeline, and how the result is persisted."""
