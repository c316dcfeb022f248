from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Recognition"

    def ready(self):
        from core import users, work
        from recognition.selectors import waiting_for
        from recognition.services.alerts import consoles_recheck

        work.register(waiting_for)
        # dispatch_uid: ready() may run more than once (tests); one receiver all the same.
        users.access_changed.connect(consoles_recheck, dispatch_uid="recognition.consoles")
