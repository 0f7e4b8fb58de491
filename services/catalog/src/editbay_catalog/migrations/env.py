from editbay_catalog.models import Base
from editbay_common.migrations import run_migrations

run_migrations(Base.metadata)
