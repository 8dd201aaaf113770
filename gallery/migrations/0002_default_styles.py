from django.db import migrations
from django.utils.text import slugify

from gallery.styles import STYLE_DESCRIPTIONS


def create_styles(apps, schema_editor) -> None:
    Style = apps.get_model("gallery", "Style")
    for name, description in STYLE_DESCRIPTIONS.items():
        Style.objects.update_or_create(name=name, defaults={"slug": slugify(name), "description": description})


class Migration(migrations.Migration):
    dependencies = [("gallery", "0001_initial")]
    operations = [migrations.RunPython(create_styles, migrations.RunPython.noop)]
