"""posecoach persistence: SQLModel tables, engine factory, Alembic migrations and queries."""
