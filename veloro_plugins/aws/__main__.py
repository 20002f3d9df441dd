"""`python -m veloro_plugins.aws` runs the plugin executable."""

from veloro_plugins.aws.main import main

main()
