"""gunicorn settings for scripts/serve.sh: each web worker loads the coordination index when it starts (in the
background), so the first submission it serves does not wait for the index to be built.
SHAFAF_COORDINATION_WARM_UP=0 leaves the load to the first check."""

import os


def post_fork(server, worker):
    if os.environ.get("SHAFAF_COORDINATION_WARM_UP", "1") == "0":
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from shafaf.coordination.online import warm_up

    warm_up()
