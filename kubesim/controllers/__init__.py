"""Simulated control-plane and node behaviour: small, honest versions of the real controllers."""
