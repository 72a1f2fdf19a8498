"""The package version (one place; pyproject.toml states the same for the installer)."""

__version__ = "0.1.0"
