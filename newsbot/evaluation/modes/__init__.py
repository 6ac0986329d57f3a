"""The evaluation modes: each one a way to pick the passages a multiple-choice question is asked
over (see `newsbot.evaluation.registry` for the list, `base` for what a mode provides)."""
