from editbay_common.migrations import run_migrations
from editbay_planner.models import Base

run_migrations(Base.metadata)
