"""Sign-in through Keycloak (or the embedded stand-in): OpenID Connect with oauthenticator.

Keycloak groups decide who may enter: the `groups` claim becomes JupyterHub groups
(`manage_groups`), only the learner, trainer and admin groups are allowed in, and the admin
group makes hub admins. Logout ends the Keycloak session too (end-session endpoint).
"""

from __future__ import annotations

import inspect
from urllib.parse import urlencode

from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import OAuthLoginHandler
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .settings import Settings

PROVIDER_DOWN = (
    "Le service d'identification ne répond pas pour le moment. Réessayez dans quelques minutes ; "
    "si le problème persiste, prévenez l'équipe de la plateforme."
)
NOT_ALLOWED = (
    "Votre compte est bien reconnu, mais il n'appartient à aucun groupe autorisé sur la plateforme "
    "(apprenants, formateurs ou administrateurs). Demandez à votre formateur ou à l'équipe de la "
    "plateforme de vous ajouter au bon groupe, puis reconnectez-vous."
)


class KeycloakLoginHandler(OAuthLoginHandler):
    """Say so in a readable page when the identity provider is down, instead of a browser error."""

    async def get(self):
        url = self.authenticator.authorize_url
        try:
            await AsyncHTTPClient().fetch(url, method="HEAD", request_timeout=3, raise_error=False)
        except (OSError, HTTPClientError) as err:
            self.log.warning("identity provider unreachable at %s: %s", url, err)
            raise web.HTTPError(503, PROVIDER_DOWN) from None
        result = super().get()  # a coroutine or not, depending on oauthenticator's version
        if inspect.isawaitable(result):
            await result


class KeycloakOAuthenticator(GenericOAuthenticator):
    login_handler = KeycloakLoginHandler

    async def httpfetch(self, req, *args, **kwargs):
        # Token and userinfo calls: a provider that is down is a 503 with a readable message.
        try:
            return await super().httpfetch(req, *args, **kwargs)
        except OSError as err:
            self.log.warning("identity provider unreachable: %s", err)
            raise web.HTTPError(503, PROVIDER_DOWN) from None


def configure_auth(c, settings: Settings) -> None:
    hub_url = settings.platform.url()
    endpoints = f"{settings.identity.issuer(settings.platform)}/protocol/openid-connect"
    groups = settings.groups

    c.JupyterHub.authenticator_class = KeycloakOAuthenticator
    a = c.KeycloakOAuthenticator
    a.login_service = "Keycloak"
    a.client_id = settings.identity.client_id
    a.client_secret = settings.client_secret()
    a.oauth_callback_url = f"{hub_url}/hub/oauth_callback"
    a.authorize_url = f"{endpoints}/auth"
    a.token_url = f"{endpoints}/token"
    a.userdata_url = f"{endpoints}/userinfo"
    # `groups` is Keycloak's client scope carrying the group membership mapper.
    a.scope = ["openid", "profile", "email", "groups"]
    a.username_claim = "preferred_username"
    a.manage_groups = True
    a.auth_state_groups_key = "oauth_user.groups"
    a.allowed_groups = {groups.learners, groups.trainers, groups.admins}
    a.admin_groups = {groups.admins}
    a.custom_403_message = NOT_ALLOWED
    a.logout_redirect_url = f"{endpoints}/logout?" + urlencode(
        {"client_id": settings.identity.client_id, "post_logout_redirect_uri": f"{hub_url}/hub/login"}
    )
