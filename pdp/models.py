"""Personal Development Plans: framework, objectives and evidence (the PDP issue)."""
