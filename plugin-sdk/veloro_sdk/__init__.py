"""veloro-plugin-sdk: write Velero/veloro plugins in Python."""

import os

# gRPC's fork handlers (pthread_atfork, on by default) misbehave when a process with live channels forks
# and execs a plugin: measured 5 in 100 plugin starts under load aborted ("epoll_wait error: Bad file
# descriptor") or hung the forking thread. We only ever fork to exec, which needs no handlers. Read by
# gRPC when it is imported, hence here, before any veloro_sdk module imports grpc; an explicit setting in
# the environment wins.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

__version__ = "0.1.0"
