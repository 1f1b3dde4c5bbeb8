"""The database's own refusal to change a signed record (issue #5, item 4).

Services lock a signed meeting already; these PostgreSQL triggers also stop a write that
bypasses them (a shell, a crafted bulk update, a script run against the database). SQLite has
no such triggers here: there the service check is the guard, as DESIGN allows.
"""

from django.db import migrations

MEETING_CONTENT = (
    "mentorship_id, number, held_on, format, discussion, fellow_reflection, mentor_advice, "
    "pdp_agreed, submitted_at, submitted_by_id"
)
SIGNATURE = "signed_at, signed_by_id, digest"
MILESTONE_CONTENT = "mentorship_id, agreed_at_id, title, measure, due_on, objective_id"
SIGN_OFF_CONTENT = (
    "kind, meeting_id, milestone_id, signed_by_id, signed_at, method, content, digest"
)


def _row(prefix: str, columns: str) -> str:
    return "(" + ", ".join(f"{prefix}.{c.strip()}" for c in columns.split(",")) + ")"


CREATE = f"""
CREATE OR REPLACE FUNCTION pitwall_meeting_lock() RETURNS trigger AS $$
BEGIN
  IF OLD.status = 'signed' THEN
    IF TG_OP = 'DELETE' THEN
      RAISE EXCEPTION 'meeting record % is signed and cannot be deleted', OLD.uuid
        USING ERRCODE = 'check_violation';
    END IF;
    IF {_row("NEW", MEETING_CONTENT)} IS DISTINCT FROM {_row("OLD", MEETING_CONTENT)} THEN
      RAISE EXCEPTION 'meeting record % is signed and locked', OLD.uuid
        USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status = 'signed' AND {_row("NEW", SIGNATURE)} IS DISTINCT FROM {_row("OLD", SIGNATURE)}
    THEN
      RAISE EXCEPTION 'the signature of meeting record % cannot change', OLD.uuid
        USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status <> 'signed' AND EXISTS (
      SELECT 1 FROM mentoring_signoff
      WHERE meeting_id = OLD.id AND kind = 'meeting' AND reopened_at IS NULL
    ) THEN
      RAISE EXCEPTION 'signed meeting record % can only be reopened by programme staff', OLD.uuid
        USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mentoring_meeting_lock BEFORE UPDATE OR DELETE ON mentoring_meeting
  FOR EACH ROW EXECUTE FUNCTION pitwall_meeting_lock();

CREATE OR REPLACE FUNCTION pitwall_milestone_lock() RETURNS trigger AS $$
DECLARE
  meeting_id bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN meeting_id := NEW.agreed_at_id; ELSE meeting_id := OLD.agreed_at_id; END IF;
  IF EXISTS (SELECT 1 FROM mentoring_meeting WHERE id = meeting_id AND status = 'signed') THEN
    IF TG_OP = 'INSERT' OR TG_OP = 'DELETE' THEN
      RAISE EXCEPTION 'milestones agreed at a signed meeting cannot be added or removed'
        USING ERRCODE = 'check_violation';
    END IF;
    IF {_row("NEW", MILESTONE_CONTENT)} IS DISTINCT FROM {_row("OLD", MILESTONE_CONTENT)} THEN
      RAISE EXCEPTION 'milestone % was agreed at a signed meeting and is locked', OLD.uuid
        USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mentoring_milestone_lock BEFORE INSERT OR UPDATE OR DELETE ON mentoring_milestone
  FOR EACH ROW EXECUTE FUNCTION pitwall_milestone_lock();

CREATE OR REPLACE FUNCTION pitwall_review_lock() RETURNS trigger AS $$
DECLARE
  meeting_ids bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN meeting_ids := ARRAY[NEW.meeting_id];
  ELSIF TG_OP = 'DELETE' THEN meeting_ids := ARRAY[OLD.meeting_id];
  ELSE meeting_ids := ARRAY[OLD.meeting_id, NEW.meeting_id];
  END IF;
  IF EXISTS (SELECT 1 FROM mentoring_meeting WHERE id = ANY(meeting_ids) AND status = 'signed') THEN
    RAISE EXCEPTION 'milestone reviews of a signed meeting are locked'
      USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mentoring_review_lock BEFORE INSERT OR UPDATE OR DELETE ON mentoring_milestonereview
  FOR EACH ROW EXECUTE FUNCTION pitwall_review_lock();

CREATE OR REPLACE FUNCTION pitwall_sign_off_lock() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'sign-off % cannot be deleted', OLD.uuid USING ERRCODE = 'check_violation';
  END IF;
  IF {_row("NEW", SIGN_OFF_CONTENT)} IS DISTINCT FROM {_row("OLD", SIGN_OFF_CONTENT)}
     OR OLD.reopened_at IS NOT NULL THEN
    RAISE EXCEPTION 'sign-off % cannot change (only be reopened once)', OLD.uuid
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mentoring_sign_off_lock BEFORE UPDATE OR DELETE ON mentoring_signoff
  FOR EACH ROW EXECUTE FUNCTION pitwall_sign_off_lock();
"""

DROP = """
DROP TRIGGER IF EXISTS mentoring_sign_off_lock ON mentoring_signoff;
DROP TRIGGER IF EXISTS mentoring_review_lock ON mentoring_milestonereview;
DROP TRIGGER IF EXISTS mentoring_milestone_lock ON mentoring_milestone;
DROP TRIGGER IF EXISTS mentoring_meeting_lock ON mentoring_meeting;
DROP FUNCTION IF EXISTS pitwall_sign_off_lock();
DROP FUNCTION IF EXISTS pitwall_review_lock();
DROP FUNCTION IF EXISTS pitwall_milestone_lock();
DROP FUNCTION IF EXISTS pitwall_meeting_lock();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            # No parameters: the SQL has literal % signs (RAISE formats) and several statements.
            cursor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("mentoring", "0003_meetings_and_sign_offs")]

    operations = [migrations.RunPython(create, drop)]
