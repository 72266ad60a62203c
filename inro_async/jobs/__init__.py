"""The jobs package."""
