"""Registry API: one router made of the sub-domain routers (volunteers, teams, imports)."""

from ninja import Router

from vetvol.registry.api.teams import router as teams_router
from vetvol.registry.api.volunteers import router as volunteers_router

router = Router()
router.add_router("/volunteers", volunteers_router)
router.add_router("/teams", teams_router)
# imports: begin
from vetvol.registry.api.imports import export_router  # noqa: E402
from vetvol.registry.api.imports import router as imports_router  # noqa: E402

router.add_router("/imports", imports_router)
router.add_router("/export", export_router)
# imports: end
