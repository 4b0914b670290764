"""Tables, migrations and repositories (see each module).

Importing the package registers the hooks that keep the search documents current
(``storage/search.py``), whichever module a caller imports first.
"""

from storage import search as _search  # noqa: F401
