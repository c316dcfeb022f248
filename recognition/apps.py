from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Recognition"

    def ready(self):
        from core import work
        from recognition.selectors import waiting_for

        work.register(waiting_for)
