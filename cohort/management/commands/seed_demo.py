from django.core.management.base import BaseCommand

from cohort.demo import (
    DEMO_API_KEY,
    DEMO_PASSWORD,
    FELLOW_EMAIL,
    MENTOR_EMAIL,
    OPERATOR_EMAIL,
    STAFF_EMAIL,
    seed_demo,
)


class Command(BaseCommand):
    help = "Load the demo programmes (cep and accel) and demo logins. Safe to run again."

    def handle(self, *args, **options):
        summary = seed_demo(stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {summary.programmes} programmes, {summary.fellows} fellows, "
                f"{summary.mentors} mentors ({summary.created_users} new accounts)."
            )
        )
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for role, email in [
            ("Programme staff (CEP)", STAFF_EMAIL),
            ("Mentor (CEP and Accelerator)", MENTOR_EMAIL),
            ("Fellow (CEP)", FELLOW_EMAIL),
            ("Platform operator (admin)", OPERATOR_EMAIL),
        ]:
            self.stdout.write(f"  {role:<30} {email}")
        self.stdout.write("Open http://127.0.0.1:8000/ and sign in.")
        self.stdout.write(
            "Anyone signed in downloads their own data at /accounts/data/ (Account, Your data)."
        )
        self.stdout.write(
            "A former fellow of the accelerator was erased at their request: sign in as "
            "staff@accel.example and open /p/accel/audit/, or see Users in the admin."
        )
        self.stdout.write("")
        self.stdout.write("Partner API key (AstraZeneca in cep, every scope):")
        self.stdout.write(f"  {DEMO_API_KEY}")
        self.stdout.write(
            f'  curl -H "Authorization: Api-Key {DEMO_API_KEY}" http://127.0.0.1:8000/api/v1/programme/'
        )
