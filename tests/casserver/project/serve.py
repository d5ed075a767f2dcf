"""Run by tests.casserver inside .venv-cas: migrate, seed from config.json, serve CAS threaded.

Once listening it writes ready.json (with the bound port) next to config.json. It exits (removing
that directory) when the process that started it dies, so a killed test run leaves no orphan.
"""

import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import django

HOST = "127.0.0.1"


def seed(config: dict[str, Any]) -> None:
    """Create the users and the one service pattern that releases every configured attribute."""
    from cas_server.models import ReplaceAttributName, ServicePattern
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    for username, password in config["users"].items():
        attributes = config["attributes"].get(username, {})
        fields = {
            name: attributes[name]
            for name in ("email", "first_name", "last_name")
            if isinstance(attributes.get(name), str)
        }
        user_model.objects.create_user(username=username, password=password, **fields)
    pattern = ServicePattern.objects.create(
        name=config.get("service_name", "harness"),
        pattern=config["service_pattern"],
        restrict_users=False,
        proxy=True,
        proxy_callback=True,
        single_log_out=True,
        single_log_out_callback=config["slo_callback"],
    )
    ReplaceAttributName.objects.create(name="*", service_pattern=pattern)


def exit_with_parent(parent_pid: int, harness_dir: Path) -> None:
    """Clean up and exit as soon as the starting process is gone (we then get re-parented)."""
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    shutil.rmtree(harness_dir, ignore_errors=True)
    os._exit(0)


def main() -> None:
    harness_dir = Path(os.environ["CAS_HARNESS_DIR"])
    config = json.loads((harness_dir / "config.json").read_text())
    django.setup()

    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False)
    seed(config)
    server = ThreadedWSGIServer((HOST, config["port"]), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    parent_pid = int(os.environ.get("CAS_HARNESS_PARENT_PID", os.getppid()))
    threading.Thread(target=exit_with_parent, args=(parent_pid, harness_dir), daemon=True).start()
    ready = harness_dir / "ready.json"
    ready.with_suffix(".tmp").write_text(json.dumps({"port": server.server_address[1]}))
    ready.with_suffix(".tmp").replace(ready)
    print(f"CAS server listening on http://{HOST}:{server.server_address[1]}/cas/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
