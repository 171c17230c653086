"""Statistics by region: incrementally maintained roll-ups, the dashboards and their xlsx downloads, and
the civilisation-evaluation export.

Changes write insert-only dirty marks inside their own transaction (`rollup.writers`); the compactor
(`vetvol stats_compact`, also run by the serve tick) recounts only the marked leaves through the domain
querysets and moves the ancestors' totals by the difference. Reads add a live recount of the leaves still
marked, so a figure is exact right after the change that moved it.
"""
