"""`python -m veloro_plugins.csi` runs the plugin executable."""

from veloro_plugins.csi.main import main

main()
