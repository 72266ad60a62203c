"""The models package."""
