"""The golden corpus: recorded model answers that the answer-check tests score without a model."""
