"""The resources package."""
