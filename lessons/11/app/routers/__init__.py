"""Routers: the HTTP endpoints. A route takes DTOs, calls a service and answers DTOs; it never
touches the database, the repositories or the models."""
