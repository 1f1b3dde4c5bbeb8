from django.apps import AppConfig


class MentoringConfig(AppConfig):
    name = "mentoring"

    def ready(self):
        from pdp.access import register_mentor_lookups

        from .selectors import mentees_of, mentors_of

        register_mentor_lookups(mentors_of=mentors_of, mentees_of=mentees_of)

        from . import personal_data

        personal_data.register_all()
