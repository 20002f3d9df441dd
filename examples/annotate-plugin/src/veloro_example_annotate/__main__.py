"""`python -m veloro_example_annotate` serves the plugin (handy in tests and images without scripts)."""

from veloro_example_annotate.plugin import main

main()
