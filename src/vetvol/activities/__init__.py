"""Activities: projects, recruitment, shifts, sign-ups and waiting lists, check-in/out, append-only
service-hour records with their approvals, star ratings and verifiable certificates."""
