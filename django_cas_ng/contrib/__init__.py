"""Integrations with optional third-party packages (each needs its extra installed)."""
