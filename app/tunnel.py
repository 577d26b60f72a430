"""An ngrok tunnel (through pyngrok) so Twilio can reach a webhook server on this machine.

Twilio calls our webhooks from the internet, but a test run usually happens on a laptop or a CI
runner with no public address. When PUBLIC_URL is not set, a live run opens a tunnel to its local
port with the user's NGROK_AUTHTOKEN and closes it when the run ends, so nothing is left
listening (or billed) afterwards.

pyngrok is imported only here and only when a tunnel is opened: offline runs never need it, and
tests replace `pyngrok.ngrok` without touching the network.
"""
import logging

from app.errors import ConfigError

log = logging.getLogger(__name__)


class Tunnel:
    """An open tunnel: `public_url` forwards to the local port until `close()`."""

    def __init__(self, public_url, ngrok, config):
        self.public_url = public_url
        self._ngrok, self._config = ngrok, config
        self.closed = False

    def close(self):
        """Disconnect the tunnel and stop the ngrok agent pyngrok started; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        try:
            self._ngrok.disconnect(self.public_url, pyngrok_config=self._config)
        finally:
            self._ngrok.kill(pyngrok_config=self._config)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()


def open_tunnel(port, auth_token):
    """Open a tunnel to 127.0.0.1:`port` (ngrok 3 gives an https URL); a ConfigError says why
    when ngrok cannot."""
    if not auth_token:
        raise ConfigError("no public URL for Twilio's webhooks: set PUBLIC_URL to an address that "
                          "reaches this machine, or NGROK_AUTHTOKEN to open an ngrok tunnel")
    from pyngrok import conf, ngrok
    from pyngrok.exception import PyngrokError
    config = conf.PyngrokConfig(auth_token=auth_token)
    try:
        tunnel = ngrok.connect(str(port), "http", pyngrok_config=config)
    except PyngrokError as exc:
        _kill_quietly(ngrok, config)
        reason = str(exc).replace(auth_token, "***")   # ngrok quotes the token back
        raise ConfigError(f"could not open an ngrok tunnel to port {port} (check NGROK_AUTHTOKEN, "
                          f"or set PUBLIC_URL instead): {reason}") from None
    public_url = tunnel.public_url  # ngrok 3 serves http tunnels on https://
    log.info("ngrok tunnel %s -> 127.0.0.1:%s", public_url, port)
    return Tunnel(public_url, ngrok, config)


def _kill_quietly(ngrok, config):
    """Stop an agent that started but could not open the tunnel; its own error is reported."""
    try:
        ngrok.kill(pyngrok_config=config)
    except Exception:  # noqa: BLE001 - the connect error is the one worth showing
        log.debug("stopping ngrok after a failed connect also failed", exc_info=True)
