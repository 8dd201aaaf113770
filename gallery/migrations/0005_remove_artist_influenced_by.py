# Artist.influenced_by was never read: influences are read through the Influence rows
# (gallery.selectors.artist_influences). Removing a many-to-many with `through` changes no table.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0004_upload_lease"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="artist",
            name="influenced_by",
        ),
    ]
