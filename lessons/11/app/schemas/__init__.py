"""Pydantic DTOs: what the API accepts and returns. Schemas never import models."""
