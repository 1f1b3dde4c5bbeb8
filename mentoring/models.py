"""Mentorships, the year's meetings, milestones and sign-offs (the mentoring issue)."""
