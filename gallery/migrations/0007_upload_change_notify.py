"""A NOTIFY on `upload_<id>` whenever an upload's status, stage or progress changes, or it is deleted.

`gallery.upload_events` lets a status request wait for it instead of a client polling every 250 ms
(issue 19). In the database, so every writer (the worker's steps and leases, the sweep, a failure, a
deletion) is covered, and transactional: PostgreSQL sends it when the writing transaction commits.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION gallery_upload_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('upload_' || OLD.id, 'deleted');
  ELSE
    PERFORM pg_notify('upload_' || NEW.id, NEW.status);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER gallery_upload_changed AFTER UPDATE ON gallery_upload FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.stage IS DISTINCT FROM NEW.stage
        OR OLD.progress IS DISTINCT FROM NEW.progress)
  EXECUTE FUNCTION gallery_upload_notify();
CREATE TRIGGER gallery_upload_deleted AFTER DELETE ON gallery_upload FOR EACH ROW
  EXECUTE FUNCTION gallery_upload_notify();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS gallery_upload_changed ON gallery_upload;
DROP TRIGGER IF EXISTS gallery_upload_deleted ON gallery_upload;
DROP FUNCTION IF EXISTS gallery_upload_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("gallery", "0006_painting_framing")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
