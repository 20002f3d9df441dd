"""The `veloro` command line. One module per command group; see main.py for how groups plug in.

Deliberately imports nothing: `python -m veloro_core.cli run-plugins` is a plugin process whose start-up
time counts.
"""
