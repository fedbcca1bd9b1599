"""The recommendation service: FastAPI app, web page and profile store (SQLite by default).

Imports FastAPI and SQLAlchemy, so `import movierec` never loads it; use
`movierec.service.app.create_app` or the `movierec serve` command.
"""
