"""SQLAlchemy models: the tables. Models import no other layer of the app."""
