"""A real RTSP camera for tests and benchmarks: GStreamer's gst-rtsp-server playing a clip looped.

Run with Debian's Python (python3-gi belongs to /usr/bin/python3, not to the venv):

    /usr/bin/python3 tools/rtsp_server.py --port 8554 --clip clip.mp4 --mounts cam1,cam2

Each mount is a live camera: the clip's H.264 is re-timed and fed at real time through an
appsrc, and looped (a seek on end of stream) with time running on, as a camera's does. It
prints "ready <port>" once it listens. Nothing of Django is imported.
"""

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


class LoopFeed:
    """Reads the clip's H.264 at real time and pushes it into one media's appsrc, looped."""

    def __init__(self, clip, appsrc):
        self.appsrc = appsrc
        self.offset = 0  # running time added to each loop's timestamps
        self.last_end = 0
        self.pipeline = Gst.parse_launch(
            f'filesrc location="{clip}" ! qtdemux ! h264parse config-interval=-1 ! '
            "video/x-h264,stream-format=byte-stream,alignment=au ! "
            "appsink name=sink sync=true emit-signals=true max-buffers=4 drop=false"
        )
        sink = self.pipeline.get_by_name("sink")
        sink.connect("new-sample", self.on_sample)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message::eos", self.on_eos)
        self.pipeline.set_state(Gst.State.PLAYING)

    def on_sample(self, sink):
        sample = sink.emit("pull-sample")
        buffer = sample.get_buffer().copy()
        if buffer.pts != Gst.CLOCK_TIME_NONE:
            buffer.pts += self.offset
            buffer.dts = buffer.pts
            self.last_end = max(self.last_end, buffer.pts + max(buffer.duration, 0))
        self.appsrc.emit("push-buffer", buffer)
        return Gst.FlowReturn.OK

    def on_eos(self, *args):
        self.offset = self.last_end
        self.pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)


class LoopFactory(GstRtspServer.RTSPMediaFactory):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip
        self.set_shared(True)
        self.set_launch(
            "( appsrc name=src is-live=true format=time "
            "caps=video/x-h264,stream-format=byte-stream,alignment=au ! "
            "h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        self.connect("media-configure", self.on_configure)

    def on_configure(self, factory, media):
        appsrc = media.get_element().get_by_name("src")
        feed = LoopFeed(self.clip, appsrc)
        media.connect("unprepared", lambda *a: feed.stop())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--clip", required=True)
    parser.add_argument("--mounts", default="cam")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for name in args.mounts.split(","):
        mounts.add_factory(f"/{name}", LoopFactory(args.clip))
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on port {args.port}")
    print(f"ready {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
