"""`python -m benchmarks`'s parts: one module per benchmark, each a function from a `BenchConfig` to
a JSON-ready result; `results` keeps them in BENCHMARKS.json and `render` writes BENCHMARKS.md."""
