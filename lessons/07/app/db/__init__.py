"""Database access: the async engine and its pool, the session factory, the per-request session."""
