"""The Discord service's lifecycle: log in over HTTP (enough for cards and command sync), and
run the gateway connection until stopped, with back-off while Discord is unreachable."""
from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.chat import ChatError
from integrations.chat.discord.settings import DiscordSettings

log = logging.getLogger(__name__)


class Gateway:
    """Login and the gateway connection of one discord.py client."""

    def __init__(self, settings: DiscordSettings, client: discord.Client) -> None:
        self.settings = settings
        self.client = client
        self._logged_in = False
        self._login_lock = asyncio.Lock()

    async def login(self) -> None:
        """Log in over HTTP (GET /users/@me and the application): enough to send cards and
        sync commands; `serve` also opens the gateway. Safe to call more than once."""
        async with self._login_lock:
            if self._logged_in:
                return
            token = self.settings.token
            if token is None:
                raise ChatError("ECHTZEIT_DISCORD_TOKEN is not set", permanent=True)
            await self.client.login(token.get_secret_value())
            self._logged_in = True

    async def close(self) -> None:
        await self.client.close()

    async def serve(self, stop: asyncio.Event) -> None:
        """Run the gateway connection until `stop` is set. Discord unreachable at start is
        tried again with back-off; once connected, discord.py reconnects on its own. A refused
        token ends the service (logged): nothing but a new token can help."""
        delay = 1.0
        while not stop.is_set():
            try:
                await self.login()
                break
            except discord.LoginFailure:
                log.error("discord: the token was refused (ECHTZEIT_DISCORD_TOKEN); "
                          "Discord stays off until it is fixed")
                await self.client.close()
                return
            except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("discord: cannot log in (%s); trying again in %.0f s", exc, delay)
                # The next login opens a new HTTP session; its connector went with the old one.
                await self.client.http.close()
                self.client.http.connector = discord.utils.MISSING
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except TimeoutError:
                    pass
                delay = min(delay * 2, 60.0)
        if stop.is_set():
            await self.client.close()
            return
        await self._use_gateway_url()
        connection = asyncio.create_task(self.client.connect(reconnect=True),
                                         name="discord-gateway")
        stopped = asyncio.create_task(stop.wait(), name="discord-stop")
        try:
            await asyncio.wait({connection, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            await self.client.close()
            await asyncio.wait({connection})
        if connection.done() and not connection.cancelled() and connection.exception():
            raise connection.exception()  # type: ignore[misc]

    async def _use_gateway_url(self) -> None:
        # Discord's documented way to find the gateway is GET /gateway/bot; discord.py's
        # Client starts from the class attribute DiscordWebSocket.DEFAULT_GATEWAY instead, so
        # it is set from the answer (which also lets a test server hand out its own URL).
        try:
            _, url, _ = await self.client.http.get_bot_gateway()
        except discord.GatewayNotFound:
            log.warning("discord: GET /gateway/bot failed; using discord.py's default gateway")
            return
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
