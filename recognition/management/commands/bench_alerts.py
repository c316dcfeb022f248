"""Alert delivery benchmark: fan-out to many consoles, and commit → shown in a browser.

Runs on a throwaway database (created and destroyed like a test database), never on
the live one. The channel layer is whatever the settings say: Redis with REDIS_URL,
else the in-process layer (then the consoles live in this process, as under lfr_demo).

1. Fan-out: N console sockets (the real consumer through the real ASGI app, driven by
   channels' WebsocketCommunicator) watch one deployment; K alerts are committed one
   after another; latency = commit → the alert message reaching each socket.
2. Browser: `manage.py lfr_demo` serves the product on the same database and streams
   the sample clip against a two-person watchlist; Debian's chromium shows the console;
   latency = the alert row written (inside the worker's transaction) → the card on
   screen. Skipped, with a note, if chromium, Playwright or the sample data is missing.
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from core.browser import CHROMIUM, launch_chromium

GOAL_P99_SECONDS = 1.0


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(samples)

    def pick(q):
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": ordered[-1],
    }


# --- the world: users, sessions, a live deployment with a real two-face watchlist --------


class World:
    """What both runs need, created in the throwaway database."""

    def __init__(self):
        import numpy as np
        from django.contrib.auth import (
            BACKEND_SESSION_KEY,
            HASH_SESSION_KEY,
            SESSION_KEY,
            get_user_model,
        )
        from django.contrib.auth.models import Group
        from django.contrib.sessions.backends.db import SessionStore
        from django.utils import timezone

        from core import access
        from deployments.models import Camera, Deployment, DeploymentWatchlist, Site
        from recognition.engine import face_api
        from watchlists.models import ReferenceImage, Subject, WatchlistEntry

        User = get_user_model()
        officers = Group.objects.get(name=access.OFFICER)
        requester = User.objects.create_user("bench-command")
        self.users, self.sessions = [], []
        for n in range(20):
            user = User.objects.create_user(f"bench-officer-{n}")
            user.groups.add(officers)
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            self.users.append(user)
            self.sessions.append(session.session_key)
        site = Site.objects.create(name="Bench site")
        examples = Path(settings.LFR_DATA_DIR, "faces", "face_recognition", "examples")
        self.clip = examples / "short_hamilton_clip.mp4"
        self.camera = Camera.objects.create(
            name="Bench camera", stream_url=str(self.clip), site=site, loop=True
        )
        now = timezone.now()
        self.deployment = Deployment.objects.create(
            reference="BENCH-1",
            use_case="event_protection",
            site=site,
            starts_at=now,
            ends_at=now + timedelta(hours=2),
            necessity="bench",
            proportionality="bench",
            location_rationale="bench",
            watchlist_categories=["wanted"],
            max_watchlist_size=10,
            threshold=settings.LFR_THRESHOLD_DEFAULT,
            state=Deployment.State.LIVE,
            requested_by=requester,
            started_at=now,
        )
        self.deployment.cameras.add(self.camera)
        self.deployment.officers.add(*self.users)
        api = face_api() if self.clip.exists() else None
        entry_ids, references, encodings = [], [], []
        for name in ("lin-manuel-miranda.png", "alex-lacamoire.png"):
            path = examples / name
            if api is None or not path.exists():
                break
            subject = Subject.objects.create(
                reference=path.stem, display_name=path.stem, created_by=requester
            )
            entry = WatchlistEntry.objects.create(
                subject=subject,
                category="wanted",
                legal_basis="bench",
                case_reference="bench",
                provenance="sample data",
                state=WatchlistEntry.State.APPROVED,
                submitted_by=requester,
            )
            encoding = np.asarray(
                api.face_encodings(api.load_image_file(str(path)))[0], dtype=np.float32
            )
            ReferenceImage.objects.create(
                entry=entry,
                jpeg=None,
                encoding=encoding.tobytes(),
                pixel_sha256=path.stem,
                width=1,
                height=1,
                face_px=1,
                sharpness=1,
                pose_score=0,
            )
            entry_ids.append(entry.pk)
            references.append(subject.reference)
            encodings.append(encoding.tobytes())
        if not entry_ids:  # no sample data: the fan-out run only needs a row to point at
            entry_ids, references, encodings = [1], ["bench-subject"], [bytes(512)]
        DeploymentWatchlist.objects.create(
            deployment=self.deployment,
            frozen_at=now,
            entry_ids=entry_ids,
            subject_references=references,
            encodings=b"".join(encodings),
        )
        self.crop = (examples / "obama.jpg").read_bytes() if examples.exists() else b"\xff\xd8\xff"


def world() -> World:
    return World()


# --- 1. fan-out through the real consumer ------------------------------------------------


def _raise_one(world: World, n: int) -> float:
    """Commit one alert through the stream side's service; return the commit instant."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from recognition.services.alerts import alert_raise

    marks = {}
    with transaction.atomic():
        # Registered first, so it runs before alert_raise's publish: the commit instant.
        transaction.on_commit(lambda: marks.setdefault("t", time.monotonic()))
        alert_raise(
            deployment=world.deployment,
            camera=world.camera,
            row_label=0,
            distance=0.4,
            crop_jpeg=world.crop,
            track_id=f"bench-{n}",
            # Further apart than the sighting window: each is a new alert, not a sighting.
            frame_at=timezone.now()
            + timedelta(seconds=n * (settings.LFR_SIGHTING_WINDOW_SECONDS + 1)),
        )
    return marks["t"]


async def fanout(world: World, *, consoles: int, alerts: int) -> dict:
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from lfr_site.asgi import application

    path = f"/ws/deployments/{world.deployment.pk}/alerts/"
    comms = []
    started = time.monotonic()
    for i in range(consoles):
        cookie = f"sessionid={world.sessions[i % len(world.sessions)]}".encode()
        comm = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)]
        )
        connected, _ = await comm.connect(timeout=60)
        if not connected:
            raise RuntimeError(f"console {i} was refused")
        await comm.send_json_to({"type": "resume", "after_seq": 0})
        comms.append(comm)
    connect_seconds = time.monotonic() - started
    received = [[] for _ in comms]

    async def until_seq(i, comm, seq) -> float:
        while True:
            msg = await comm.receive_json_from(timeout=30)
            if msg["type"] == "alerts":
                received[i] += [a["seq"] for a in msg["alerts"]]
                if seq in received[i]:
                    return time.monotonic()

    latencies = []
    for n in range(1, alerts + 1):
        waiters = [asyncio.create_task(until_seq(i, c, n)) for i, c in enumerate(comms)]
        committed = await database_sync_to_async(_raise_one)(world, n)
        arrivals = await asyncio.gather(*waiters)
        latencies += [max(0.0, t - committed) for t in arrivals]
    # Let one server tick pass: nothing may arrive twice.
    await asyncio.sleep(6)
    for i, comm in enumerate(comms):
        while not await comm.receive_nothing(timeout=0.01):
            msg = await comm.receive_json_from()
            if msg["type"] == "alerts":
                received[i] += [a["seq"] for a in msg["alerts"]]
    # In groups: each waits up to a second for its consumer to finish, and all at once
    # would exhaust the Redis layer's connection pool.
    for start in range(0, len(comms), 50):
        await asyncio.gather(*(comm.disconnect() for comm in comms[start : start + 50]))
    expected = list(range(1, alerts + 1))
    return {
        "consoles": consoles,
        "alerts": alerts,
        "connect_seconds": round(connect_seconds, 2),
        "latency": percentiles(latencies),
        "exactly_once": all(r == expected for r in received),
    }


# --- 2. commit → shown, in Debian's chromium, against lfr_demo ------------------------------


def _server_env(tmp: str) -> dict:
    env = dict(os.environ)
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        host = db["HOST"] or "127.0.0.1"
        env["DATABASE_URL"] = f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:////{str(db['NAME']).lstrip('/')}"
    env["LFR_VAR_DIR"] = tmp
    env["SECRET_KEY"] = settings.SECRET_KEY  # the sessions made here must be valid there
    return env


def browser(world: World, *, seconds: int) -> dict:
    import socket
    import urllib.request

    from recognition.models import Alert

    if not world.clip.exists():
        return {"skipped": f"sample clip not found under {settings.LFR_DATA_DIR}"}
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} not installed (apt-get install chromium)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed (pip install -e '.[dev]')"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115
        server = subprocess.Popen(
            [sys.executable, "manage.py", "lfr_demo", "--port", str(port)],
            cwd=settings.BASE_DIR,
            env=_server_env(tmp),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{base}/accounts/login/", timeout=2).read()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        return {"skipped": "lfr_demo did not start"}
                    time.sleep(0.3)
            # Playwright's sync API runs an event loop in this thread; our ORM calls are
            # plain blocking calls made between its steps.
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            with sync_playwright() as p:
                chromium = launch_chromium(p)
                context = chromium.new_context(base_url=base)
                context.add_cookies(
                    [{"name": "sessionid", "value": world.sessions[0], "url": base}]
                )
                page = context.new_page()
                page.goto(f"/recognition/deployments/{world.deployment.pk}/console/")
                page.wait_for_selector("#conn[data-state=live]", timeout=30_000)
                live_since = time.time()
                page.wait_for_timeout(seconds * 1000)
                shown = page.evaluate("window.lfrConsole.shownAt")
                via = page.evaluate("window.lfrConsole.via")
                cards = page.eval_on_selector_all(
                    "[data-testid=alert]", "els => els.map(e => e.dataset.seq)"
                )
                chromium.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    written = dict(
        Alert.objects.filter(deployment=world.deployment).values_list("seq", "created_at")
    )
    latencies = []
    for seq, shown_ms in shown.items():
        created = written.get(int(seq))
        # Only alerts raised while the page was live: earlier ones are replays, not pushes.
        if created is not None and created.timestamp() >= live_since:
            latencies.append(max(0.0, shown_ms / 1000 - created.timestamp()))
    return {
        "seconds": seconds,
        "alerts_shown": len(cards),
        "duplicates": len(cards) - len(set(cards)),
        "via": ", ".join(f"{k} {v}" for k, v in sorted(_count(via.values()).items())),
        "latency": percentiles(latencies),
    }


def _count(values) -> dict:
    out = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


class Command(BaseCommand):
    help = "Benchmark alert delivery: fan-out to many consoles and commit → shown in a browser."

    def add_arguments(self, parser):
        parser.add_argument("--consoles", type=int, default=500)
        parser.add_argument("--alerts", type=int, default=10, help="alerts for the fan-out run")
        parser.add_argument(
            "--browser-seconds", type=int, default=90, help="how long to watch the clip"
        )
        parser.add_argument("--no-browser", action="store_true")
        parser.add_argument("--json", type=Path, help="write the results here")

    def handle(self, *args, consoles, alerts, browser_seconds, no_browser, **options):
        json_path = options["json"]
        layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
        db_settings = connection.settings_dict
        old_name = db_settings["NAME"]
        db_settings.setdefault("TEST", {})
        if connection.vendor == "sqlite":
            db_settings["TEST"]["NAME"] = str(Path(settings.VAR_DIR) / "bench_alerts.sqlite3")
        else:
            db_settings["TEST"]["NAME"] = f"bench_alerts_{old_name}"
        self.stderr.write(f"bench_alerts: throwaway database, channel layer {layer}")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        results = {"layer": layer, "database": connection.vendor}
        try:
            setup = world()
            self.stderr.write(f"fan-out: {consoles} consoles, {alerts} alerts ...")
            results["fanout"] = asyncio.run(fanout(setup, consoles=consoles, alerts=alerts))
            if no_browser:
                results["browser"] = {"skipped": "--no-browser"}
            else:
                self.stderr.write(f"browser: watching the sample clip for {browser_seconds} s ...")
                results["browser"] = browser(setup, seconds=browser_seconds)
        finally:
            from django.db import connections

            from recognition.consumers import READER

            # Threads that served the consoles keep their connections (CONN_MAX_AGE);
            # PostgreSQL will not drop a database that still has sessions.
            READER.submit(connections.close_all).result()
            SyncToAsync.single_thread_executor.submit(connections.close_all).result()
            connection.creation.destroy_test_db(old_name, verbosity=0)
        self._table(results)
        if json_path:
            json_path.write_text(json.dumps(results, indent=2, default=str))

    def _table(self, results):
        def ms(value):
            return "-" if value is None else f"{value * 1000:.0f}"

        fan, web = results["fanout"], results["browser"]
        head = (
            f"{'alert delivery':<44} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8}"
        )
        lines = [
            f"channel layer {results['layer']}, database {results['database']}",
            head,
            "-" * len(head),
        ]
        rows = [
            (f"fan-out: commit → {fan['consoles']} sockets", fan["latency"]),
        ]
        if "latency" in web:
            rows.append(("browser: alert written → card shown", web["latency"]))
        for label, p in rows:
            lines.append(
                f"{label:<44} {p['n']:>6} {ms(p['p50']):>8} {ms(p['p95']):>8} "
                f"{ms(p['p99']):>8} {ms(p['max']):>8}"
            )
        p99 = fan["latency"]["p99"]
        verdict = "met" if p99 is not None and p99 <= GOAL_P99_SECONDS else "NOT met"
        lines.append(
            f"goal p99 <= {GOAL_P99_SECONDS:.0f} s for {fan['consoles']} consoles: {verdict}; "
            f"every socket got every alert exactly once: {'yes' if fan['exactly_once'] else 'NO'}"
        )
        if "skipped" in web:
            lines.append(f"browser run skipped: {web['skipped']}")
        else:
            lines.append(
                f"browser: {web['alerts_shown']} alerts shown once each "
                f"(duplicates: {web['duplicates']}), via {web.get('via', '?')}"
            )
        self.stdout.write("\n".join(lines))
