"""vetvol: the information system for veterans' volunteer service."""
