"""The evaluation harness behind ``funnel eval``: scripted conversations (YAML) run through the
real pipeline (:class:`~funnel.core.turns.htl_pipeline.HtlPipeline`) and the send planner, in
memory, against any provider, with per-turn assertions and a score table."""
