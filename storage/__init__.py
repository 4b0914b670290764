"""Tables, migrations and repositories (see each module).

Importing the package registers the hooks that keep the search documents current
(``storage/search_index.py``), whichever module a caller imports first.
"""

from storage import search_index as _search_index  # noqa: F401
