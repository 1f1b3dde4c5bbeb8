"""Email backends for the reliability tests only (a worker process loads them by dotted path)."""

import os
import time

from django.core.mail.backends.filebased import EmailBackend as FileBackend


class SlowFileBackend(FileBackend):
    """A file backend that says it has started sending, then takes its time.

    Before each batch it appends the messages' Message-IDs to the file named by
    PITWALL_TEST_MAIL_MARKER, then sleeps PITWALL_TEST_MAIL_DELAY seconds (default 60) and only
    then writes the messages to EMAIL_FILE_PATH. A test that sees the marker knows the worker is
    inside the send and can kill it before anything has been delivered.
    """

    def send_messages(self, email_messages):
        marker = os.environ.get("PITWALL_TEST_MAIL_MARKER")
        if marker:
            ids = " ".join(m.extra_headers.get("Message-ID", "?") for m in email_messages)
            with open(marker, "a") as stream:
                stream.write(f"{os.getpid()} {ids}\n")
        time.sleep(float(os.environ.get("PITWALL_TEST_MAIL_DELAY", "60")))
        return super().send_messages(email_messages)
