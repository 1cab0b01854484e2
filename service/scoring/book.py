"""The schemes dvcwatch knows: 766 (built in), tt01 and the provincial ones in config.

Loaded once from the schemes folder (`config/schemes/*.toml`); adding a
province's scheme is adding a file there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from service.indicators import NATIONAL
from service.scoring.schemes import Band, Scheme, load_schemes, read_config
from service.scoring.tt01 import CRITERIA, CRITERION_MAX, TT01_KIND, load_tt01_bands


@dataclass(frozen=True)
class SchemeBook:
    provincial: Mapping[str, Scheme]  # by interchange name, e.g. "provincial:dienbien-459"
    tt01_bands: tuple[Band, ...]

    @classmethod
    def load(cls, folder: Path) -> SchemeBook:
        """Every scheme file of `folder`; SchemeError names a bad file and key."""
        provincial = {s.interchange_name: s for s in load_schemes(folder).values()}
        tt01_files = [
            p for p in sorted(folder.glob("*.toml")) if read_config(p).get("kind") == TT01_KIND
        ]
        bands = load_tt01_bands(tt01_files[0]) if tt01_files else ()
        return cls(provincial, bands)

    def names(self) -> list[str]:
        return [NATIONAL, TT01_KIND, *self.provincial]

    def indicator_max(self, name: str) -> dict[str, float] | None:
        """Indicator code → maximum for tt01 and provincial schemes; None if unknown."""
        if name == TT01_KIND:
            return {code: float(CRITERION_MAX) for code in CRITERIA}
        scheme = self.provincial.get(name)
        return {i.code: i.max for i in scheme.indicators} if scheme else None

    def unknown(self, name: str) -> str:
        return f"unknown scheme {name!r} (known: {', '.join(self.names())})"
