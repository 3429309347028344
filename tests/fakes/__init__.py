"""Fakes of external systems (a credit bureau) that tests, chaos runs and benchmarks talk to over the network."""
