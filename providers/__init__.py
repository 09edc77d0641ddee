"""Remote CRM systems behind one Provider protocol (crmform.engine.ports)."""
