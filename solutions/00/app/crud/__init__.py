### BEGIN SOLUTION create the package app/crud/ with a docstring that says what it holds (step 2)
"""Repositories: add, query and flush rows through an AsyncSession. They never commit."""
### END SOLUTION
