# The set-up cell that tools/nbbuild.py puts first in every notebook (it is not a notebook
# itself). The builder replaces @REPOSITORY_URL@ with [project.urls] Repository of pyproject.toml.

# %%
# Set-up. On Google Colab this fetches and installs the course library with its shipped
# encoders (once per runtime); anywhere else it does nothing. You never need to edit it.
import importlib, importlib.util, os, subprocess, sys

REPO_URL = "@REPOSITORY_URL@"
if "google.colab" in sys.modules or any(k.startswith("COLAB_") for k in os.environ):
    if importlib.util.find_spec("skelcl_lib") is None:
        if not os.path.isdir("skelcl"):
            subprocess.run(["git", "clone", "--depth", "1", REPO_URL, "skelcl"], check=True)
        # Colab already has the libraries the course uses: --no-deps keeps its versions
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "./skelcl"], check=True)
        importlib.invalidate_caches()
    print("Colab: the course library is installed")
else:
    print("Not on Colab: nothing to set up")
