"""kubesim: a Kubernetes API server simulator that kubectl and the kubernetes client use unchanged.

A test and demo tool for veloro; veloro_core never imports it.
"""

__version__ = "0.1.0"
