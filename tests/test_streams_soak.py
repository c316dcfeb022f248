"""soak_streams, briefly: real RTSP cameras, real stream workers, one SIGKILL; it reports."""

from io import StringIO

import pytest
from django.core.management import call_command

from recognition.models import StreamLease


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_soaks_two_workers_on_an_rtsp_camera_and_prints_its_figures():
    out = StringIO()
    call_command("soak_streams", minutes=1.0, kills=1, cameras=1, workers=2, stdout=out)
    text = out.getvalue()
    print(text)
    assert "frames in" in text and "kill 1: camera" in text
    lease = StreamLease.objects.get()
    assert lease.frames_in > 0 and lease.holder == ""  # read, then handed back at the end
