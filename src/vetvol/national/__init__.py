"""Interchange with the national volunteer service information system (全国志愿服务信息系统).

Owns the record layout of the files sent to the national system (`layout.py`), the export batches and the
per-row export state that make "changes since the last export" exact (`models.py`), the audited export
action (`actions.py`) and its page. Reads volunteers, projects and hour records; writes only its own tables.
"""
