"""Domain events of the cohort app that later apps act on without cohort importing them
(dependencies point one way: cohort ← notifications). Sent inside the writing transaction."""

from django.dispatch import Signal

# Sent when an invitation is created or sent again: kwargs invitation.
invitation_issued = Signal()
# Sent when someone accepts an invitation: kwargs invitation, membership.
invitation_accepted = Signal()
# Sent when someone expresses interest in a call: kwargs application (they get the link to
# complete their application).
application_received = Signal()
# Sent when an applicant submits their application: kwargs application.
application_submitted = Signal()
