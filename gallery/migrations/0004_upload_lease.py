# Pipeline leases on uploads (recommender.pipeline.upload_claim) and an index for the stale-claim sweep.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0003_living_catalogue_jobs_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="upload",
            name="claim_token",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="upload",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="upload",
            index=models.Index(
                condition=models.Q(("status__in", ["queued", "running"])),
                fields=["updated_at"],
                name="upload_unfinished_updated",
            ),
        ),
    ]
