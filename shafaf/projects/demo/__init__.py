"""Demo data for `manage.py seed_demo`: readers for the shared IATI files and the built-in world."""
