from editbay_common.migrations import run_migrations
from editbay_renderer.models import Base

run_migrations(Base.metadata)
