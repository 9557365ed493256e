"""A throwaway three-node RabbitMQ cluster on this machine, for the node-loss tests.

The machine's own RabbitMQ (`rabbit@localhost`, port 5672) is left alone. Each extra
node gets its own node name (`pq1@localhost`…), AMQP port, distribution port, config
file, data and log folders under a work folder owned by the `rabbitmq` user, and
shares that user's Erlang cookie (so `rabbitmqctl -n pq1@localhost` reaches it). Nodes
2 and 3 join node 1 with `rabbitmqctl join_cluster`. The helper can `kill -9` a node,
start it again on the same data (it rejoins the cluster by itself), pause it with
SIGSTOP (nothing answers: its peers and clients see it as cut off) and resume it.
Partition handling is `autoheal`.

    with RabbitCluster(workdir) as cluster:   # start() on enter, destroy() on exit
        cluster.urls                          # ["amqp://guest:guest@127.0.0.1:P1//", …]
        cluster.kill(cluster.leader_of("q"))
        cluster.start_node(...)

What it takes (measured, docs/DEPLOYMENT.md): 3 × ~150 MB of memory and about 15–25 s
to start and cluster on a 2-core machine; ports are picked free at start. Needs root
(to act as the `rabbitmq` user) and the Debian rabbitmq-server package.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SBIN = Path("/usr/lib/rabbitmq/bin")
# Fewer busy-waiting schedulers: three extra Erlang VMs share 2 cores with the tests.
# net_ticktime stays at its 60 s default: quorum queues notice a silent member by Raft's
# own failure detector within seconds, and a pause shorter than the tick time does not
# become a Mnesia partition. (Tried with 10 s and a 25 s pause: under pause_minority the
# resumed node stayed partitioned for minutes; under autoheal it restarted itself but
# waited >= 60 s for the winner. docs/DEPLOYMENT.md.)
ERL_ARGS = "+sbwt none +sbwtdcpu none +sbwtdio none"


def available() -> str | None:
    """None if this machine can run the cluster, else why not."""
    if os.geteuid() != 0:
        return "needs root (the nodes run as the rabbitmq user)"
    if not (SBIN / "rabbitmq-server").exists():
        return "the rabbitmq-server package is not installed"
    try:
        pwd.getpwnam("rabbitmq")
    except KeyError:
        return "no rabbitmq user"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Node:
    name: str  # pq1@localhost
    amqp_port: int
    dist_port: int
    home: Path
    proc: subprocess.Popen | None = None
    paused: bool = False
    log: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}//"

    @property
    def pid_file(self) -> Path:
        return self.home / "beam.pid"

    def beam_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int(self.pid_file.read_text().strip())
        return None


class RabbitCluster:
    """Three (or `size`) clustered RabbitMQ nodes; see the module's docstring."""

    def __init__(self, workdir: Path, size: int = 3, tag: str = "pq") -> None:
        self.workdir = Path(workdir)
        self.uid = pwd.getpwnam("rabbitmq").pw_uid
        self.gid = pwd.getpwnam("rabbitmq").pw_gid
        suffix = os.urandom(2).hex()
        self.nodes = [Node(f"{tag}{i + 1}{suffix}@localhost", _free_port(), _free_port(),
                           self.workdir / f"{tag}{i + 1}") for i in range(size)]
        self.startup_s: float | None = None

    # -- life cycle ---------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        began = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chown(self.workdir, self.uid, self.gid)
        for node in self.nodes:
            self._prepare(node)
            self._spawn(node)
        for node in self.nodes:
            self.wait_running(node, timeout)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app")
        self.wait_cluster(timeout)
        self.startup_s = round(time.monotonic() - began, 1)

    def heal(self, timeout: float = 90.0) -> None:
        """Every node running and clustered again: resume the paused, restart the
        killed; a node still outside the cluster after `timeout` is restarted too."""
        for node in self.nodes:
            self.resume(node)
            if node.proc is None or node.proc.poll() is not None:
                self.restart(node)
        try:
            self.wait_cluster(timeout)
        except TimeoutError:
            for node in self.nodes[1:]:
                self.kill(node)
                self.restart(node)
            self.wait_cluster(timeout)

    def destroy(self) -> None:
        """Kill every node and remove its files; safe to call more than once."""
        for node in self.nodes:
            self._hard_stop(node)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RabbitCluster:
        try:
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    # -- faults -------------------------------------------------------------------------

    def kill(self, node: Node) -> None:
        """kill -9 the node's Erlang VM: no goodbye to its peers, no flush of its disk."""
        self.resume(node)
        pid = node.beam_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if node.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.proc.wait(15)
            self._hard_stop(node)
        node.pid_file.unlink(missing_ok=True)

    def restart(self, node: Node, timeout: float = 120.0) -> float:
        """Start a killed node on its old data; returns seconds until it runs again."""
        began = time.monotonic()
        self._spawn(node)
        self.wait_running(node, timeout)
        return round(time.monotonic() - began, 1)

    def pause(self, node: Node) -> None:
        """SIGSTOP the VM: it holds its sockets but answers nothing, like a partition."""
        pid = node.beam_pid()
        if pid is not None:
            os.kill(pid, signal.SIGSTOP)
            node.paused = True

    def resume(self, node: Node) -> None:
        pid = node.beam_pid()
        if node.paused and pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        node.paused = False

    # -- questions ----------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def failover_url(self) -> str:
        """PREDICTQ_BROKER_URL for the whole cluster: kombu's `;`-separated list."""
        return ";".join(self.urls)

    def node_named(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def running_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.proc is not None and n.proc.poll() is None
                and not n.paused]

    def ctl(self, node: Node, *args: str, timeout: float = 60.0, check: bool = True
            ) -> str:
        """`rabbitmqctl -n <node> …` as the rabbitmq user; its stdout."""
        return self._cli("rabbitmqctl", node, *args, timeout=timeout, check=check)

    def queues(self, via: Node | None = None) -> dict[str, dict[str, str]]:
        """{queue: {type, leader, messages}} as a running node reports them."""
        via = via or self.running_nodes()[0]
        out = self.ctl(via, "list_queues", "-q", "--no-table-headers", "name", "type",
                       "leader", "messages")
        rows = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) == 4:
                rows[parts[0]] = {"type": parts[1], "leader": parts[2],
                                  "messages": parts[3]}
        return rows

    def leader_of(self, queue: str, via: Node | None = None) -> Node:
        return self.node_named(self.queues(via)[queue]["leader"])

    def wait_running(self, node: Node, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.proc is not None and node.proc.poll() is not None:
                raise RuntimeError(f"{node.name} exited: see {node.home / 'log'}")
            if self._cli("rabbitmq-diagnostics", node, "check_running", timeout=30,
                         check=False, quiet=True) is not None:
                return
            time.sleep(0.5)
        raise TimeoutError(f"{node.name} not running after {timeout:.0f} s")

    def wait_cluster(self, timeout: float = 120.0) -> None:
        """Until the first running node sees every node running."""
        deadline = time.monotonic() + timeout
        want = {node.name for node in self.nodes}
        while time.monotonic() < deadline:
            out = self.ctl(self.running_nodes()[0], "cluster_status", "--formatter",
                           "json", check=False)
            names = set(re.findall(r'"running_nodes":\[([^\]]*)\]', out or "")[:1] or [""])
            found = set(re.findall(r'"([^"]+@[^"]+)"', next(iter(names))))
            if want <= found:
                return
            time.sleep(0.5)
        raise TimeoutError(f"the cluster did not form in {timeout:.0f} s")

    # -- plumbing -----------------------------------------------------------------------

    def _prepare(self, node: Node) -> None:
        for sub in ("", "mnesia", "log"):
            (node.home / sub).mkdir(parents=True, exist_ok=True)
        (node.home / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{node.amqp_port}\n"
            "cluster_partition_handling = autoheal\n"
            "loopback_users.guest = true\n")
        (node.home / "enabled_plugins").write_text("[].\n")
        # Our own env file: the machine's names rabbit@localhost as the node.
        (node.home / "rabbitmq-env.conf").write_text("")
        for path in [node.home, *node.home.rglob("*")]:
            os.chown(path, self.uid, self.gid)

    def _env(self, node: Node) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": "/var/lib/rabbitmq",  # its .erlang.cookie: the cluster's shared secret
            "LANG": "C.UTF-8",
            "RABBITMQ_CONF_ENV_FILE": str(node.home / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(node.amqp_port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_CONFIG_FILE": str(node.home / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(node.home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node.home / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.home / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(node.pid_file),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS":
                ERL_ARGS + " -kernel inet_dist_use_interface {127,0,0,1}",
        }

    def _spawn(self, node: Node) -> None:
        node.log = open(node.home / "server.out", "ab")  # noqa: SIM115 - closed in _hard_stop
        node.proc = subprocess.Popen(
            [str(SBIN / "rabbitmq-server")], env=self._env(node), cwd=node.home,
            stdout=node.log, stderr=subprocess.STDOUT, start_new_session=True,
            user=self.uid, group=self.gid, extra_groups=[])
        node.paused = False

    def _hard_stop(self, node: Node) -> None:
        with contextlib.suppress(ProcessLookupError):
            pid = node.beam_pid()
            if pid is not None:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
        if node.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(node.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.proc.wait(10)
        if node.log is not None:
            node.log.close()
            node.log = None
        node.paused = False

    def _cli(self, tool: str, node: Node, *args: str, timeout: float = 60.0,
             check: bool = True, quiet: bool = False) -> str | None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/var/lib/rabbitmq",
               "LANG": "C.UTF-8", "ERL_EPMD_ADDRESS": "127.0.0.1"}
        try:
            done = subprocess.run([str(SBIN / tool), "-n", node.name, *args], env=env,
                                  cwd="/var/lib/rabbitmq", capture_output=True, text=True,
                                  timeout=timeout, user=self.uid, group=self.gid,
                                  extra_groups=[])
        except subprocess.TimeoutExpired:
            if check:
                raise
            return None
        if done.returncode != 0:
            if check:
                raise RuntimeError(f"{tool} -n {node.name} {' '.join(args)}: "
                                   f"{done.stderr.strip() or done.stdout.strip()}")
            if not quiet:
                return done.stdout
            return None
        return done.stdout
