"""Package list for setuptools (everything else is in pyproject.toml).

The board and chip layouts stay in the repository's top-level layouts/ (their source of truth) and ship as the
package `bundler.layouts`, so that editable, plain and wheel installs all find them with importlib.resources.
A pyproject `packages.find` cannot add a package from another folder, hence this file.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["bundler", "bundler.*"]), "bundler.layouts"],
    package_dir={"bundler.layouts": "layouts"},
)
