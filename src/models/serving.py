"""Serve a registered model with `mlflow models serve` on loopback and score DataFrames over HTTP."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

LOOPBACK = "127.0.0.1"
# loopback requests must never go through an HTTP(S)_PROXY from the environment
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerError(RuntimeError):
    """The model server exited, never became healthy or refused a request."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def scripts_dir() -> Path:
    """The folder of this interpreter's console scripts (`.venv/bin`), where `uvicorn` is installed."""
    return Path(sys.executable).parent


def serve_command(model_uri: str, port: int, host: str = LOOPBACK, workers: int = 1) -> list[str]:
    """`python -m mlflow models serve` in this interpreter's environment (no conda/virtualenv)."""
    return [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


@dataclass
class ModelServer:
    """A running `mlflow models serve` process group and where it answers."""

    process: subprocess.Popen
    url: str
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's combined stdout/stderr."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "<no server log>"

    def wait_until_healthy(self, timeout_s: float = 120.0) -> None:
        """Poll GET /ping until it answers 200; raise with the log tail if the server dies or times out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise ServerError(f"model server exited with code {code}:\n{self.log_tail()}")
            try:
                with _OPENER.open(f"{self.url}/ping", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not listening yet
            time.sleep(0.5)
        raise ServerError(
            f"model server not healthy after {timeout_s:.0f} s at {self.url}:\n{self.log_tail()}"
        )

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the whole process group (the CLI and its uvicorn child), SIGKILL after `grace_s`."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace_s)
        # uvicorn workers may outlive the CLI process that led the group
        _signal_group(self.process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace_s)


def start_server(
    model_uri: str,
    tracking_uri: str,
    log_path: Path,
    port: int | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> ModelServer:
    """Start serving `model_uri` from the store at `tracking_uri` on a loopback port; do not wait."""
    port = port or free_port()
    environment = {**(os.environ if env is None else env), "MLFLOW_TRACKING_URI": tracking_uri}
    # the CLI starts a bare `uvicorn` from PATH: take this environment's, even when it is not activated
    environment["PATH"] = os.pathsep.join(filter(None, [str(scripts_dir()), environment.get("PATH")]))
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            serve_command(model_uri, port),
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches uvicorn too
        )
    return ModelServer(process=process, url=f"http://{LOOPBACK}:{port}", log_path=log_path)


@contextmanager
def serving(
    model_uri: str,
    tracking_uri: str,
    log_path: Path,
    timeout_s: float = 120.0,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[ModelServer]:
    """Start a server, wait until it is healthy, and always stop its process group on exit."""
    server = start_server(model_uri, tracking_uri, log_path, cwd=cwd, env=env)
    try:
        server.wait_until_healthy(timeout_s)
        yield server
    finally:
        server.stop()


def post_frame(url: str, frame: pd.DataFrame, timeout_s: float = 60.0) -> pd.DataFrame:
    """POST `frame` to `<url>/invocations` as `dataframe_split` and return the predictions as a frame."""
    return post_json(url, {"dataframe_split": frame_payload(frame)}, timeout_s)


def post_json(url: str, payload: dict, timeout_s: float = 60.0) -> pd.DataFrame:
    """POST a JSON body as given (plain numbers, nulls) to `<url>/invocations`; predictions as a frame."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=timeout_s) as answer:
            answered = json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", errors="replace")[:2000]
        raise ServerError(f"POST {url}/invocations -> HTTP {err.code}: {detail}") from None
    return pd.DataFrame(answered["predictions"])


def frame_payload(frame: pd.DataFrame) -> dict:
    """`{"columns": [...], "data": [[...]]}` with native Python values and null for missing ones.

    Unlike `DataFrame.to_json` (10 significant digits by default), floats keep full precision.
    """
    split = frame.to_dict(orient="split", index=False)
    data = [[None if _missing(v) else v for v in row] for row in split["data"]]
    return {"columns": [str(c) for c in split["columns"]], "data": data}


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(pid, sig)
