"""Print the pinned dependencies of pyproject.toml, one per line (with extras named as args).

The project is an application, not a package: `make` installs its dependencies, not itself.
"""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
requirements = list(project["dependencies"])
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]
print("\n".join(requirements))
