"""Repositories: every query the services need, and nothing else."""
