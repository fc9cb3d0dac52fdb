"""Policy verdicts on a run: Assay-compatible policies (YAML or JSON) checked step by step.

``load_policy`` reads and checks a policy file (errors name the file, line and column);
``check_run`` gives every tool call a verdict (allowed, warned, blocked) with the rule, a
one-line reason and the evidence range of steps; ``PolicyEvaluator`` does the same
incrementally for a live tail; ``verdict_changes`` compares two runs' verdicts.
"""
