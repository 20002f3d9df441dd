"""veloro-plugin-sdk: write Velero/veloro plugins in Python."""

__version__ = "0.1.0"
