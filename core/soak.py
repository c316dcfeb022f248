"""The soak check behind `manage.py soak`: the embedded demo under real use, measured.

The demo runs as a real subprocess (its own session, so every process it leaves behind
after Ctrl-C is found); two officers' consoles, a contributor and a planner drive it
through real chromium pages. Nothing here is imported by the product.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
NATIVE_CRASH = re.compile(
    r"double free|corrupted|munmap_chunk|invalid pointer|Segmentation fault|"
    r"Fatal Python error|Aborted|core dumped"
)
LOCKED = "database is locked"
OFFICERS = ("officer", "officer2")
SECOND_CAMERA = "Soak camera 2 (Hamilton clip, looped)"


@dataclass
class Figures:
    crashes: int = 0
    crash_lines: list = field(default_factory=list)
    server_errors: int = 0
    locked: int = 0
    decisions_made: int = 0
    decisions_confirmed: int = 0
    decisions_saved: int = 0
    checks: int = 0
    page_times: list = field(default_factory=list)
    orphans: list = field(default_factory=list)
    alerts: dict = field(default_factory=dict)  # camera name -> alerts raised

    @property
    def decisions_lost(self) -> int:
        return max(0, self.decisions_made - self.decisions_saved)

    def p95(self, kind: str | None = None) -> float:
        """95th percentile of one kind of action (page, login, decision, check), or all."""
        times = sorted(t for k, t in self.page_times if kind is None or k == kind)
        return times[int(0.95 * (len(times) - 1))] if times else 0.0

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.page_times if k == kind)

    def failures(self) -> dict:
        return {
            "crashes": self.crashes,
            "5xx": self.server_errors,
            "database is locked": self.locked,
            "decisions lost": self.decisions_lost,
            "orphan processes": len(self.orphans),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(var_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(LFR_VAR_DIR=str(var_dir), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    env.setdefault("LFR_DATA_DIR", str(settings.LFR_DATA_DIR))
    return env


def manage(var_dir: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=child_env(var_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return result.stdout


def prepare(var_dir: Path) -> dict:
    """migrate + seed_demo, a second live camera, and the demo users' (password, TOTP key
    in hex): every sign-in types the authenticator's current code, as a person would."""
    manage(var_dir, "migrate", "--noinput")
    manage(var_dir, "seed_demo")
    manage(var_dir, "shell", "-c", "from core.soak import seed_second_camera; seed_second_camera()")
    from core.mfa import hex_from_base32

    passwords = {}
    for line in (var_dir / "demo_credentials.txt").read_text().splitlines():
        username, password, _role, secret = line.split("\t")
        passwords[username] = (password, hex_from_base32(secret))
    return passwords


def seed_second_camera() -> None:
    """A second camera on the same clip in its own deployment, planned, authorised and
    started through the services as command staff and an authoriser would."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from deployments import services
    from deployments.models import Camera, Deployment
    from recognition.management.commands.seed_demo_data import demo_deployment

    users = {u.username: u for u in get_user_model().objects.all()}
    first = Camera.objects.exclude(name=SECOND_CAMERA).order_by("pk").first()
    camera = Camera.objects.filter(name=SECOND_CAMERA).first() or services.camera_create(
        by=users["admin"],
        name=SECOND_CAMERA,
        stream_url=first.stream_url,
        site=first.site,
        loop=True,
    )
    now = timezone.now()
    if Deployment.objects.filter(
        cameras=camera, state=Deployment.State.LIVE, ends_at__gt=now + timedelta(minutes=30)
    ).exists():
        return
    deployment = demo_deployment(
        users=users,
        cameras=[camera],
        site=first.site,
        starts_at=now,
        ends_at=now + timedelta(hours=settings.LFR_MAX_DEPLOYMENT_HOURS),
        label="Soak",
    )
    services.deployment_go_live(deployment=deployment)


def saved_decisions(var_dir: Path, since: float) -> int:
    code = (
        "import json, datetime; from recognition.models import Adjudication; "
        f"t = datetime.datetime.fromtimestamp({since}, datetime.UTC); "
        "print(json.dumps(Adjudication.objects.filter("
        f"by__username__in={list(OFFICERS)!r}, at__gte=t).count()))"
    )
    return json.loads(manage(var_dir, "shell", "-c", code).strip().splitlines()[-1])


def alerts_per_camera(var_dir: Path) -> dict:
    """Alerts raised per live camera during the soak: both cameras must have been read."""
    code = (
        "import json; from django.db.models import Count; from recognition.models import Alert; "
        "print(json.dumps({r['camera__name']: r['n'] for r in "
        "Alert.objects.values('camera__name').annotate(n=Count('id'))}))"
    )
    return json.loads(manage(var_dir, "shell", "-c", code).strip().splitlines()[-1])


class Server:
    """`manage.py lfr_demo` in its own session; restarted (and counted) if it dies."""

    def __init__(self, var_dir: Path, figures: Figures):
        self.var_dir, self.figures = var_dir, figures
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = var_dir / "soak-server.log"
        self.proc = None
        self.sessions = []

    def start(self) -> None:
        out = self.log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "lfr_demo", "--port", str(self.port)],
            env=child_env(self.var_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.sessions.append(self.proc.pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lfr_demo exited at start; see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"lfr_demo did not listen on {self.port}; see {self.log}")

    def alive_or_restart(self) -> bool:
        if self.proc.poll() is None:
            return True
        self.figures.crashes += 1
        self.figures.crash_lines.append(f"lfr_demo exited with {self.proc.returncode}")
        self.start()
        return False

    def stop(self) -> None:
        """Ctrl-C, as a person would; then every process left in its sessions is an orphan."""
        if self.proc.poll() is not None:  # died before Ctrl-C: a crash
            self.figures.crashes += 1
            self.figures.crash_lines.append(f"lfr_demo exited with {self.proc.returncode}")
        else:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.figures.crashes += 1
                self.figures.crash_lines.append("lfr_demo ignored Ctrl-C for 90 s")
        time.sleep(2)  # children get a moment to follow their parent out
        for pid in _session_members(self.sessions):
            self.figures.orphans.append(f"{pid} {_cmdline(pid)}")
            try:
                os.kill(pid, signal.SIGKILL)  # we started it: clean up after counting
            except ProcessLookupError:
                pass

    def scan_log(self) -> None:
        text = self.log.read_text(errors="replace")
        self.figures.locked = text.count(LOCKED)
        for line in text.splitlines():
            if NATIVE_CRASH.search(line):
                self.figures.crash_lines.append(line.strip()[:200])
        # A native crash kills the process (counted on restart) or a thread of it.
        self.figures.crashes = max(self.figures.crashes, len(NATIVE_CRASH.findall(text)))


def _session_members(sessions) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) in sessions and fields[0] != "Z":  # field 6: session id
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "?"


class Browsers:
    """Two officers' consoles, a contributor's submit page and a planner's pages."""

    def __init__(self, playwright, server: Server, passwords: dict, figures: Figures):
        from core.browser import launch_chromium

        self.server, self.passwords, self.figures = server, passwords, figures
        self.browser = launch_chromium(playwright)
        self.pages = {}
        self.consoles = {}

    def _page(self, username):
        from core.browser import sign_in_browser

        context = self.browser.new_context(base_url=self.server.url)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on("response", self._count_5xx)
        started = time.monotonic()
        sign_in_browser(page, username, *self.passwords[username])
        page.wait_for_url(re.compile(r".*/$"))
        self.figures.page_times.append(("login", time.monotonic() - started))
        return page

    def _count_5xx(self, response):
        if response.status >= 500:
            self.figures.server_errors += 1

    def _timed(self, fn, *args, **kwargs):
        started = time.monotonic()
        result = fn(*args, **kwargs)
        self.figures.page_times.append(("page", time.monotonic() - started))
        return result

    def open(self) -> None:
        # Every officer watches every live deployment: with two-person verification (the
        # default) an alert is decided only once both have verified it, so an officer per
        # deployment, as before, would leave every alert undecided.
        self.consoles = {}
        for username in OFFICERS:
            first = self._page(username)
            self._timed(first.goto, "/recognition/")
            pages = []
            for n in range(first.locator("text=Open console").count()):
                page = first if n == 0 else first.context.new_page()
                if n:
                    page.set_default_timeout(60_000)
                    page.on("response", self._count_5xx)
                    self._timed(page.goto, "/recognition/")
                page.locator("text=Open console").nth(n).click()
                page.wait_for_selector("#conn[data-state=live]")
                pages.append(page)
            self.consoles[username] = pages
        self.pages = {
            "contributor": self._page("contributor"),
            "command": self._page("command"),
        }
        self._timed(self.pages["contributor"].goto, "/watchlists/submit/")

    def decide_one(self, username) -> None:
        for page in self.consoles.get(username, []):
            self._decide_on(page)

    def _decide_on(self, page) -> None:
        # A two-person deployment (the default) shows its own verification form first;
        # the decision form appears once two officers have verified.
        card = page.query_selector(
            "li[data-testid=alert]:not(.decided):has(form[data-testid=verify]), "
            "li[data-testid=alert]:not(.decided):has(form[data-testid=decide])"
        )
        if card is None:
            return
        seq = card.get_attribute("data-seq")
        verify = card.query_selector("form[data-testid=verify]")
        if verify is not None:
            verify.query_selector("input[name=is_true_match][value=true]").check()
            verify.query_selector("button[type=submit]").click()
            page.wait_for_selector(
                f"li[data-seq='{seq}'] form[data-testid=verify]", state="detached", timeout=30_000
            )
            return
        form = card.query_selector("form[data-testid=decide]")
        if form is None:
            return
        if form.query_selector("input[name=is_true_match][type=radio]"):
            form.query_selector("input[name=is_true_match][value=true]").check()
        form.query_selector("input[name=confirmed][value=true]").check()
        form.query_selector("select[name=outcome]").select_option(index=1)
        form.query_selector("textarea[name=note]").fill("Soak check decision")
        started = time.monotonic()
        form.query_selector("button[type=submit]").click()
        self.figures.decisions_made += 1
        try:
            page.wait_for_selector(
                f"li[data-seq='{seq}'] [data-testid=decision]:not(.pending)", timeout=30_000
            )
            self.figures.decisions_confirmed += 1
        finally:
            self.figures.page_times.append(("decision", time.monotonic() - started))

    def check_photo(self, photo: Path) -> None:
        page = self.pages["contributor"]
        started = time.monotonic()
        page.set_input_files("input[type=file][name=image]", str(photo))
        page.wait_for_function(
            # A function, not an expression string: strings are eval'd, which the CSP refuses.
            "() => !document.getElementById('verdict').textContent.startsWith('Checking')",
            timeout=60_000,
        )
        self.figures.page_times.append(("check", time.monotonic() - started))
        self.figures.checks += 1

    def plan(self) -> None:
        page = self.pages["command"]
        self._timed(page.goto, "/deployments/")
        link = page.locator("table a[href^='/deployments/']").first
        if link.count():
            self._timed(link.click)
            page.wait_for_load_state()

    def drain(self, seconds: float = 180) -> None:
        """Wait, as an officer would, until no decision is still saving or retrying: one
        confirmed late is slow, not lost; one the server never took is lost."""
        pages = [(u, page) for u in OFFICERS for page in self.consoles.get(u, [])]
        for username, page in pages:
            try:
                page.wait_for_function(
                    "() => !document.querySelector("
                    "'form[data-state=saving], form[data-state=retrying]')",
                    timeout=seconds * 1000,
                )
            except Exception as exc:  # noqa: BLE001 - still pending is counted as lost
                self.figures.crash_lines.append(f"{username}: decisions still pending ({exc})")

    def close(self) -> None:
        self.browser.close()


def photos() -> list[Path]:
    folder = Path(settings.LFR_DATA_DIR, "faces", "face_recognition", "examples")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})


def run(*, seconds: float, var_dir: Path | None, out) -> Figures:
    from playwright.sync_api import sync_playwright

    var_dir = Path(var_dir or tempfile.mkdtemp(prefix="lfr-soak-")).resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    figures = Figures()
    out.write(f"soak: var dir {var_dir}, {seconds:.0f} s\n")
    passwords = prepare(var_dir)
    server = Server(var_dir, figures)
    server.start()
    out.write(f"soak: lfr_demo at {server.url} (log {server.log})\n")
    since = time.time()
    images = photos()
    try:
        with sync_playwright() as playwright:
            browsers = Browsers(playwright, server, passwords, figures)
            try:
                try:
                    browsers.open()
                except Exception:
                    if server.alive_or_restart():
                        raise
                    browsers.close()  # the server died under us: counted, restarted
                    browsers = Browsers(playwright, server, passwords, figures)
                    browsers.open()
                deadline = time.monotonic() + seconds
                n = 0
                while time.monotonic() < deadline:
                    if not server.alive_or_restart():
                        browsers.close()
                        browsers = Browsers(playwright, server, passwords, figures)
                        browsers.open()
                    steps = [
                        (browsers.decide_one, "officer"),
                        (browsers.decide_one, "officer2"),
                        (browsers.check_photo, images[n % len(images)]),
                        (browsers.plan,),
                    ]
                    for fn, *args in steps:
                        try:
                            fn(*args)
                        except Exception as exc:  # noqa: BLE001 - a step failing is a finding
                            out.write(f"soak: step failed: {str(exc).splitlines()[0][:160]}\n")
                    n += 1
                browsers.drain()
            finally:
                browsers.close()
    finally:
        server.stop()
        server.scan_log()
    figures.decisions_saved = saved_decisions(var_dir, since)
    figures.alerts = alerts_per_camera(var_dir)
    return figures


def report(figures: Figures, out) -> None:
    out.write(
        f"crashes: {figures.crashes}\n"
        f"5xx responses: {figures.server_errors}\n"
        f"database is locked: {figures.locked}\n"
        f"decisions made: {figures.decisions_made} (confirmed on screen "
        f"{figures.decisions_confirmed}, saved {figures.decisions_saved}, "
        f"lost {figures.decisions_lost})\n"
        f"intake checks: {figures.checks}\n"
        f"alerts per camera: {figures.alerts}\n"
        f"p95 page time: {figures.p95('page'):.2f} s over {figures.count('page')} page loads "
        f"(logins {figures.p95('login'):.2f} s, decision saved and confirmed "
        f"{figures.p95('decision'):.2f} s, intake checks {figures.p95('check'):.2f} s)\n"
        f"orphan processes after Ctrl-C: {len(figures.orphans)}\n"
    )
    for line in figures.crash_lines[:20]:
        out.write(f"  crash: {line}\n")
    for line in figures.orphans:
        out.write(f"  orphan: {line}\n")
