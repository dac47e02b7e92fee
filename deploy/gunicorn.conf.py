"""Gunicorn settings of the production profile: `gunicorn -c deploy/gunicorn.conf.py` serves `gateway.wsgi:app`.

Every value comes from an environment variable, with defaults fit for one machine:

| variable                        | default            | what                                                     |
|---------------------------------|--------------------|----------------------------------------------------------|
| `EPOLICY_HOST`, `EPOLICY_PORT`  | 127.0.0.1, 8080    | where to listen (0.0.0.0 behind a load balancer)          |
| `EPOLICY_WEB_WORKERS`           | CPUs available     | processes                                                |
| `EPOLICY_WEB_THREADS`           | 8                  | request threads per process (gthread)                    |
| `EPOLICY_WEB_TIMEOUT`           | 60                 | seconds a request may hold a worker before it is killed  |
| `EPOLICY_WEB_GRACEFUL_TIMEOUT`  | 30                 | seconds to finish requests on TERM                       |
| `EPOLICY_WEB_KEEPALIVE`         | 5                  | seconds an idle keep-alive connection is kept            |
| `EPOLICY_WEB_MAX_REQUESTS`      | 0 (never)          | requests after which a process is replaced (with jitter) |
| `EPOLICY_FORWARDED_ALLOW_IPS`   | 127.0.0.1,::1      | proxies whose X-Forwarded-Proto is believed              |
| `EPOLICY_LOG_LEVEL`             | INFO               | gunicorn's and the gateway's                             |
| `EPOLICY_LOG_FORMAT`            | json               | `json` lines or `text`                                   |

The gateway's own settings (`EPOLICY_DATABASE_URL`, `EPOLICY_RATELIMIT_STORAGE_URL`, ...) are read by the app.
The outbox is drained by `epolicy worker` processes started apart. Gunicorn's access log is off: the gateway
logs one line per request itself, with the route instead of the path (paths carry ЕНП).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use (a container's limit of cores)
    except AttributeError:
        return os.cpu_count() or 1


wsgi_app = "gateway.wsgi:app"
_host = os.environ.get("EPOLICY_HOST", "127.0.0.1")
bind = [f"[{_host}]:{_int('EPOLICY_PORT', 8080)}" if ":" in _host else f"{_host}:{_int('EPOLICY_PORT', 8080)}"]

# Threads: a request spends most of its time waiting for the fund or an insurer (SOAP), not on the CPU.
worker_class = "gthread"
workers = _int("EPOLICY_WEB_WORKERS", _cpus())
threads = _int("EPOLICY_WEB_THREADS", 8)
timeout = _int("EPOLICY_WEB_TIMEOUT", 60)
graceful_timeout = _int("EPOLICY_WEB_GRACEFUL_TIMEOUT", 30)
keepalive = _int("EPOLICY_WEB_KEEPALIVE", 5)
max_requests = _int("EPOLICY_WEB_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("EPOLICY_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Each process builds its own app after the fork: no database connection or zeep client crosses a fork.
preload_app = False
# The heartbeat file of each worker on tmpfs, so that a slow disk never makes a healthy worker look dead.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's advice for worker_tmp_dir; files there are made by mkstemp/mkdtemp
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
proc_name = "epolicy-gateway"
# gunicorn's control socket (25.1+) has one default path per user: two instances on a machine would share it.
control_socket_disable = True

accesslog = None
errorlog = "-"
loglevel = os.environ.get("EPOLICY_LOG_LEVEL", "INFO").lower()
_log_format = os.environ.get("EPOLICY_LOG_FORMAT", "json")
# gunicorn's own messages in the gateway's format, ids and personal data mask included; the app sets up the root
# logger itself (gateway/wsgi.py).
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": loglevel.upper(), "handlers": []},
    "formatters": {
        "json": {"()": "gateway.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "filters": {
        "context": {"()": "gateway.logs.ContextFilter"},
        "personal_data": {"()": "gateway.logs.PersonalDataFilter"},
    },
    "handlers": {
        "gunicorn": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": _log_format,
            "filters": ["context", "personal_data"],
        },
    },
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["gunicorn"], "propagate": False},
        # Off: its lines carry the raw path (an ЕНП in it); gateway.logs writes one line per request instead.
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}

# Prometheus counters of every process, added up at each scrape (gateway/metrics.py): a directory of their files.
_metrics_enabled = os.environ.get("EPOLICY_METRICS_ENABLED", "true").strip().lower() not in ("false", "0", "no")
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("EPOLICY_METRICS_DIR")
_CREATED = "EPOLICY_METRICS_DIR_CREATED"  # in the environment, since a reload (HUP) runs this file again


def on_starting(server: Any) -> None:
    """Before the first worker: the metrics directory, and a warning about settings unfit for several processes."""
    if _metrics_enabled:
        if _metrics_dir is None:
            directory = tempfile.mkdtemp(prefix="epolicy-metrics-", dir=worker_tmp_dir)
            os.environ[_CREATED] = directory
        else:
            directory = _metrics_dir
            Path(directory).mkdir(parents=True, exist_ok=True)
            for stale in Path(directory).glob("*.db"):
                stale.unlink()  # an earlier run's counts would be added to this one's
        # Read by prometheus_client when a worker imports it; workers inherit the environment at the fork.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        server.log.info("metrics of every process in %s", directory)
    if workers > 1 and not os.environ.get("EPOLICY_RATELIMIT_STORAGE_URL"):
        server.log.warning(
            "%d processes count rate limits apart: set EPOLICY_RATELIMIT_STORAGE_URL=redis://... to share them",
            workers,
        )


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: drop its live gauges (its counters stay, as Prometheus expects of counters)."""
    if _metrics_enabled and "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    """Remove the metrics directory this server made (one named by the environment is kept)."""
    created = os.environ.get(_CREATED)
    if created:
        shutil.rmtree(created, ignore_errors=True)
