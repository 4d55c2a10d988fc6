"""Scripts that build data at a scale and print figures (README, "Benchmarks")."""
