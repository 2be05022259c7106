"""The preview space's steps without HTTP: arrive (MDS first), decide one evidence, leave to the return URL.

The MDS check comes BEFORE the decision port is told the user arrived: the port consumes the single-use
token, and a wrong person (or a mistyped login) must neither see anything nor burn the rightful user's link.
The web layer (gateway/preview_*.py, to come) keeps the session id in the database-backed web session, so only
the person who arrived can decide.
"""

from __future__ import annotations

from collections.abc import Iterable

from oots.preview.machine import PreviewSession
from oots.preview.port import DecisionPort
from preview_space.mds import Mds, check_mds
from preview_space.websec import check_return_url


class PreviewSpace:
    def __init__(self, port: DecisionPort) -> None:
        self._port = port

    async def arrive(self, token: str, *, requested: Mds, authenticated: Mds) -> PreviewSession:
        """Raises ``MdsMismatch`` (nothing shown, token intact) or the port's ``PreviewError``."""
        check_mds(requested, authenticated)
        return await self._port.user_arrived(token)

    async def decide(self, session_id: str, accepted: bool, *, return_url: str,
                     allowed_origins: Iterable[str]) -> tuple[PreviewSession, str]:
        """Record the decision; return the session and the validated URL to send the user back to. The URL is
        checked first so that a bad return URL does not leave a decision taken behind an error page."""
        url = check_return_url(return_url, allowed_origins)
        return await self._port.decide(session_id, accepted), url

    async def leave(self, session_id: str) -> PreviewSession:
        return await self._port.abandon(session_id)
