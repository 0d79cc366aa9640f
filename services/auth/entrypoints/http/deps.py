"""Reaching the wired objects from a request."""

from fastapi import Request

from services.auth.service_layer.connect import ConnectFlow
from services.auth.service_layer.vault import Vault


def vault(request: Request) -> Vault:
    value: Vault = request.app.state.vault
    return value


def flow(request: Request) -> ConnectFlow:
    value: ConnectFlow = request.app.state.flow
    return value
