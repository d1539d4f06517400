"""Repositories: add, query and flush rows through an AsyncSession. They never commit."""
