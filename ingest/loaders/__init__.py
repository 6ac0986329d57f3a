"""Loaders: one module per input format family, each yielding `Article`s or `InputProblem`s (a bad
record; the rest of the input goes on) or raising `ArticleInputError` for a bad file. URLs are
fetched by `fetching` (only to addresses that `addresses` allows) and read by `urls`.
"""
