"""The running application's handles: settings, the engine, sessions.

Built once per command from the validated `Settings` and passed explicitly.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from service.config import Settings
from service.dbfacts import safe_url

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from service.scoring.book import SchemeBook


class App:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sessions: sessionmaker[Session] | None = None  # once the schema was checked

    @cached_property
    def engine(self) -> Engine:
        from service import db  # SQLAlchemy: not for what reads without it (`status`)

        return db.make_engine(self.settings.database.url)

    @property
    def safe_url(self) -> str:
        """The database URL with any password hidden, for messages and logs."""
        return safe_url(self.settings.database.url)

    @cached_property
    def schemes(self) -> SchemeBook:
        """The index schemes of `scoring.schemes_dir` (SchemeError names a bad file)."""
        from service.scoring.book import SchemeBook

        return SchemeBook.load(self.settings.scoring.schemes_dir)

    def upgrade(self) -> None:
        from service import db

        db.upgrade(self.engine)
        self._sessions = None

    def sessions(self) -> sessionmaker[Session]:
        """Sessions on a database whose schema matches the code (else a clear error)."""
        if self._sessions is None:
            from service import db

            db.require_current(self.engine)
            self._sessions = db.session_factory(self.engine)
        return self._sessions
