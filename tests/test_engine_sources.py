"""Video sources: files stay inside their root, network failures are reported clearly."""

import itertools

import pytest

from recognition.engine.netguard import Policy
from recognition.engine.sources import SourceError, backoff_delays, open_source
from tests.helpers import faces

CLIP = faces("examples", "short_hamilton_clip.mp4")
ROOT = CLIP.parent
LOOPBACK = Policy(allow_loopback=True)  # nothing listens on port 9 of this host


@pytest.mark.parametrize(
    "url", ["../../../../../etc/passwd", "/etc/passwd", "file:///etc/hostname", "../LICENSE"]
)
def test_it_refuses_paths_outside_the_root(url):
    with pytest.raises(SourceError, match="outside the allowed camera file folder"):
        open_source(url, file_root=ROOT)


def test_it_refuses_a_missing_file():
    with pytest.raises(SourceError, match="does not exist"):
        open_source("nope.mp4", file_root=ROOT)


def test_it_refuses_a_file_that_is_not_video():
    with pytest.raises(SourceError, match="cannot decode"):
        open_source("LICENSE", file_root=ROOT.parent)


def test_it_refuses_an_unsupported_scheme():
    with pytest.raises(SourceError, match="unsupported source scheme 'ftp'"):
        open_source("ftp://127.0.0.1/cam", file_root=ROOT)


def test_it_reports_an_unreachable_stream_clearly():
    # One message whatever the cause (issue 14.2: last_error is no port-probe oracle).
    with pytest.raises(SourceError, match=r"^http://127\.0\.0\.1:9/ is unreachable$"):
        open_source("http://127.0.0.1:9/", file_root=ROOT, policy=LOOPBACK)


def test_it_keeps_credentials_out_of_messages():
    with pytest.raises(SourceError) as caught:
        open_source("rtsp://officer:s3cret@127.0.0.1:9/live", file_root=ROOT, policy=LOOPBACK)
    assert "s3cret" not in str(caught.value)
    assert "rtsp://127.0.0.1:9/live" in str(caught.value)


def test_it_reads_a_file_in_order_from_a_start_frame():
    with open_source(CLIP.name, file_root=ROOT, start_frame=270) as source:
        assert source.fps == pytest.approx(29.97, abs=0.01)
        assert not source.live
        numbers = []
        while (item := source.read()) is not None:
            numbers.append(item[0])
            assert item[1].shape == (360, 640, 3)
    assert numbers == [270, 271, 272, 273, 274]


def test_it_grabs_without_decoding_when_asked():
    with open_source(str(CLIP), file_root=ROOT) as source:
        assert source.read(decode=False) == (0, None)
        assert source.read()[0] == 1


def test_it_loops_a_file_with_growing_frame_numbers():
    with open_source(CLIP.name, file_root=ROOT, start_frame=273, loop=True) as source:
        numbers = [source.read(decode=False)[0] for _ in range(4)]
        assert numbers == [273, 274, 275, 276]
        assert source.position == 2  # the file restarted: a successor resumes at frame 2


def test_it_backs_off_exponentially_with_jitter_up_to_a_cap():
    delays = list(itertools.islice(backoff_delays(base=1.0, cap=30.0), 12))
    assert 0.5 <= delays[0] <= 1.0
    assert 2.0 <= delays[2] <= 4.0
    assert all(15.0 <= d <= 30.0 for d in delays[6:])
    assert len(set(delays)) == len(delays)  # jittered
