"""Dependencies the routers ask for: the request's session, the services, later the current user."""
