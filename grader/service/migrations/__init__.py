"""The Alembic migrations: the only code that creates or changes the service's schema."""
