"""The HTL pipeline's domain logic: Eyes → RAG → Brain → policy → Mouth → Memory.

Pure and database-free: typed inputs (``schemas``), versioned prompts (``prompts``), one async
function per stage (``stages``), the deterministic policy layer (``policy``), the reply checks
(``mouth_rules``) and one turn's orchestration (``turn.run_turn``). The worker, the API's dry-run
and the evaluation harness all run this same code; ``docs/pipeline.md`` describes it.
"""
