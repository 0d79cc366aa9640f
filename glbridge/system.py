"""The whole system as processes on localhost: what `glbridge up` and the tests run."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from glbridge.processes import ServiceProcess, stop_together
from shared.settings import DEV_OPS_TOKEN, DEV_POSTING_SERVICE_TOKEN, DEV_TOTALS_SERVICE_TOKEN


@dataclass(frozen=True)
class Credentials:
    totals: str = DEV_TOTALS_SERVICE_TOKEN
    posting: str = DEV_POSTING_SERVICE_TOKEN
    ops: str = DEV_OPS_TOKEN

    @classmethod
    def named(cls, prefix: str) -> "Credentials":
        """Three distinct credentials starting with `prefix` (tests and benchmarks)."""
        return cls(f"{prefix}-totals", f"{prefix}-posting", f"{prefix}-ops")

    def env(self) -> dict[str, str]:
        return {"TOTALS_SERVICE_TOKEN": self.totals, "POSTING_SERVICE_TOKEN": self.posting,
                "OPS_TOKEN": self.ops}

    def bearer(self, who: str) -> dict[str, str]:
        """The Authorization header of `who` (totals, posting or ops)."""
        return {"Authorization": f"Bearer {getattr(self, who)}"}


@dataclass(frozen=True)
class Ports:
    auth: int = 8001
    totals: int = 8002
    posting: int = 8003
    sandbox: int = 8010


@dataclass
class System:
    """Starts the Xero sandbox (unless real Xero is configured), auth, totals and posting."""

    ports: Ports
    database_url: str
    amqp_url: str
    namespace: str = "glbridge"
    # Each caller's credential (shared/settings.py): totals' and posting's to auth, the ops one.
    credentials: Credentials = field(default_factory=Credentials)
    with_sandbox: bool = True
    sandbox_control: bool = False
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # What the operator set (their environment and `.env`): wins over every default the
    # launcher would give its children, such as where a browser reaches auth.
    operator: Mapping[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.sandbox}"

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.auth}"

    @property
    def totals_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.totals}"

    @property
    def posting_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.posting}"

    def env(self) -> dict[str, str]:
        wired = {
            "DATABASE_URL": self.database_url,
            "AMQP_URL": self.amqp_url,
            "AMQP_NAMESPACE": self.namespace,
            **self.credentials.env(),
            "AUTH_PORT": str(self.ports.auth),
            "TOTALS_PORT": str(self.ports.totals),
            "POSTING_PORT": str(self.ports.posting),
            "SANDBOX_PORT": str(self.ports.sandbox),
        }
        defaults = {
            "AUTH_URL": self.auth_url,
            "AUTH_PUBLIC_URL": self.auth_url,
            "TOTALS_URL": self.totals_url,
            "POSTING_URL": self.posting_url,
        }
        if self.with_sandbox:
            defaults |= self.sandbox_env()
        given = {name: self.operator[name] for name in defaults if name in self.operator}
        return defaults | given | wired | dict(self.extra_env)

    @property
    def public_auth_url(self) -> str:
        return self.operator.get("AUTH_PUBLIC_URL") or self.auth_url

    def sandbox_env(self) -> dict[str, str]:
        callbacks = {
            f"{url.rstrip('/')}/v1/connect/callback"
            for url in (self.public_auth_url, self.auth_url,
                        self.auth_url.replace("127.0.0.1", "localhost"))
        }
        return {
            "XERO_ENV": "sandbox",
            "XERO_SANDBOX_URL": self.sandbox_url,
            "SANDBOX_REDIRECT_URIS": ",".join(sorted(callbacks)),
            "SANDBOX_CONTROL_ENABLED": "true" if self.sandbox_control else "false",
        }

    def service(self, name: str) -> ServiceProcess:
        if name not in self.processes:
            module, port = self._layout()[name]
            self.processes[name] = ServiceProcess(module, port, self.env(), self.log_dir)
        return self.processes[name]

    def _layout(self) -> dict[str, tuple[str, int]]:
        layout = {
            "auth": ("services.auth", self.ports.auth),
            "totals": ("services.totals", self.ports.totals),
            "posting": ("services.posting", self.ports.posting),
        }
        if self.with_sandbox:
            layout = {"xero-sandbox": ("services.xero_sandbox", self.ports.sandbox)} | layout
        return layout

    def names(self) -> list[str]:
        return list(self._layout())

    def start(self, timeout_s: float = 60.0) -> None:
        for name in self.names():
            self.service(name).spawn()
        for name in self.names():
            ready = "/healthz" if name == "xero-sandbox" else "/readyz"
            self.service(name).wait_ready(ready, timeout_s)

    def stop(self) -> None:
        stop_together(self.processes.values())

    def urls(self) -> dict[str, str]:
        return {name: self.service(name).url for name in self.names()}
