"""The campaign benchmark's engine mode: ``unefois campaign run`` as the coordinator that plans
and enqueues the batches, and N ``unefois worker`` processes that run them, on a fresh
PostgreSQL schema and a RabbitMQ namespace of the run's own (both removed at the end)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pika
import pika.exceptions

from bench._procs import cpu_seconds
from runtime.settings import SANDBOX_PORTS

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/%2F"
QUEUE_SUFFIXES = ("", ".DQ", ".XQ")
START_TIMEOUT = 300.0  # seconds; each worker opens its services before it consumes


def engine_env(base: dict[str, str], schema: str, namespace: str) -> dict[str, str]:
    """``base`` pointed at the run's schema and broker namespace. Each agency's timeout is
    10 s: a loaded machine must not turn a slow call into a person left unevaluated."""
    env = {
        **base,
        "UNEFOIS_DATABASE_URL": POSTGRES,
        "UNEFOIS_DATABASE_SCHEMA": schema,
        "UNEFOIS_BROKER_URL": RABBITMQ,
        "UNEFOIS_BROKER_NAMESPACE": namespace,
    }
    env |= {f"UNEFOIS_{name.upper()}_TIMEOUT": "10" for name in SANDBOX_PORTS}
    return env


async def _drop_schema(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


def _delete_queues(namespace: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ))
    try:
        channel = connection.channel()
        for suffix in QUEUE_SUFFIXES:
            channel.queue_delete(f"{namespace}.campaign_batches{suffix}")
    finally:
        connection.close()


def _consumers(namespace: str) -> int:
    """Consumers of the namespace's batch queue (0 while it does not exist)."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ))
    try:
        channel = connection.channel()
        name = f"{namespace}.campaign_batches"
        return int(channel.queue_declare(name, passive=True).method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        if connection.is_open:
            connection.close()


@dataclass
class Engine:
    """N ``unefois worker --processes 1`` processes on one schema and namespace."""

    workdir: Path
    workers: int
    threads: int
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, base: dict[str, str]) -> None:
        self.schema = "bench_campaign_" + uuid.uuid4().hex[:10]
        self.namespace = "bench_" + uuid.uuid4().hex[:10]
        # Workers log at INFO to say when they have started; the coordinator inherits it too.
        self.env = engine_env(base, self.schema, self.namespace) | {"UNEFOIS_LOG_LEVEL": "INFO"}
        command = [sys.executable, "-m", "cli.main", "worker", "--processes", "1"]
        command += ["--threads", str(self.threads)]
        for i in range(self.workers):
            log = self.workdir / f"worker{i}.log"
            with log.open("wb") as out:
                self.processes.append(
                    subprocess.Popen(  # noqa: S603 - our own interpreter and module
                        command,
                        env=self.env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + START_TIMEOUT
        # A worker consumes its queue once its services are open (Dramatiq starts its
        # consumers after the worker-boot hooks).
        while _consumers(self.namespace) < self.workers:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"unefois worker exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("unefois worker did not start")
            time.sleep(0.5)

    def cpu(self) -> float:
        """CPU seconds the workers have used so far."""
        return sum(cpu_seconds(p.pid) for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        with contextlib.suppress(OSError, pika.exceptions.AMQPError):
            _delete_queues(self.namespace)
        asyncio.run(_drop_schema(self.schema))


@contextlib.contextmanager
def engine(workdir: Path, base: dict[str, str], workers: int, threads: int) -> Iterator[Engine]:
    """Workers started on a fresh schema and namespace; stopped and both removed at the end."""
    running = Engine(workdir, workers, threads)
    try:
        running.start(base)
        yield running
    finally:
        running.stop()
