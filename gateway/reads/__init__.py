"""Compiled reads: one read model per noun, compiled to one SQL statement per read."""
