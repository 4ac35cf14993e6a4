"""The HTTP layer: thin FastAPI routes over ``issuer.services``."""
