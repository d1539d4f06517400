### BEGIN SOLUTION create the package app/models/ with a docstring that says what it holds (step 2)
"""SQLAlchemy models: the tables. Models import no other layer of the app."""
### END SOLUTION
