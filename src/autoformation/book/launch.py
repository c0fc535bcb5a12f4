"""Sphinx extension: a "launch" button in each notebook page's header that opens it on the platform.

The theme's own JupyterHub button needs a GitHub repository to pull (nbgitpuller); on this platform the
material is already in every learner's home, so the link goes straight to the notebook there:
``<hub>/hub/user-redirect/lab/tree/<course>/<assignment>/<notebook>``. Pages and their home paths come
from the config value ``autoformation_launch`` ({"hub_url": ..., "pages": {pagename: home path}}).
"""

from __future__ import annotations

from urllib.parse import quote


def launch_url(hub_url: str, home_path: str) -> str:
    return f"{hub_url.rstrip('/')}/hub/user-redirect/lab/tree/{quote(home_path)}"


def _add_button(app, pagename, templatename, context, doctree):
    launch = app.config.autoformation_launch or {}
    home_path = launch.get("pages", {}).get(pagename)
    if not home_path or "header_buttons" not in context:
        return
    button = {
        "type": "link",
        "text": "Plateforme",
        "tooltip": "Ouvrir ce notebook sur la plateforme",
        "icon": "_static/images/logo_jupyterhub.svg",
        "url": launch_url(launch["hub_url"], home_path),
        "label": "launch-platform-button",
    }
    for group in context["header_buttons"]:
        if group.get("label") == "launch-buttons":
            group["buttons"].insert(0, button)
            return
    context["header_buttons"].append(
        {"type": "group", "tooltip": "Lancer", "icon": "fas fa-rocket", "buttons": [button], "label": "launch-buttons"}
    )


def setup(app):
    app.add_config_value("autoformation_launch", {}, "html")
    # After the theme has built its header buttons (priority 501).
    app.connect("html-page-context", _add_button, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
