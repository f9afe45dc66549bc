from django.apps import AppConfig


class NegotiationsConfig(AppConfig):
    name = "negotiations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from negotiations.changelog import connect_signals

        connect_signals()
