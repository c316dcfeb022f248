"""The recognition engine: plain Python over numpy, dlib (face_recognition) and OpenCV.

It never imports Django: it takes arrays and returns arrays, so it can be benchmarked
and reused alone.

Threads: every call into dlib (the HOG detector, the shape predictors, the encoder, and
face_recognition's functions that use them) runs under one process-wide lock,
DLIB_LOCK. dlib's objects keep scratch state inside them and are not safe to call from
two threads at once; in the embedded default the web requests (the intake quality
check) and the stream worker share one process, and before the lock that crashed it
("double free or corruption", segmentation faults) or silently gave wrong encodings.
face_api() returns face_recognition with its dlib-backed functions wrapped in the lock;
faces.py takes it around its direct calls to the models. A lock rather than per-thread
model copies: measured on this 2-core machine, two threads with a detector each ran 12
HOG passes in 11.0 s against 10.3 s for two threads sharing one behind the lock (dlib's
Python binding gains nothing from a second thread), and per-thread copies would cost
~130 MB of models per worker thread. A forked child (prefork pool) gets the lock afresh.
"""

import functools
import os
import threading
import warnings

# Re-entrant, so a helper that holds it may call face_api() functions.
DLIB_LOCK = threading.RLock()
# A process forked while another thread held the lock (a prefork pool, multiprocessing)
# would start with it held forever; the child has its own copy of the models.
os.register_at_fork(after_in_child=DLIB_LOCK._at_fork_reinit)

# face_recognition functions that are plain numpy / Pillow and need no lock.
_NO_DLIB = frozenset({"face_distance", "compare_faces", "load_image_file"})


def dlib_locked(fn):
    """`fn` run under DLIB_LOCK."""

    @functools.wraps(fn)
    def locked(*args, **kwargs):
        with DLIB_LOCK:
            return fn(*args, **kwargs)

    return locked


class _LockedFaceApi:
    """face_recognition's module with every function that reaches dlib behind DLIB_LOCK."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if callable(value) and not isinstance(value, type) and name not in _NO_DLIB:
            value = dlib_locked(value)
        return value


class ModelsUnavailable(RuntimeError):
    """face_recognition or its models could not be loaded."""


@functools.cache
def face_api():
    """Import face_recognition safely; return it with its dlib calls behind DLIB_LOCK.

    On any import failure face_recognition prints a hint and calls quit(), which exits
    with status 0 and can make a broken install look green. Importing its models package
    ourselves first turns that into a real exception, and SystemExit is caught too.
    """
    try:
        with warnings.catch_warnings():
            # It imports pkg_resources (hence setuptools<82), which warns on every start.
            warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
            import face_recognition_models  # noqa: F401
    except Exception as exc:
        raise ModelsUnavailable(
            f"face_recognition_models cannot be imported ({type(exc).__name__}: {exc}); "
            "install it and keep setuptools below 82"
        ) from exc
    try:
        import face_recognition
    except (Exception, SystemExit) as exc:
        raise ModelsUnavailable(f"face_recognition cannot be imported: {exc!r}") from None
    return _LockedFaceApi(face_recognition)
