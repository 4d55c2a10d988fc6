"""The Celery application. Configuration lives in settings.py under the CELERY_ prefix.

Every task declares a stable name and its queue where it is defined::

    @shared_task(name="consent.expire_consents", queue_name="default", base=DjangoTask)

Nothing routes by module path, so moving a module renames no task that beat or a queue still
holds. The queue is ``queue_name``, not Celery's ``queue=``: Celery 5.7 deprecates routing
options set on tasks (they stop working in 6.0) in favour of the task_routes setting, and
``route_to_declared_queue`` below is that setting, fed from the tasks' own declarations.
"""

import os
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The project's own apps; their packages at any depth (portal.notices, portal.feeds, ...) may
# hold tasks.
PROJECT_APPS = ("portal", "consent", "recommendations")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")


def project_task_packages(root: Path = PROJECT_DIR) -> list[str]:
    """Every package of the project's apps, at any depth, that has a ``tasks`` module.

    Found on disk rather than by importing, so that nothing is imported before Django is set up.
    """
    packages = set()
    for app_name in PROJECT_APPS:
        app_dir = root / app_name
        # A tasks module is a tasks.py, or a tasks/ package once it grows.
        modules = [
            *app_dir.rglob("tasks.py"),
            *(p.parent for p in app_dir.rglob("tasks/__init__.py")),
        ]
        for module in modules:
            package_dir = module.parent
            if "migrations" in package_dir.parts or not (package_dir / "__init__.py").exists():
                continue
            packages.add(".".join(package_dir.relative_to(root).parts))
    return sorted(packages)


# Lazy: the worker and beat import them once Django is ready (app.loader.import_default_modules).
app.autodiscover_tasks(project_task_packages)


def route_to_declared_queue(
    name: str,
    args: Any,
    kwargs: Any,
    options: dict[str, Any],
    task: Task[Any, Any] | None = None,
    **extra: Any,
) -> dict[str, str] | None:
    """The task_routes router: a task goes to the queue it declares (``queue_name``).

    Celery hands it the registered task, also for ``send_task`` by name. An explicit
    ``apply_async(queue=...)`` still wins; a task unknown to the sending process goes to
    task_default_queue.
    """
    declared = getattr(task, "queue_name", None)
    return {"queue": declared} if declared else None


@worker_ready.connect
def _beat_once_on_start(sender: object, **kwargs: object) -> None:
    # A fresh worker reports itself at once instead of waiting for beat's first tick.
    from portal.infra.health import record_worker_heartbeat

    hostname = getattr(sender, "hostname", "") or ""
    record_worker_heartbeat(hostname=str(hostname))
