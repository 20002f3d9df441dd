"""`veloro server`: settings, the run loop, leader election, metrics and health endpoints, the download
file server, events and location stores. The controllers themselves live in veloro_core.controllers."""
