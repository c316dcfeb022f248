"""The live console's websocket: carries alerts of one deployment to an allowed watcher.

Delivery never depends on the channel layer: a group message is only a nudge, and the
socket always sends what the database holds past the last seq it sent. The browser
says where it stands (`resume`) on every (re)connect; a periodic tick heals any nudge
the layer dropped and ends the socket once its user may no longer watch.
"""

import asyncio
import uuid
from datetime import timedelta

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from core import request_context
from core.services import audit_record
from recognition import console
from recognition.services.alerts import alert_group

TICK_SECONDS = 5.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def _audit_watch(*, session_key, deployment_id, action, outcome="allowed"):
    user = console.session_user(session_key)
    audit_record(
        actor=user,
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
        self.lock = asyncio.Lock()
        self.ticker = None
        self.closed = False
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if await self._call(console.poll, after_seq=None, after_decision=0, since=None) is None:
            await self._call(_audit_watch, action="deployment.watch", outcome="denied")
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(alert_group(self.deployment_id), self.channel_name)
        await self.accept()
        await self._call(_audit_watch, action="deployment.watch")
        self.ticker = asyncio.create_task(self._tick())

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
            except (TypeError, ValueError):
                return
            self.last_seq, self.last_decision = after, decision
            await self._catch_up(
                since=timezone.now() - timedelta(seconds=2 * TICK_SECONDS), via="resume"
            )

    # Group events: nudges only; what to send is always read from the database.
    async def alert_new(self, event):
        await self._catch_up(via="nudge")

    async def alert_adjudicated(self, event):
        await self._catch_up(
            since=timezone.now() - timedelta(seconds=2 * TICK_SECONDS), via="nudge"
        )

    async def _tick(self):
        while not self.closed:
            await asyncio.sleep(TICK_SECONDS)
            await self._catch_up(
                since=timezone.now() - timedelta(seconds=2 * TICK_SECONDS), via="tick"
            )

    async def _catch_up(self, *, since=None, via: str):
        # `via` says what prompted the send (resume / nudge / tick): a deployment whose
        # alerts only ever arrive "via tick" has a channel layer that is not delivering.
        async with self.lock:
            if self.closed:
                return
            after = self.last_seq
            result = await self._call(
                console.poll, after_seq=after, after_decision=self.last_decision, since=since
            )
            if result is None:
                self.closed = True
                await self._call(_audit_watch, action="deployment.watch_ended")
                await self.close(code=CLOSE_FORBIDDEN)
                return
            if result["alerts"] or result["decided"]:
                for item in result["alerts"] + result["decided"]:
                    if item["decision"]:
                        self.last_decision = max(self.last_decision, item["decision"]["id"])
                if result["alerts"]:
                    self.last_seq = result["alerts"][-1]["seq"]
                await self.send_json(
                    {
                        "type": "alerts",
                        "via": via,
                        "alerts": result["alerts"],
                        "decided": result["decided"],
                    }
                )
                if len(result["alerts"]) >= console.BATCH:
                    asyncio.get_running_loop().create_task(self._catch_up(via=via))
            elif via == "tick":
                await self.send_json({"type": "tick", "last_seq": after})

    async def _call(self, fn, **kwargs):
        client = (self.scope.get("client") or [""])[0]
        with request_context.bind(request_id=self.request_id, client_addr=client or ""):
            return await database_sync_to_async(fn)(
                session_key=self.session_key, deployment_id=self.deployment_id, **kwargs
            )
