"""The demo site's own process, started by ``python -m demo``: migrate, then serve threaded.

Threaded, because the CAS server's back-channel Single Logout POST arrives while the browser's
request to the CAS logout page is still waiting. Exits when the process that started it dies.
"""

import os
import sys
import threading
import time

#: Printed once the socket listens; ``demo.__main__`` waits for it.
READY = "demo-site-ready"


def exit_with_parent(parent_pid: int) -> None:
    """Exit as soon as the starting process is gone (we then get re-parented)."""
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(0)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    parent_pid = int(os.environ.get("DEMO_PARENT_PID") or os.getppid())
    threading.Thread(target=exit_with_parent, args=(parent_pid,), daemon=True).start()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

    import django

    django.setup()

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False, skip_checks=False)
    server = ThreadedWSGIServer((host, port), WSGIRequestHandler)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    print(READY, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
