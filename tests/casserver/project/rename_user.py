"""Run by ``CASServer.rename_user`` inside .venv-cas: rename one user of the running server."""

import sys

import django


def main(old: str, new: str) -> int:
    django.setup()
    from django.contrib.auth import get_user_model

    return 0 if get_user_model().objects.filter(username=old).update(username=new) == 1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
