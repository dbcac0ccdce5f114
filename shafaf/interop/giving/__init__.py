"""360Giving: grants to implementing partners published as 360Giving 1.4.3 JSON, and 360Giving files imported."""
