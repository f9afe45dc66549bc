from django.apps import AppConfig


class NegotiationsConfig(AppConfig):
    name = "negotiations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from negotiations import dataversion, restore

        dataversion.connect_signals()
        restore.connect_signals()
