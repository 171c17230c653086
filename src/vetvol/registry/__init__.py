"""Registry: volunteers, teams, squads and memberships, the skills and certificates taxonomy, the talent pool,
Excel import and export, and the public disclosure of teams."""
