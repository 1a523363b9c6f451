"""Dana's benchmarks: Dana/Python program pairs and the harness that times them (run.py)."""
