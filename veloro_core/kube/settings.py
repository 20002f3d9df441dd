"""Client settings, grouped in a dataclass and passed explicitly (no module globals)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KubeSettings:
    """How a KubeClient talks to the API server.

    qps/burst: a token bucket shared by every thread of one client (qps <= 0 disables it). Velero's
    server defaults to 20/30; veloro's defaults are higher because the engines list and create in bulk.
    max_attempts: total tries of one request on 429, 5xx and connection errors (1 = no retry).
    """

    qps: float = 100.0
    burst: int = 200
    page_size: int = 500
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    backoff_base: float = 0.2
    backoff_max: float = 10.0
    retry_after_max: float = 60.0
    pool_maxsize: int = 32
    user_agent: str = "veloro"
    discovery_workers: int = 8

    def __post_init__(self) -> None:
        if self.page_size < 0:
            raise ValueError(f"page_size must be >= 0 (0 = unpaged), got {self.page_size}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.qps > 0 and self.burst < 1:
            raise ValueError(f"burst must be >= 1 when qps is set, got {self.burst}")
        if self.pool_maxsize < 1:
            raise ValueError(f"pool_maxsize must be >= 1, got {self.pool_maxsize}")
