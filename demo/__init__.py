"""A demo site that signs in through a real local CAS server: ``python -m demo`` (or ``make demo``).

``demo.__main__`` starts the CAS server of ``tests.casserver`` and this site (``demo.serve``) and
stops both on Ctrl-C; ``demo.signals`` holds the signal receivers whose calls the home page shows.
"""
