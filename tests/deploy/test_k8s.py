"""deploy/k8s: the Kubernetes manifests and the KEDA autoscaling of the workers,
validated offline (no cluster here: nothing is applied).

- Core kinds against Kubernetes' own JSON schemas, strict (unknown fields refused), for
  several Kubernetes versions: `kubernetes-validate` bundles them, so no network.
- KEDA's ScaledObject and TriggerAuthentication against the openAPIV3Schema of KEDA's
  CRDs, vendored under tests/deploy/schemas/keda (version and licence in its README),
  with `jsonschema`.
- What ties the files to the code: the ScaledObject scales the worker Deployment on the
  queues predictq.topology names for the ConfigMap's prefix; the API's readiness probe
  is /healthz on the port the API binds; the grace periods cover a worker's graceful
  stop, recomputed from the code's own timeouts.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from predictq import topology
from predictq.connection import broker_urls, connect
from predictq.messaging import Publisher
from predictq.settings import Settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KEDA_CRDS = Path(__file__).resolve().parent / "schemas" / "keda"
# The oldest Kubernetes minor still maintained upstream, one between, and the newest
# the validator bundles.
KUBERNETES_VERSIONS = ("1.32.0", "1.34.0", "1.37.0")
KEDA_KINDS = {"ScaledObject": "keda.sh_scaledobjects.yaml",
              "TriggerAuthentication": "keda.sh_triggerauthentications.yaml"}
# The trigger metadata KEDA's rabbitmq scaler reads (pkg/scalers/rabbitmq_scaler.go at
# v2.20.2, `order=triggerMetadata`); it ignores any other key without a word.
RABBITMQ_TRIGGER_KEYS = {"queueName", "mode", "queueLength", "value", "activationValue",
                         "host", "protocol", "vhostName", "useRegex",
                         "excludeUnacknowledged", "pageSize", "operation", "timeout",
                         "unsafeSsl"}


def load_all(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))


def manifests() -> list[dict[str, Any]]:
    """Every object `kubectl apply -k deploy/k8s` creates, as written."""
    return [doc for name in kustomization()["resources"] for doc in load_all(K8S / name)]


def the(kind: str, name: str | None = None, objects=None) -> dict[str, Any]:
    found = [o for o in (manifests() if objects is None else objects)
             if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def secret_example() -> dict[str, Any]:
    (secret,) = load_all(K8S / "secret.example.yaml")
    return secret


def deployment_settings() -> Settings:
    """The settings a pod of this deployment runs with: the ConfigMap, then the Secret
    (the order of every container's `envFrom`)."""
    env = {**the("ConfigMap", "predictq-config")["data"], **secret_example()["stringData"]}
    return Settings.from_env(env)


def container(deployment: str) -> dict[str, Any]:
    (c,) = the("Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return c


# -- schemas ----------------------------------------------------------------------------

def strict(schema: Any) -> Any:
    """A CRD's structural schema as the API server applies it with strict field
    validation: an object that lists its properties accepts no others."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def validate_keda(obj: dict[str, Any]) -> None:
    (crd,) = load_all(KEDA_CRDS / KEDA_KINDS[obj["kind"]])
    group, version = obj["apiVersion"].split("/")
    assert crd["spec"]["group"] == group
    assert crd["spec"]["names"]["kind"] == obj["kind"]
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"]]
    jsonschema.Draft7Validator(strict(served["schema"]["openAPIV3Schema"])).validate(obj)
    if obj["kind"] == "ScaledObject":  # the CRD's CEL rule, which jsonschema cannot run
        spec = obj["spec"]
        assert spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 100), \
            "minReplicaCount must be less than or equal to maxReplicaCount"


def validate(obj: dict[str, Any], version: str) -> None:
    if obj["kind"] in KEDA_KINDS:
        validate_keda(obj)
    else:
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_kustomization_lists_every_manifest_and_not_the_secret():
    listed = kustomization()["resources"]
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk - {"secret.example.yaml"}
    assert kustomization()["namespace"] == "predictq"
    kinds = {o["kind"] for o in manifests()}
    assert {"Namespace", "ConfigMap", "Deployment", "Service", "ScaledObject",
            "TriggerAuthentication"} <= kinds
    assert "Secret" not in kinds  # created in the cluster, never committed


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates(version):
    objects = [*manifests(), secret_example()]
    for obj in objects:
        validate(obj, version)
    assert len(objects) >= 10


def test_the_validators_refuse_what_a_cluster_would():
    """The checks can fail: a misspelt probe, a misspelt KEDA field, a wrong type."""
    api = copy.deepcopy(the("Deployment", "predictq-api"))
    c = api["spec"]["template"]["spec"]["containers"][0]
    c["readinesProbe"] = c.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        validate(api, KUBERNETES_VERSIONS[-1])
    scaled = copy.deepcopy(the("ScaledObject"))
    scaled["spec"]["minReplicas"] = scaled["spec"].pop("minReplicaCount")
    with pytest.raises(jsonschema.ValidationError, match="minReplicas"):
        validate(scaled, KUBERNETES_VERSIONS[-1])
    scaled = copy.deepcopy(the("ScaledObject"))
    scaled["spec"]["maxReplicaCount"] = "20"
    with pytest.raises(jsonschema.ValidationError, match="'20' is not of type 'integer'"):
        validate(scaled, KUBERNETES_VERSIONS[-1])
    auth = copy.deepcopy(the("TriggerAuthentication"))
    del auth["spec"]["secretTargetRef"][0]["key"]
    with pytest.raises(jsonschema.ValidationError, match="'key' is a required property"):
        validate(auth, KUBERNETES_VERSIONS[-1])


def test_kubectl_kustomize_renders_it_into_one_namespace():
    if shutil.which("kubectl") is None:
        pytest.skip("no kubectl: `kubectl kustomize` (offline, no cluster) not run")
    done = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rendered = [o for o in yaml.safe_load_all(done.stdout) if o]
    assert sorted((o["kind"], o["metadata"]["name"]) for o in rendered) == \
        sorted((o["kind"], o["metadata"]["name"]) for o in manifests())
    for obj in rendered:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "predictq", obj["metadata"]["name"]
        validate(obj, KUBERNETES_VERSIONS[-1])


# -- what ties the files together and to the code ---------------------------------------

def test_the_config_map_holds_only_real_settings():
    data = the("ConfigMap", "predictq-config")["data"]
    fields = {f"PREDICTQ_{name.upper()}" for name in Settings.__dataclass_fields__}
    assert {k for k in data if k.startswith("PREDICTQ_")} <= fields
    assert set(secret_example()["stringData"]) - {"RABBITMQ_AMQP_URL"} <= fields
    settings = deployment_settings()  # parses: every value has the right type
    assert settings.queue_type == "quorum"
    assert "replicaSet=" in settings.store_url
    assert len(broker_urls(settings)) == 3  # every node of the cluster
    assert "PREDICTQ_BROKER_URL" not in data  # credentials: only in the Secret


def test_every_pod_reads_the_config_map_then_the_secret():
    secret = secret_example()["metadata"]["name"]
    pods = [o["spec"]["template"]["spec"] for o in manifests()
            if o["kind"] in ("Deployment", "Job")]
    assert len(pods) == 4  # api, worker, streams, train
    for pod in pods:
        for c in pod["containers"]:
            assert c["envFrom"] == [{"configMapRef": {"name": "predictq-config"}},
                                    {"secretRef": {"name": secret}}]
            assert c["command"][0] == "predictq"  # exec form: SIGTERM reaches predictq


def test_keda_scales_the_worker_deployment_on_the_job_queues():
    scaled = the("ScaledObject")["spec"]
    worker = the("Deployment", "predictq-worker")
    assert scaled["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": worker["metadata"]["name"]}
    assert "replicas" not in worker["spec"]  # KEDA's HPA owns it
    # Not zero: only workers run the sweeper, and a job stored but never published is
    # in no queue, so no trigger would bring a worker back for it.
    assert scaled["minReplicaCount"] >= 1
    assert scaled["minReplicaCount"] <= scaled["maxReplicaCount"]

    settings = deployment_settings()
    triggers = scaled["triggers"]
    assert {t["metadata"]["queueName"] for t in triggers} == \
        {topology.queue_name(settings, family) for family in topology.FAMILIES}
    # The worker consumes exactly the queues that scale it.
    command = container("predictq-worker")["command"]
    assert command[:2] == ["predictq", "worker"]
    assert {command[i + 1] for i, a in enumerate(command) if a == "--family"} == \
        set(topology.FAMILIES)
    auth = the("TriggerAuthentication")
    for t in triggers:
        assert t["type"] == "rabbitmq"
        assert t["metadata"]["mode"] == "QueueLength"
        assert set(t["metadata"]) <= RABBITMQ_TRIGGER_KEYS
        assert "host" not in t["metadata"]  # the URL holds credentials: the Secret's
        assert float(t["metadata"]["value"]) > 0
        assert t["authenticationRef"]["name"] == auth["metadata"]["name"]
    (ref,) = auth["spec"]["secretTargetRef"]
    assert ref["parameter"] == "host"
    assert ref["name"] == secret_example()["metadata"]["name"]
    url = secret_example()["stringData"][ref["key"]]
    assert url.startswith("amqp://") and ";" not in url  # KEDA takes one URL


def test_the_stream_workers_are_their_own_fixed_deployment():
    streams = the("Deployment", "predictq-streams")
    assert container("predictq-streams")["command"] == \
        ["predictq", "worker", "--family", topology.STREAM_FAMILY]
    assert 1 <= streams["spec"]["replicas"] <= deployment_settings().stream_partitions
    assert all(o["spec"]["scaleTargetRef"]["name"] != "predictq-streams"
               for o in manifests() if o["kind"] == "ScaledObject")


def port_number(c: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (p,) = [p for p in c["ports"] if p["name"] == port]
    return p["containerPort"]


def test_the_api_is_ready_on_healthz_at_the_port_it_binds(tmp_path):
    from api.app import create_app

    settings = deployment_settings()
    c = container("predictq-api")
    ready, alive = c["readinessProbe"]["httpGet"], c["livenessProbe"]["httpGet"]
    assert ready["path"] == "/healthz"
    assert port_number(c, ready["port"]) == settings.port
    assert settings.host == "0.0.0.0"  # reachable from the kubelet and the Service
    # Liveness must not restart the API for a store or broker outage (/healthz's 503).
    assert alive["path"] != "/healthz" and port_number(c, alive["port"]) == settings.port
    service = the("Service", "predictq-api")
    (sp,) = service["spec"]["ports"]
    assert port_number(c, sp["targetPort"]) == settings.port
    assert service["spec"]["selector"] == \
        the("Deployment", "predictq-api")["spec"]["template"]["metadata"]["labels"]
    # Both paths are routes the app serves.
    app = create_app(Settings(data_dir=tmp_path))
    adapter = app.url_map.bind("localhost")
    for path in (ready["path"], alive["path"]):
        adapter.match(path, method="GET")


def worker_stop_need_s(settings: Settings) -> float:
    """The longest a worker can take between SIGTERM and its exit, from the code's own
    timeouts (worker.yaml's comment explains each term). The consume loop and the
    alert threads stop in parallel; the process exits when the slowest has."""
    import pymongo

    from predictq.store.mongo import MongoStore
    from predictq.streams import webhook
    from worker import consumer, streams

    store = MongoStore.from_url(settings.store_url)
    client: pymongo.MongoClient = store._connect()  # connect=False: no network
    try:
        select_s = client.options.server_selection_timeout
    finally:
        client.close()
    nodes = len(broker_urls(settings))
    connect_s = connect(settings).connect_timeout
    notice_s = max(consumer.IDLE_WAIT_S, streams.IDLE_WAIT_S) + settings.batch_wait_ms / 1000
    # Two store writes per batch (mark_processing, finish), each possibly retried once
    # (retryWrites), each waiting for a server up to the selection timeout.
    store_s = 2 * 2 * select_s
    hand_back_s = nodes * connect_s + Publisher.CONFIRM_TIMEOUT_S
    alerts_s = webhook.CLAIM * webhook.TIMEOUT_S
    return max(notice_s + store_s + hand_back_s, alerts_s)


def test_grace_periods_cover_a_graceful_stop():
    from api.server import _Gunicorn

    settings = deployment_settings()
    need = worker_stop_need_s(settings)
    assert need >= 30  # the budget is real: 3 nodes x 5 s + 10 s confirm alone is 25 s
    for name in ("predictq-worker", "predictq-streams"):
        pod = the("Deployment", name)["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= need, name
    api = the("Deployment", "predictq-api")["spec"]["template"]["spec"]
    pre_stop = container("predictq-api")["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    graceful_s = _Gunicorn(settings).cfg.graceful_timeout
    assert api["terminationGracePeriodSeconds"] >= float(pre_stop[1]) + graceful_s + 5
