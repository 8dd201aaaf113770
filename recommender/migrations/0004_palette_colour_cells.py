from django.db import migrations, models


def fill_cells(apps, schema_editor) -> None:
    """Stored palette colours get their grid cell (recommender.colour.lab_cell; pure Python, no numpy)."""
    from recommender.colour import Lab, lab_cell

    ArtworkColour = apps.get_model("recommender", "ArtworkColour")
    rows = list(ArtworkColour.objects.only("id", "l", "a", "b"))
    for row in rows:
        row.cell = lab_cell(Lab(row.l, row.a, row.b))
    ArtworkColour.objects.bulk_update(rows, ["cell"], batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0003_upload_insights_fingerprints"),
    ]

    operations = [
        migrations.AddField(
            model_name="artworkcolour",
            name="cell",
            field=models.IntegerField(default=0),
        ),
        migrations.RunPython(fill_cells, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="artworkcolour",
            index=models.Index(fields=["cell"], name="artwork_colour_cell"),
        ),
    ]
