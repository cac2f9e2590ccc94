# The Python package over Reducto's C ABI. Pure Python (cffi's ABI mode loads
# libreducto.so.0 at import), so nothing is compiled here.
#
# Deliberately a setup.py without pyproject.toml: pip 23.0 then builds with the
# setuptools and wheel already installed (Debian's, visible in a venv made with
# --system-site-packages), so `pip install ./python` works offline. With a
# pyproject.toml it would make an isolated build environment and try to download
# setuptools (unless given --no-build-isolation).
from setuptools import setup

setup(
    name="reducto",
    version="0.1.0",
    description="Compress files against a shared reference corpus (bindings over "
                "Reducto's C ABI)",
    packages=["reducto"],
    python_requires=">=3.9",
    install_requires=["cffi>=1.15"],
)
