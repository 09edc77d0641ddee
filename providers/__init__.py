"""Remote CRM systems behind one Provider protocol (see base.py)."""
