"""Analysis of result bundles: summaries, sensitivity, scenario discovery (tables in, never a model run)."""
