"""`make cluster`: a multi-host rehearsal on one machine, hosts being network namespaces.

netns.py makes the hosts and cuts their links, forward.py relays PostgreSQL to them,
stack.py starts the hub and a worker per host, rehearsal.py runs the jobs and the cut and
counts, report.py prints the table; run.py ties them together with the clean-up, used by
__main__.py (the full form) and test_cluster_short.py (the suite's short form).
"""
