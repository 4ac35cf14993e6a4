"""Laurel's issuer service: keys, signing, and (later) the HTTP API, pages and skills cloud."""
