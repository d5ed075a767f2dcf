"""CAS auth class: passwords from the server's Django users, attributes from the harness config."""

import copy
import json
import os
from pathlib import Path
from typing import Any

from cas_server.auth import DjangoAuthUser


def configured_attributes() -> dict[str, dict[str, Any]]:
    """The ``attributes`` mapping in config.json (username -> attributes), read at each sign-in
    so a test can change what CAS releases (``CASServer.set_attributes``)."""
    config = json.loads((Path(os.environ["CAS_HARNESS_DIR"]) / "config.json").read_text())
    return config["attributes"]


class HarnessAuthUser(DjangoAuthUser):
    """Release exactly the configured attributes (multi-valued ones too), not the User fields.

    DjangoAuthUser would release every User model field, password hash included, and has no
    multi-valued fields such as ``affiliation``.
    """

    def attributs(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        return copy.deepcopy(configured_attributes().get(self.username, {}))
