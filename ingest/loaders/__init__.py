"""Loaders: one module per input format family, each yielding `Article`s or `InputProblem`s.

Every loader takes the input's path (or bytes) plus the limits it must respect, and reports a bad
record as an `InputProblem` (so the rest of the input goes on) or a bad file by raising
`ArticleInputError` with the file and the reason.

URLs are fetched by `fetching` (policy, redirects, size and time caps) over `connections` (only to
addresses that `addresses` allows, checked at connect time); `urls` reads what comes back.
"""
