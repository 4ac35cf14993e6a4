"""Institutes that issue: their profiles, DIDs and keys, domain linkage, and API keys."""
