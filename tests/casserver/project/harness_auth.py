"""CAS auth class: passwords from the server's Django users, attributes from the harness config."""

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

from cas_server.auth import DjangoAuthUser


@functools.cache
def configured_attributes() -> dict[str, dict[str, Any]]:
    """The ``attributes`` mapping the harness passed in config.json (username -> attributes)."""
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
