"""Demo data: a realistic province for `make demo`, built through the same actions users go through."""
