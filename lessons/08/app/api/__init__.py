"""HTTP layer: routers and their dependencies. Routers call services; they never touch the
database, repositories or models directly."""
