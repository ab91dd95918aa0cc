"""The soak: a real stack runs a random mix of jobs while a seeded scheduler injects faults.

`make soak` (`python -m tests.soak --minutes N --seed S`) runs it for N minutes;
`test_soak_short.py` runs a short form with a fixed seed in the normal suite. See
`run.py` for the phases, `faults.py` for what is injected and `verdict.py` for what is
checked at the end.
"""
