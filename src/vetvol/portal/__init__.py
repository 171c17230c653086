"""Portal: the public pages (信息公开), open without login — province totals, teams by region and by brand,
one page per active team. Certificate verification and recruitment will live here too.

Everything here reads public data only, never through a user's grants (`queries.py`): active teams and
their public fields; volunteers only as counts, and by name only when they are active and agreed to the
publicity of their name. The pages are cacheable by shared caches for five minutes.
"""
