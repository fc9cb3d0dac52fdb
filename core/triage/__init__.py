"""Triage many runs: what each run's outcome was, which failures share a signature, and where
each failing run parted from the nearest successful run of the same task.

:mod:`.outcomes` classifies one run from explicit signals; :mod:`.summary` reduces a run to the
small, cacheable record triage works on; :mod:`.signature` normalises error messages and
tool-call shapes into group keys; :mod:`.grouping` forms and sorts the groups;
:mod:`.divergence` aligns failing runs with successful siblings; :mod:`.collect` finds the
files, reads them (in a process pool when there are many) and keeps the cache.
"""
