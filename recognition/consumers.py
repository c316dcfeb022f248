"""The live console's websocket: carries alerts of one deployment to an allowed watcher.

Delivery never depends on the channel layer: a group message is only a nudge, and the
socket always sends what the database holds past the last seq it sent. The browser
says where it stands (`resume`) on every (re)connect; a periodic tick heals any nudge
the layer dropped and ends the socket once its user may no longer watch.

Nothing is sent before the first resume, and the ticker starts only after it: a tick
answered before the page said where it stands would be taken for the resume's answer.
A tick is the `console.tick` event. The socket's own ticker calls its handler directly
(healing must not depend on the layer it heals), and tests inject it as a group message
(`group_send(alert_group(id), {"type": "console.tick"})`), so none waits on a clock.
"""

import asyncio
import logging
import time
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core import mfa, request_context
from core.services import audit_record
from recognition import console
from recognition.services.alerts import alert_group

logger = logging.getLogger(__name__)

# None: no wall-clock ticker at all (the socket tests inject every tick themselves).
TICK_SECONDS: float | None = 5.0
# The consoles' reads get a thread of their own, off the one that serves Django's sync
# views: a page load or an image fetch must not queue in front of an alert.
READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lfr-console-reader")
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class _Batcher:
    """Questions from all sockets of this process, answered together in one thread hop.

    A nudge wakes every console of a deployment at once; asking the database once per
    socket would serialise hundreds of identical reads.
    """

    def __init__(self):
        self.pending = []
        self.running = False

    async def ask(self, question: console.Ask):
        future = asyncio.get_running_loop().create_future()
        self.pending.append((question, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self):
        try:
            while self.pending:
                await asyncio.sleep(0.002)  # let the rest of this nudge's sockets queue up
                batch, self.pending = self.pending, []
                try:
                    answers = await database_sync_to_async(
                        console.poll_many, thread_sensitive=False, executor=READER
                    )([q for q, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():  # a socket that closed meanwhile cancelled it
                            future.set_exception(exc)
                    continue
                for (_, future), answer in zip(batch, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
        finally:
            self.running = False


_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher]" = (
    weakref.WeakKeyDictionary()
)


def _ask(question: console.Ask):
    loop = asyncio.get_running_loop()
    if loop not in _batchers:
        _batchers[loop] = _Batcher()
    return _batchers[loop].ask(question)


def _audit_watch(*, actor, deployment_id, action, outcome="allowed"):
    audit_record(
        actor=actor,
        action=action,
        object_type="deployments.deployment",
        object_id=deployment_id,
        outcome=outcome,
    )


class AlertConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        self.deployment_id = int(self.scope["url_route"]["kwargs"]["deployment_id"])
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        self.request_id = uuid.uuid4().hex
        self.last_seq = None  # nothing is sent until the page says where it stands
        self.last_decision = 0
        self.last_verification = 0
        self.lock = asyncio.Lock()
        self.ticker = None
        self.closed = False
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await database_sync_to_async(mfa.session_is_verified)(user, session):
            await self.close(code=CLOSE_UNAUTHENTICATED)  # past the password, not the code
            return
        if await _ask(console.Ask(self.session_key, self.deployment_id)) is None:
            await self._audit(action="deployment.watch", outcome="denied")
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(alert_group(self.deployment_id), self.channel_name)
        await self.accept()
        await self._audit(action="deployment.watch")

    async def disconnect(self, code):
        self.closed = True
        if self.ticker is not None:
            self.ticker.cancel()
        await self.channel_layer.group_discard(alert_group(self.deployment_id), self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "resume":
            try:
                after = max(0, int(content.get("after_seq") or 0))
                decision = max(0, int(content.get("after_decision") or 0))
                verification = max(0, int(content.get("after_verification") or 0))
            except (TypeError, ValueError):
                return
            self.last_seq, self.last_decision = after, decision
            self.last_verification = verification
            await self._catch_up(via="resume", decided=True)
            if self.ticker is None and not self.closed:
                self.ticker = asyncio.create_task(self._tick())

    # Group events: nudges only; what to send is always read from the database.
    async def alert_new(self, event):
        await self._catch_up(via="nudge")

    async def alert_sighted(self, event):
        await self._catch_up(via="nudge")

    async def alert_adjudicated(self, event):
        await self._catch_up(via="nudge", decided=True)

    async def console_tick(self, event):
        await self._catch_up(via="tick", decided=True)

    async def _tick(self):
        while not self.closed and TICK_SECONDS:
            # On the wall-clock beat, so the ticks of all sockets share one batch.
            await asyncio.sleep(TICK_SECONDS - time.time() % TICK_SECONDS)
            await self.console_tick({"type": "console.tick"})

    async def _catch_up(self, *, via: str, decided: bool = False):
        # `via` says what prompted the send (resume / nudge / tick): a deployment whose
        # alerts only ever arrive "via tick" has a channel layer that is not delivering.
        async with self.lock:
            if self.closed:
                return
            after = self.last_seq
            try:
                answer = await _ask(
                    console.Ask(
                        self.session_key,
                        self.deployment_id,
                        after,
                        self.last_decision,
                        decided,
                        self.last_verification,
                    )
                )
            except Exception as exc:
                # A locked or lost database: say so, so the badge stops saying "Live";
                # the next tick or nudge asks again from the same cursors.
                logger.warning(
                    "console of deployment %s: %s", self.deployment_id, type(exc).__name__
                )
                if after is not None:
                    await self.send_json({"type": "trouble", "via": via, "last_seq": after})
                return
            if answer is None:
                self.closed = True
                await self._audit(action="deployment.watch_ended")
                await self.close(code=CLOSE_FORBIDDEN)
                return
            # New cards in "alerts"; cards the page holds already and that were seen
            # again in "updated" (sightings, cameras, last seen: updated in place).
            answer.setdefault("updated", [])
            changed = answer["alerts"] + answer["updated"]
            # A resume is always answered, so the page knows where the server stands.
            if changed or answer["decided"] or via == "resume":
                for item in changed + answer["decided"]:
                    if item["decision"]:
                        self.last_decision = max(self.last_decision, item["decision"]["id"])
                    if item.get("verification"):
                        self.last_verification = max(
                            self.last_verification, item["verification"]["cursor"]
                        )
                if changed:
                    self.last_seq = max(item["changed_seq"] for item in changed)
                await self.send_json({"type": "alerts", "via": via, **answer})
                if len(changed) >= console.BATCH:
                    asyncio.get_running_loop().create_task(self._catch_up(via=via))
            elif after is not None:
                # Nothing new, said anyway once resumed: a tick tells the page the server
                # is there; a nudge shows the layer delivers though a tick got there first.
                await self.send_json({"type": via, "last_seq": after})

    async def _audit(self, **kwargs):
        client = (self.scope.get("client") or [""])[0]
        with request_context.bind(request_id=self.request_id, client_addr=client or ""):
            # The user the socket was opened for, captured at connect: by the time a
            # logout or a disabled account closes it, the session names nobody.
            await database_sync_to_async(_audit_watch)(
                actor=self.scope.get("user"), deployment_id=self.deployment_id, **kwargs
            )
