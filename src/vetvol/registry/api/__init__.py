"""Registry API: one router made of the sub-domain routers (volunteers, teams, imports)."""

from ninja import Router

from vetvol.registry.api.teams import router as teams_router
from vetvol.registry.api.volunteers import router as volunteers_router

router = Router()
router.add_router("/volunteers", volunteers_router)
router.add_router("/teams", teams_router)
# imports: begin
# imports: end
