"""Where state lives, behind one StateBackend protocol (crmform.engine.ports)."""
