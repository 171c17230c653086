"""Fixtures borrowed from the apps whose uploads are proven here (the registry's private upload folder,
the fund's money), so these proofs build their data the way those apps' own tests do."""

from __future__ import annotations

from vetvol.fund.tests.conftest import donor, evidence, funded  # noqa: F401
from vetvol.registry.tests.conftest import private_var_dir  # noqa: F401
