"""Activity pages: the volunteer's phone pages (my activities, e-card, hours, stars, certificates), recruitment
listings and sign-up, and the organiser's check-in screen."""

from __future__ import annotations
