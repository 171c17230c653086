"""Core: base models, region scoping, audit log, events on commit, field encryption, masking, money.

Every domain app builds on these; none of them knows about any domain app.
"""
