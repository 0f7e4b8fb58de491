"""The kustomize base and overlays, rendered with `kubectl kustomize`, validated against the
Kubernetes JSON schemas (offline, `kubernetes-validate`; KEDA's CRDs against the schemas in
schemas/), and checked for editbay's invariants: restricted pod security, probes, limits, scratch
volumes, settings that point at Services that exist, and the shape of each overlay."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

Objects = list[dict[str, Any]]
Render = Callable[[str], Objects]

RENDERS = ["base", "overlays/dev", "overlays/prod"]
OVERLAYS = ["overlays/dev", "overlays/prod"]
# The oldest Kubernetes minor editbay supports (native gRPC probes are GA since 1.27) and the
# newest one the validator ships.
K8S_VERSIONS = ["1.30.0", latest_version()]
SCHEMAS = Path(__file__).parent / "schemas"
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda-triggerauthentication.json",
}
APPS = ("catalog", "planner", "renderer", "training", "gateway")
GRPC_SERVICES = ("catalog", "planner", "renderer", "training")
GRPC_PORT = 50051
HTTP_PORT = 8080
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
CLUSTER_SCOPED = ("Namespace",)


# --- helpers --------------------------------------------------------------------------------


def of_kind(objects: Objects, kind: str) -> Objects:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    found = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def workloads(objects: Objects) -> Objects:
    return [obj for obj in objects if obj["kind"] in WORKLOAD_KINDS]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"].get("labels", {})


def app_name(workload: dict[str, Any]) -> str:
    return pod_labels(workload).get("app.kubernetes.io/name", "")


def editbay_workloads(objects: Objects) -> Objects:
    """The Deployments running editbay's own images (not the data stores or the collector)."""
    return [obj for obj in of_kind(objects, "Deployment") if app_name(obj) in APPS]


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def security(workload: dict[str, Any], container: dict[str, Any], field: str) -> Any:
    """A security setting as it takes effect: the container's, else the pod's."""
    own = container.get("securityContext", {})
    if field in own:
        return own[field]
    return pod_spec(workload).get("securityContext", {}).get(field)


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics (matchLabels and matchExpressions)."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def config_data(objects: Objects) -> dict[str, str]:
    maps = [
        obj
        for obj in of_kind(objects, "ConfigMap")
        if obj["metadata"]["name"].startswith("editbay-config")
    ]
    assert len(maps) == 1, "exactly one editbay-config ConfigMap"
    return maps[0]["data"]


def effective_env(objects: Objects, container: dict[str, Any]) -> dict[str, str]:
    """The container's environment from envFrom ConfigMaps and its own env (which wins)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            env.update(named(objects, "ConfigMap", ref["name"])["data"])
    env.update(
        {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}
    )
    return env


def secret_data(secret: dict[str, Any]) -> dict[str, str]:
    data = {key: base64.b64decode(value).decode() for key, value in secret.get("data", {}).items()}
    return {**data, **secret.get("stringData", {})}


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def service_ports(service: dict[str, Any]) -> dict[int, Any]:
    return {port["port"]: port.get("targetPort", port["port"]) for port in service["spec"]["ports"]}


def container_port(workload: dict[str, Any], target: Any) -> int | None:
    """The container port a Service targetPort (number or name) lands on, if any."""
    for container in containers(workload):
        for port in container.get("ports", []):
            if target in (port["containerPort"], port.get("name")):
                return int(port["containerPort"])
    return None


def role_of(container: dict[str, Any]) -> str | None:
    args = container.get("args", [])
    return args[args.index("--role") + 1] if "--role" in args else None


def iter_rendered(render: Render) -> Iterator[tuple[str, dict[str, Any]]]:
    for folder in RENDERS:
        for obj in render(folder):
            yield folder, obj


# --- schema validation ----------------------------------------------------------------------


@pytest.mark.parametrize("folder", RENDERS)
def test_deploy_render_validates_against_schemas(deploy_render: Render, folder: str) -> None:
    objects = deploy_render(folder)
    assert objects, f"{folder} renders nothing"
    for obj in objects:
        crd = CRD_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
        if crd is not None:
            schema = json.loads((SCHEMAS / crd).read_text())
            jsonschema.validate(obj, schema)
            continue
        for version in K8S_VERSIONS:
            # strict: unknown fields (a misspelt key) fail instead of being ignored.
            kubernetes_validate.validate(obj, version, strict=True)


def test_deploy_crd_schemas_reject_mistakes() -> None:
    """The KEDA schemas catch what they are there for: a misspelt field, a missing trigger."""
    schema = json.loads((SCHEMAS / "keda-scaledobject.json").read_text())
    good = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "triggers": [{"type": "rabbitmq", "metadata": {}}],
        },
    }
    jsonschema.validate(good, schema)
    for bad_spec in (
        {**good["spec"], "maxReplicas": 3},
        {"scaleTargetRef": {"name": "x"}},
        {**good["spec"], "triggers": [{"type": "rabbitmq", "metadata": {"value": 1}}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, "spec": bad_spec}, schema)


# --- pod security and resources -------------------------------------------------------------


@pytest.mark.parametrize("folder", RENDERS)
def test_deploy_every_pod_meets_restricted_security(deploy_render: Render, folder: str) -> None:
    """Every workload (the development data stores too) passes the restricted Pod Security
    Standard that the overlays' namespaces enforce, and has requests and limits."""
    found = workloads(deploy_render(folder))
    assert found
    for workload in found:
        spec = pod_spec(workload)
        where = f"{folder}: {workload['kind']} {workload['metadata']['name']}"
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), where
        assert not any("hostPath" in volume for volume in spec.get("volumes", [])), where
        assert spec.get("automountServiceAccountToken") is False, where
        for container in containers(workload):
            at = f"{where} container {container['name']}"
            assert security(workload, container, "runAsNonRoot") is True, at
            assert security(workload, container, "runAsUser") not in (None, 0), at
            assert security(workload, container, "seccompProfile") == {"type": "RuntimeDefault"}, at
            own = container.get("securityContext", {})
            assert own.get("allowPrivilegeEscalation") is False, at
            assert not own.get("privileged"), at
            assert own.get("capabilities", {}).get("drop") == ["ALL"], at
            assert not own.get("capabilities", {}).get("add"), at
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{at}: {kind}"
            if workload["kind"] != "Job":
                assert "readinessProbe" in container and "livenessProbe" in container, at


@pytest.mark.parametrize("folder", RENDERS)
def test_deploy_editbay_containers(deploy_render: Render, folder: str) -> None:
    objects = deploy_render(folder)
    found = editbay_workloads(objects)
    assert sorted({app_name(w) for w in found}) == sorted(APPS)
    for workload in found:
        spec = pod_spec(workload)
        (container,) = spec["containers"]
        name = app_name(workload)
        at = f"{folder}: {workload['metadata']['name']}"
        assert security(workload, container, "runAsUser") == 10001, at
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, at
        # The read-only root filesystem needs writable /scratch and /tmp, both size-limited.
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        for path in ("/scratch", "/tmp"):
            assert path in mounts, f"{at}: nothing mounted at {path}"
            assert volumes[mounts[path]]["emptyDir"]["sizeLimit"], f"{at}: {path}"
        env = effective_env(objects, container)
        assert env["EDITBAY_DATA_DIR"] == "/scratch", at
        assert spec["terminationGracePeriodSeconds"] > float(env["EDITBAY_GRACE_SECONDS"]), at
        refs = [source.get("secretRef", {}).get("name") for source in container["envFrom"]]
        if name == "gateway":
            assert env["EDITBAY_HTTP_HOST"] == "0.0.0.0", at
            assert int(env["EDITBAY_HTTP_PORT"]) == HTTP_PORT, at
            probe = container["readinessProbe"]["httpGet"]
            assert probe["path"] == "/healthz", at
            assert container_port(workload, probe["port"]) == HTTP_PORT, at
            assert "editbay-secrets" not in refs, f"{at}: the gateway needs no secrets"
        else:
            assert env["EDITBAY_GRPC_HOST"] == "0.0.0.0", at
            assert int(env["EDITBAY_GRPC_PORT"]) == GRPC_PORT, at
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert container[probe]["grpc"]["port"] == GRPC_PORT, f"{at}: {probe}"
            assert "editbay-secrets" in refs, at


def test_deploy_render_workers_are_sized_for_ffmpeg(deploy_render: Render) -> None:
    objects = deploy_render("base")
    worker = named(objects, "Deployment", "render-worker")
    others = [w for w in editbay_workloads(objects) if w is not worker]

    def scratch_bytes(workload: dict[str, Any]) -> float:
        (volume,) = [v for v in pod_spec(workload)["volumes"] if v["name"] == "scratch"]
        return parse_quantity(volume["emptyDir"]["sizeLimit"])

    def request(workload: dict[str, Any], kind: str) -> float:
        return parse_quantity(pod_spec(workload)["containers"][0]["resources"]["requests"][kind])

    for other in others:
        name = other["metadata"]["name"]
        assert scratch_bytes(worker) > scratch_bytes(other), name
        assert request(worker, "cpu") > request(other, "cpu"), name
        assert request(worker, "memory") > request(other, "memory"), name
        assert (
            pod_spec(worker)["terminationGracePeriodSeconds"]
            > pod_spec(other)["terminationGracePeriodSeconds"]
        ), name
    # KEDA owns the worker count: a replicas field would fight it on every apply.
    assert "replicas" not in worker["spec"]


def parse_quantity(text: str | int) -> float:
    """A Kubernetes quantity (100m, 2, 512Mi, 10Gi) as a number."""
    text = str(text)
    suffixes = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6}
    for suffix, factor in sorted(suffixes.items(), key=lambda item: -len(item[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def test_deploy_roles_are_cli_choices(deploy_render: Render) -> None:
    from editbay_cli.units import ROLE_CHOICES

    objects = deploy_render("base")
    roles = {
        w["metadata"]["name"]: role_of(pod_spec(w)["containers"][0])
        for w in editbay_workloads(objects)
    }
    assert roles["renderer"] == "api"
    assert roles["render-worker"] == "worker"
    assert roles["training"] == "all"
    for name, role in roles.items():
        assert role is None or role in ROLE_CHOICES, name


# --- wiring: settings, Services, selectors --------------------------------------------------


@pytest.mark.parametrize("folder", RENDERS)
def test_deploy_service_addresses_reach_grpc_servers(deploy_render: Render, folder: str) -> None:
    """EDITBAY_<SERVICE>_ADDR names a Service whose port lands on that service's gRPC server."""
    objects = deploy_render(folder)
    data = config_data(objects)
    for service in GRPC_SERVICES:
        host, port = host_port(data[f"EDITBAY_{service.upper()}_ADDR"])
        target = service_ports(named(objects, "Service", host))[port]
        selector = {"matchLabels": named(objects, "Service", host)["spec"]["selector"]}
        backends = [w for w in workloads(objects) if matches(selector, pod_labels(w))]
        assert backends, f"{folder}: Service {host} selects no pods"
        for backend in backends:
            assert app_name(backend) == service, f"{folder}: {host} selects {app_name(backend)}"
            assert container_port(backend, target) == GRPC_PORT
            assert role_of(pod_spec(backend)["containers"][0]) in ("api", "all")


@pytest.mark.parametrize("folder", RENDERS)
def test_deploy_services_select_pods_and_ports(deploy_render: Render, folder: str) -> None:
    objects = deploy_render(folder)
    for service in of_kind(objects, "Service"):
        selector = {"matchLabels": service["spec"]["selector"]}
        backends = [w for w in workloads(objects) if matches(selector, pod_labels(w))]
        name = service["metadata"]["name"]
        assert backends, f"{folder}: Service {name} selects nothing"
        for target in service_ports(service).values():
            for backend in backends:
                assert container_port(backend, target) is not None, f"{folder}: {name} {target}"


@pytest.mark.parametrize("folder", OVERLAYS)
def test_deploy_overlay_namespaces(deploy_render: Render, folder: str) -> None:
    objects = deploy_render(folder)
    (namespace,) = of_kind(objects, "Namespace")
    expected = {"overlays/dev": "editbay-dev", "overlays/prod": "editbay"}[folder]
    assert namespace["metadata"]["name"] == expected
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED:
            assert obj["metadata"].get("namespace") == expected, obj["metadata"]["name"]


@pytest.mark.parametrize("folder", OVERLAYS)
def test_deploy_otel_endpoint_on_every_editbay_container(
    deploy_render: Render, folder: str
) -> None:
    objects = deploy_render(folder)
    collector = named(objects, "Deployment", "otel-collector")
    for workload in editbay_workloads(objects):
        env = effective_env(objects, pod_spec(workload)["containers"][0])
        endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"]
        host, port = host_port(endpoint.removeprefix("http://"))
        target = service_ports(named(objects, "Service", host))[port]
        assert container_port(collector, target) == port, workload["metadata"]["name"]
    assert all(
        "OTEL_EXPORTER_OTLP_ENDPOINT" not in effective_env(objects, c)
        for w in workloads(objects)
        if app_name(w) not in APPS
        for c in containers(w)
    ), "only editbay's containers are pointed at the collector"


def test_deploy_base_has_no_optional_features(deploy_render: Render) -> None:
    kinds = {obj["kind"] for obj in deploy_render("base")}
    assert kinds == {"ServiceAccount", "Service", "Deployment", "ConfigMap"}


# --- overlays -------------------------------------------------------------------------------


def test_deploy_dev_overlay(deploy_render: Render) -> None:
    objects = deploy_render("overlays/dev")
    for workload in editbay_workloads(objects):
        assert pod_spec(workload)["containers"][0]["image"].endswith(":dev")
    secrets = secret_data(named(objects, "Secret", "editbay-secrets"))
    assert {
        "EDITBAY_DATABASE_URL",
        "EDITBAY_BROKER_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    } <= set(secrets)
    # Every URL the services get names an in-cluster Service on a port it exposes.
    config = config_data(objects)
    urls = {
        "postgresql+asyncpg": secrets["EDITBAY_DATABASE_URL"],
        "amqp": secrets["EDITBAY_BROKER_URL"],
        "http": config["EDITBAY_S3_ENDPOINT_URL"],
    }
    for scheme, url in urls.items():
        assert url.startswith(f"{scheme}://"), url
        host, port = host_port(url.split("@")[-1].split("://")[-1].split("/")[0])
        assert port in service_ports(named(objects, "Service", host)), url
    assert {w["metadata"]["name"] for w in of_kind(objects, "StatefulSet")} == {
        "postgres",
        "rabbitmq",
    }
    assert named(objects, "Deployment", "minio")
    # Kept simple: no NetworkPolicies, no KEDA (one render worker).
    assert not of_kind(objects, "NetworkPolicy")
    assert not of_kind(objects, "ScaledObject")


def test_deploy_dev_credentials_agree(deploy_render: Render) -> None:
    """The services' URLs carry the passwords the development data stores are started with."""
    objects = deploy_render("overlays/dev")
    app = secret_data(named(objects, "Secret", "editbay-secrets"))
    stores = secret_data(named(objects, "Secret", "dev-data-stores"))
    assert (
        f"{stores['POSTGRES_USER']}:{stores['POSTGRES_PASSWORD']}@" in app["EDITBAY_DATABASE_URL"]
    )
    assert app["EDITBAY_DATABASE_URL"].endswith(f"/{stores['POSTGRES_DB']}")
    assert (
        f"{stores['RABBITMQ_DEFAULT_USER']}:{stores['RABBITMQ_DEFAULT_PASS']}@"
        in app["EDITBAY_BROKER_URL"]
    )
    assert (app["AWS_ACCESS_KEY_ID"], app["AWS_SECRET_ACCESS_KEY"]) == (
        stores["MINIO_ROOT_USER"],
        stores["MINIO_ROOT_PASSWORD"],
    )
    bucket = config_data(objects)["EDITBAY_STORAGE_URL"].removeprefix("s3://").split("/")[0]
    job = named(objects, "Job", "minio-bucket")
    assert pod_spec(job)["containers"][0]["args"][-1] == f"local/{bucket}"


def test_deploy_prod_overlay(deploy_render: Render) -> None:
    objects = deploy_render("overlays/prod")
    # The Secret is created outside the repository (platform team or external-secrets).
    assert not of_kind(objects, "Secret")
    budgets = of_kind(objects, "PodDisruptionBudget")
    for workload in editbay_workloads(objects):
        image = pod_spec(workload)["containers"][0]["image"]
        name, _, tag = image.rpartition(":")
        assert "/" in name and tag not in ("", "latest", "dev"), image
        if workload["metadata"]["name"] == "render-worker":
            continue
        assert workload["spec"]["replicas"] >= 2, workload["metadata"]["name"]
        covering = [b for b in budgets if matches(b["spec"]["selector"], pod_labels(workload))]
        assert len(covering) == 1, workload["metadata"]["name"]
        assert covering[0]["spec"]["minAvailable"] < workload["spec"]["replicas"]


def test_deploy_prod_keda_scales_render_workers(deploy_render: Render) -> None:
    objects = deploy_render("overlays/prod")
    (scaled,) = of_kind(objects, "ScaledObject")
    target = named(objects, "Deployment", scaled["spec"]["scaleTargetRef"]["name"])
    assert role_of(pod_spec(target)["containers"][0]) == "worker"
    assert 0 <= scaled["spec"]["minReplicaCount"] <= 1 < scaled["spec"]["maxReplicaCount"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == "render"
    assert trigger["metadata"]["mode"] == "QueueLength"
    assert float(trigger["metadata"]["value"]) > 0
    auth = named(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    (ref,) = auth["spec"]["secretTargetRef"]
    assert ref["parameter"] == "host"
    # The Secret the services read, and the key they read the broker URL from.
    assert ref["name"] == "editbay-secrets"
    assert ref["key"] in secret_data(named(deploy_render("overlays/dev"), "Secret", ref["name"]))
    worker_refs = [
        s.get("secretRef", {}).get("name") for s in pod_spec(target)["containers"][0]["envFrom"]
    ]
    assert ref["name"] in worker_refs


# --- network policies (prod) ----------------------------------------------------------------

OUTSIDE = "outside"  # a client that is not a pod of the namespace (internet, load balancer)
KUBE_DNS = {"k8s-app": "kube-dns"}
DNS_NAMESPACE = {"kubernetes.io/metadata.name": "kube-system"}


def _peer_admits(
    peer: dict[str, Any], labels: dict[str, str] | None, namespace: dict[str, str]
) -> bool:
    """Whether one from/to peer admits a pod with ``labels`` in a namespace labelled
    ``namespace`` (None labels: an address outside the cluster)."""
    if "ipBlock" in peer:
        return labels is None
    if labels is None:
        return False
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], namespace):
            return False
    elif namespace != {}:
        return False  # a bare podSelector means the policy's own namespace
    return matches(peer.get("podSelector", {}), labels)


def _rule_admits(
    rule: dict[str, Any],
    peers_key: str,
    labels: dict[str, str] | None,
    namespace: dict[str, str],
    port: int,
    protocol: str,
) -> bool:
    ports = rule.get("ports")
    if ports and not any(
        p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports
    ):
        return False
    peers = rule.get(peers_key)
    return not peers or any(_peer_admits(peer, labels, namespace) for peer in peers)


def allowed(
    policies: Objects,
    direction: str,
    pod: dict[str, str],
    other: dict[str, str] | None,
    port: int,
    *,
    other_namespace: dict[str, str] | None = None,
    protocol: str = "TCP",
) -> bool:
    """NetworkPolicy semantics for one direction of one pod: isolated once a policy of that
    type selects it, then allowed if any rule of any selecting policy admits the peer."""
    kind, rules_key, peers_key = {
        "in": ("Ingress", "ingress", "from"),
        "out": ("Egress", "egress", "to"),
    }[direction]
    selecting = [
        p
        for p in policies
        if kind in p["spec"]["policyTypes"] and matches(p["spec"]["podSelector"], pod)
    ]
    if not selecting:
        return True
    namespace = other_namespace or {}
    return any(
        _rule_admits(rule, peers_key, other, namespace, port, protocol)
        for policy in selecting
        for rule in policy["spec"].get(rules_key, [])
    )


def connects(policies: Objects, source: dict[str, str], target: dict[str, str], port: int) -> bool:
    return allowed(policies, "out", source, target, port) and allowed(
        policies, "in", target, source, port
    )


def test_deploy_prod_network_policies(deploy_render: Render) -> None:
    objects = deploy_render("overlays/prod")
    policies = of_kind(objects, "NetworkPolicy")
    assert any(
        p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        for p in policies
    ), "a default deny for the namespace"
    pods = {w["metadata"]["name"]: pod_labels(w) for w in workloads(objects)}
    assert set(pods) == {
        "catalog",
        "planner",
        "renderer",
        "render-worker",
        "training",
        "gateway",
        "otel-collector",
    }
    callers = {
        "catalog": {"gateway", "planner", "training"},
        "planner": {"gateway", "renderer", "render-worker"},
        "renderer": {"gateway"},
        "training": {"gateway"},
        "render-worker": set(),
        "gateway": set(),
        "otel-collector": set(),
    }
    for target, expected in callers.items():
        got = {
            source
            for source in pods
            if source != target and connects(policies, pods[source], pods[target], GRPC_PORT)
        }
        assert got == expected, f"gRPC callers of {target}"
    # The gateway is open on its HTTP port, and only there; nothing else takes outside traffic.
    for name, labels in pods.items():
        assert allowed(policies, "in", labels, None, HTTP_PORT) == (name == "gateway"), name
        assert not allowed(policies, "in", labels, None, GRPC_PORT), name
    # Egress: DNS for everyone; the data stores for the four services only.
    for name, labels in pods.items():
        for protocol in ("UDP", "TCP"):
            assert allowed(
                policies,
                "out",
                labels,
                KUBE_DNS,
                53,
                other_namespace=DNS_NAMESPACE,
                protocol=protocol,
            ), name
        for port in (5432, 5672, 443):
            needs = app_name_of(labels) in GRPC_SERVICES
            assert (
                allowed(policies, "out", labels, None, port) == needs or name == "otel-collector"
            ), (name, port)
    # Telemetry reaches the collector from every editbay pod.
    for name, labels in pods.items():
        if name != "otel-collector":
            assert connects(policies, labels, pods["otel-collector"], 4317), name


def app_name_of(labels: dict[str, str]) -> str:
    return labels.get("app.kubernetes.io/name", "")
