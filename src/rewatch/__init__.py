"""rewatch."""
