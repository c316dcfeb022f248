"""The recognition engine: plain Python over numpy, dlib (face_recognition) and OpenCV.

It never imports Django: it takes arrays and returns arrays, so it can be benchmarked
and reused alone.
"""

import functools
import warnings


class ModelsUnavailable(RuntimeError):
    """face_recognition or its models could not be loaded."""


@functools.cache
def face_api():
    """Import face_recognition safely and return the module.

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
    return face_recognition
