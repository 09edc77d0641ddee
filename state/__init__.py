"""Where state lives, behind one StateBackend protocol (see backend.py)."""
