### BEGIN SOLUTION create the package app/schemas/ with a docstring that says what it holds (step 2)
"""Pydantic DTOs: what the API accepts and returns. Schemas never import models."""
### END SOLUTION
