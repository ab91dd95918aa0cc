"""Built-in job types. Each module registers one type; see jobs.registry."""
