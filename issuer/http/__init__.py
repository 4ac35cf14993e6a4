"""What routers share: the application factory, typed dependencies (services, the request's
unit of work, API keys, web sessions) and problem+json errors."""
