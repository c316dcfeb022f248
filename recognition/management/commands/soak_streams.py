"""Soak the stream workers on real RTSP cameras: alerts, drops, latency, memory, SIGKILLs.

    python manage.py soak_streams --minutes 30 --kills 5

Starts GStreamer's RTSP server (tools/rtsp_server.py) playing the sample clip looped on
`--cameras` mounts, a live deployment on those cameras watching for Lin-Manuel Miranda
(on screen in every loop of the clip), and `--workers` real `celery worker -Q streams`
processes (prefork pool). It plays beat (the supervisor every 10 s), SIGKILLs the lease
holder `--kills` times, evenly spread, restarting the victim each time, and prints a
table. It reports and never fails. Run it on its own database (DATABASE_URL): it adds
demo users, a site, cameras and a deployment, and stops the deployment at the end.
"""

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command
from django.db import close_old_connections, connection
from django.test import override_settings
from django.utils import timezone

from recognition.bench_cameras import RtspCameras

CLIP = Path("faces", "face_recognition", "examples", "short_hamilton_clip.mp4")
SUBJECT = "DEMO-LMM"
ROOT = Path(__file__).resolve().parents[3]


def rss_mib(pid: int) -> float | None:
    """Resident memory of a process and its children (a prefork worker's pool)."""
    total, found = 0, False
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        return None
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    found = True
        except OSError:
            pass
    return round(total / 1024, 1) if found else None


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process has used: a stream worker's cameras run in it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:////{str(db['NAME']).lstrip('/')}"


class Worker:
    """A real stream worker (prefork pool), in its own process group."""

    def __init__(self, name: str, cwd: Path):
        self.name, self.cwd = name, cwd
        self.log = cwd / f"{name}.log"
        self.start()

    def start(self):
        env = dict(os.environ, DATABASE_URL=database_url(), LFR_ALLOW_DETACHED_WORKER="1")
        env["PYTHONPATH"] = str(ROOT)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "lfr_site", "worker", "-Q", "streams",
                 "--pool", "prefork", "-c", "1", "-n", f"{self.name}@%h", "-l", "WARNING",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=self.cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.started = time.monotonic()
        self.rss_first = None
        self.cpu_first = None  # (wall, cpu seconds) a minute after start

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Command(BaseCommand):
    help = "Soak the stream workers on real RTSP cameras (see the module docstring)."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=float, default=30.0)
        parser.add_argument("--kills", type=int, default=5)
        parser.add_argument("--cameras", type=int, default=2)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--clip", default="", help="video to serve (default: sample clip)")
        parser.add_argument(
            "--outage",
            type=float,
            default=0.0,
            help="seconds to stop the cameras for, once, after the kills (0: never)",
        )

    def handle(self, *args, minutes, kills, cameras, workers, clip, outage=0.0, **options):
        from recognition.models import Alert, StreamLease
        from recognition.services.streams import streams_supervise

        clip = Path(clip) if clip else Path(settings.LFR_DATA_DIR) / CLIP
        loop_s = _clip_seconds(clip)
        work = Path(tempfile.mkdtemp(prefix="lfr-soak-streams-"))
        server = RtspCameras(clip, mounts=[f"cam{i + 1}" for i in range(cameras)])
        deployment = self._deployment(server, cameras)
        procs = [Worker(f"soak{i + 1}", work) for i in range(workers)]
        started = time.monotonic()
        end = started + minutes * 60
        # Kills spread over the run; the camera outage (if any) after them, at 85 %.
        span = minutes * 60 * (0.7 if outage else 1.0)
        kill_at = [started + span * (k + 1) / (kills + 1) for k in range(kills)]
        outage_at = started + minutes * 60 * 0.85 if outage else None
        resumes, p95s, next_supervise, outages = [], [], 0.0, []
        self.stdout.write(
            f"soak_streams: {cameras} RTSP cameras ({clip.name}, loop {loop_s:.1f} s), "
            f"{workers} workers, {minutes:g} min, {kills} kills; logs in {work}"
        )
        try:
            while time.monotonic() < end:
                close_old_connections()
                now = time.monotonic()
                if now >= next_supervise:
                    streams_supervise()
                    next_supervise = now + 10
                    for lease in StreamLease.objects.filter(deployment=deployment):
                        if lease.latency_p95_ms is not None and lease.holder:
                            p95s.append(lease.latency_p95_ms)
                for w in procs:
                    if w.rss_first is None and now - w.started > 60:
                        w.rss_first = rss_mib(w.proc.pid)
                        w.cpu_first = (now, cpu_seconds(w.proc.pid))
                if kill_at and now >= kill_at[0]:
                    kill_at.pop(0)
                    resumes.append(self._kill_holder(deployment, procs))
                if outage_at is not None and now >= outage_at:
                    outage_at = None
                    server = self._outage(deployment, server, clip, cameras, outage)
                    outages.append(server.outage)
                time.sleep(1.0)
            rss_end = {w.name: rss_mib(w.proc.pid) for w in procs}
            for w in procs:
                w.cpu_share = None
                if w.cpu_first and w.cpu_first[1] is not None:
                    used = cpu_seconds(w.proc.pid) - w.cpu_first[1]
                    w.cpu_share = used / (time.monotonic() - w.cpu_first[0])
        finally:
            for w in procs:
                w.kill(signal.SIGTERM)
            server.stop()
            from deployments.models import Deployment

            Deployment.objects.filter(pk=deployment.pk).update(state=Deployment.State.COMPLETED)
        elapsed = time.monotonic() - started
        leases = list(StreamLease.objects.filter(deployment=deployment).select_related("camera"))
        alerts = list(
            Alert.objects.filter(deployment=deployment, subject_reference=SUBJECT).order_by(
                "frame_at"
            )
        )
        self._report(leases, alerts, elapsed, loop_s, resumes, p95s, procs, rss_end)
        self._summary(alerts, resumes, outages, kills)

    def _outage(self, deployment, server, clip, cameras, seconds):
        """Stop the cameras for `seconds`: how soon each is shown not delivering, and how
        soon it is read again once back (the same port, as a camera that rebooted)."""
        from deployments.models import Deployment
        from recognition.health import camera_health
        from recognition.models import StreamLease

        def leases():
            close_old_connections()
            d = Deployment.objects.get(pk=deployment.pk)
            return d, list(StreamLease.objects.filter(deployment=d).select_related("camera"))

        port = server.port
        server.stop()
        stopped_at = timezone.now()
        shown = {}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            d, rows = leases()
            for lease in rows:
                state = camera_health(lease, camera=lease.camera, deployment=d, now=timezone.now())
                if lease.pk not in shown and state["state"] != "live":
                    shown[lease.pk] = (timezone.now() - stopped_at).total_seconds()
            time.sleep(0.25)
        server = RtspCameras(clip, mounts=[f"cam{i + 1}" for i in range(cameras)], port=port)
        back_at = timezone.now()
        resumed = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(resumed) < cameras:
            _, rows = leases()
            for lease in rows:
                frame_at = lease.last_frame_at
                if lease.pk not in resumed and frame_at and frame_at > back_at:
                    resumed[lease.pk] = (frame_at - back_at).total_seconds()
            time.sleep(0.25)
        server.outage = {"seconds": seconds, "shown": shown, "resumed": resumed, "of": cameras}
        return server

    def _summary(self, alerts, resumes, outages, kills):
        """The figure lines: one alert per sighting whatever the kills; the camera outage."""
        sightings = sum(a.sightings for a in alerts)
        back = [r["seconds"] for r in resumes]
        every = all(s is not None for s in back)
        self.stdout.write(
            f"stream faults: {kills} SIGKILL{'s' if kills != 1 else ''} of the lease holder on "
            f"real RTSP cameras, resumed after {'every' if every else 'not every'} kill; one "
            f"subject on screen throughout, duplicates shown {max(0, len(alerts) - 1)} | "
            f"measured: {len(alerts)} alert card{'s' if len(alerts) != 1 else ''}, {sightings} "
            f"sightings, read again after "
            f"{[round(s, 1) if s is not None else None for s in back]} s"
        )
        for o in outages:
            shown, resumed = sorted(o["shown"].values()), sorted(o["resumed"].values())
            self.stdout.write(
                f"camera outage: {o['of']} camera{'s' if o['of'] != 1 else ''} stopped for "
                f"{o['seconds']:g} s: shown not live {len(shown)} of {o['of']}, read again "
                f"{len(resumed)} of {o['of']} | "
                f"measured: shown after {[round(x, 1) for x in shown]} s, frames again "
                f"{[round(x, 1) for x in resumed]} s after the cameras returned"
            )

    def _deployment(self, server, cameras):
        from deployments import services
        from recognition.management.commands.seed_demo_data import Command as SeedData
        from recognition.management.commands.seed_demo_data import demo_deployment

        call_command("migrate", "--noinput", verbosity=0)
        with tempfile.TemporaryDirectory() as empty, override_settings(LFR_DATA_DIR=empty):
            call_command("seed_demo", stdout=StringIO())  # users only: no sample data here
        users = {u.username: u for u in get_user_model().objects.all()}
        SeedData(stdout=StringIO())._watchlist(users, Path(settings.LFR_DATA_DIR))
        site = services.site_create(by=users["admin"], name=f"Soak {timezone.now():%H%M%S}")
        cams = [
            services.camera_create(
                by=users["admin"], name=f"{site.name} cam{i + 1}",
                stream_url=server.url(f"cam{i + 1}"), site=site,
            )
            for i in range(cameras)
        ]  # fmt: skip
        now = timezone.now()
        deployment = demo_deployment(
            users=users, cameras=cams, site=site, starts_at=now,
            ends_at=now + timedelta(hours=settings.LFR_MAX_DEPLOYMENT_HOURS), label="Stream soak",
        )  # fmt: skip
        services.deployment_go_live(deployment=deployment)
        return deployment

    def _kill_holder(self, deployment, procs) -> dict:
        """SIGKILL the worker holding a camera; seconds until its camera is read again."""
        from recognition.models import StreamLease

        lease = (
            StreamLease.objects.filter(deployment=deployment).exclude(holder="").order_by("?")
        ).first()
        if lease is None:
            return {"camera": "-", "seconds": None}
        pid = int(lease.holder.rsplit("/", 2)[1])
        victim = next((w for w in procs if w.proc.pid == pid), None)
        if victim is None:
            return {"camera": lease.camera_id, "seconds": None}
        killed_at = timezone.now()
        victim.kill()
        deadline = time.monotonic() + 120
        seconds = None
        while time.monotonic() < deadline:
            close_old_connections()
            lease.refresh_from_db()
            if lease.holder and lease.last_frame_at and lease.last_frame_at > killed_at:
                seconds = (lease.last_frame_at - killed_at).total_seconds()
                break
            time.sleep(0.25)
        victim.start()
        return {"camera": lease.camera_id, "seconds": seconds}

    def _report(self, leases, alerts, elapsed, loop_s, resumes, p95s, procs, rss_end):
        out = self.stdout.write
        out("")
        out(f"{'camera':<28} {'frames in':>9} {'analysed':>8} {'dropped':>8} {'reconn':>6} "
            f"{'degraded':>8} {'loops':>6} {'alerts':>6} {'per loop':>8} {'dupes':>5}")  # fmt: skip
        for lease in leases:
            mine = [a for a in alerts if a.camera_id == lease.camera_id]
            loops = elapsed / loop_s
            # A duplicate: another alert for the subject on this camera within one loop.
            dupes = sum(
                1
                for a, b in zip(mine, mine[1:], strict=False)
                if (b.frame_at - a.frame_at).total_seconds() < 0.8 * loop_s
            )
            per_loop = len(mine) / max(loops, 1)
            out(f"{lease.camera.name:<28} {lease.frames_in:>9} {lease.frames_processed:>8} "
                f"{lease.frames_dropped:>8} {lease.reconnects:>6} {str(lease.degraded):>8} "
                f"{loops:>6.0f} {len(mine):>6} {per_loop:>8.2f} {dupes:>5}")  # fmt: skip
        if p95s:
            out(f"latency capture->analysed p95 (sampled every 10 s): median "
                f"{statistics.median(p95s):.0f} ms, max {max(p95s):.0f} ms")  # fmt: skip
        for n, r in enumerate(resumes, 1):
            gap = f"{r['seconds']:.1f} s" if r["seconds"] is not None else "did not resume"
            missed = f" ({r['seconds'] / loop_s:.1f} loops unanalysed)" if r["seconds"] else ""
            out(f"kill {n}: camera {r['camera']} read again after {gap}{missed}")
        for w in procs:
            share = f"{w.cpu_share:.2f} core" if w.cpu_share is not None else "n/a"
            out(f"worker {w.name} RSS: {w.rss_first} MiB (1 min after its last start) -> "
                f"{rss_end.get(w.name)} MiB at the end; CPU since then {share}")  # fmt: skip
        frames = sum(lease.frames_in for lease in leases)
        if frames:
            # Share of real time analysed: the detector wants 1 frame in 5 (PipelineConfig).
            analysed = min(1.0, sum(lease.frames_processed for lease in leases) * 5 / frames)
            out(f"analysed {analysed:.0%} of the frames real time asks for")


def _clip_seconds(clip: Path) -> float:
    import cv2

    capture = cv2.VideoCapture(str(clip))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        return (capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0) / fps or 9.0
    finally:
        capture.release()
