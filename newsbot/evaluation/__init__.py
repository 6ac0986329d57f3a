"""Evaluation on real news quizzes: datasets, metrics, the multiple-choice step and the runner.

`run_eval` (in `runner`) is the entry point that `newsbot eval` calls; `metrics` holds the pure
scoring functions, `dataset` reads a benchmark folder, `choice` asks the model to pick an option.
"""
