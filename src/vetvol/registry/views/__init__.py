"""Registry pages, split by sub-domain: volunteers.py, teams.py, imports.py (Excel import and export)."""
