"""`python -m benchmarks`'s parts: one module per benchmark, each a function from a `BenchConfig` to
a JSON-ready result, which `results` keeps in benchmarks/results.json."""
