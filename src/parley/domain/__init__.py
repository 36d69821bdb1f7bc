"""The rules of Parley, in plain Python: no framework, no I/O."""
