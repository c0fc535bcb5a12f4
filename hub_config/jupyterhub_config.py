# JupyterHub configuration of the platform. Everything is read from the settings file
# (hub_config/settings.yaml, or the file named by $AUTOFORMATION_CONFIG) by autoformation.hub.
from autoformation.hub import configure

configure(c)  # noqa: F821 (`c` is provided by JupyterHub)
