"""Cloud vendors that speak the OpenAI chat protocol (OpenAI, DeepSeek, DashScope, Zhipu, Moonshot): their key
from the configuration, their URL (or API_URL_REDIRECT's), through PROXIES."""

from __future__ import annotations

from ..errors import AuthFailed, BackendUnreachable, LLMError
from ..model_spec import ModelSpec
from ..providers import CLOUD_VENDORS
from ..servers import Server
from .base import Found, ModelEntry
from .openai_compat import Endpoint, OpenAIProtocol, redirected
from .problems import no_key


class CloudBackend(OpenAIProtocol):
    """One backend for every cloud vendor; a gate per vendor."""

    label = "cloud"
    group = "cloud"

    def endpoint(self, spec: ModelSpec, server: Server | None = None) -> Endpoint:
        vendor = next(v for v in CLOUD_VENDORS if v.name == spec.provider)
        base = redirected(vendor.base_url, self.config["API_URL_REDIRECT"]) or vendor.base_url
        return Endpoint(base, vendor.label, self.config[vendor.key_setting], vendor.key_setting)

    def check_ready(self, spec: ModelSpec, endpoint: Endpoint) -> None:
        if not endpoint.api_key:
            raise AuthFailed(
                en=f"{spec.base} needs a key: set {endpoint.key_setting} in config_private.py.",
                zh=f"{spec.base} 需要密钥：请在 config_private.py 中设置 {endpoint.key_setting}。",
            )

    def unreachable(self, spec: ModelSpec, endpoint: Endpoint) -> LLMError:
        return BackendUnreachable(
            en=f"Cannot reach {endpoint.label} at {endpoint.base_url}: check the network, or set PROXIES.",
            zh=f"无法连接 {endpoint.label}（{endpoint.base_url}）：请检查网络，或设置 PROXIES 代理。",
        )

    def urls(self, spec: ModelSpec) -> list[str]:
        """A vendor is one server (one gate), named by the vendor."""
        return [spec.provider]

    def describe(self, text: str, spec: ModelSpec, found: Found, down: dict[str, str], probed: bool) -> ModelEntry:
        endpoint = self.endpoint(spec)
        if endpoint.api_key:
            return ModelEntry(text, "cloud", "configured", None, endpoint.label)
        detail = f"{endpoint.label}: no key, set {endpoint.key_setting}"
        return ModelEntry(text, "cloud", "configured", None, detail, problem=no_key(endpoint.key_setting))
