"""The files under deploy/: they parse, match the Compose and Kubernetes schemas (vendored under schemas/,
no network), and give every application container every setting the code reads."""

import copy
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from services.api.app import create_app
from services.cli import app as cli_app
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SCHEMAS = Path(__file__).parent / "schemas"
PREFIX = "GROEIRUIMTE_"

# What production must set itself: the defaults are development values.
PRODUCTION_MUST_SET = {
    "GROEIRUIMTE_DATABASE_URL",
    "GROEIRUIMTE_TEMPORAL_ADDRESS",
    "GROEIRUIMTE_JWT_SECRET",
    "GROEIRUIMTE_OIDC_ISSUER",
    "GROEIRUIMTE_OIDC_JWKS_URL",
    "GROEIRUIMTE_PAYLOAD_KEYS",
    "GROEIRUIMTE_PAYLOAD_KEY_ID",
    "GROEIRUIMTE_ENVIRONMENT",
}
SECRET_SETTINGS = {
    "GROEIRUIMTE_DATABASE_URL",
    "GROEIRUIMTE_JWT_SECRET",
    "GROEIRUIMTE_PAYLOAD_KEYS",
    "GROEIRUIMTE_SMTP_PASSWORD",
    "GROEIRUIMTE_TEMPORAL_API_KEY",
}
# Settings a deployment may leave at their default, and why. Anything else the code reads must be given.
NOT_FOR_CONTAINERS = {
    "GROEIRUIMTE_TEMPORAL_UI_PORT": "only `groeiruimte run` reads it, for the Temporal dev server it starts",
}
STAND_IN_SECRET = "stand-in-secret-value-0123456789abcdef"
STAND_IN_PAYLOAD_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def stand_in(name: str, environment: dict[str, str]) -> str:
    """What a secret is replaced with here: a value of the shape the setting needs."""
    if name == "GROEIRUIMTE_PAYLOAD_KEYS":
        key_id = interpolated(environment.get("GROEIRUIMTE_PAYLOAD_KEY_ID", ""))
        return json.dumps({key_id: STAND_IN_PAYLOAD_KEY})
    return STAND_IN_SECRET


COMPOSE_LEFT_OUT = {
    "GROEIRUIMTE_SMTP_USERNAME": "mailpit accepts mail without authentication",
    "GROEIRUIMTE_SMTP_PASSWORD": "mailpit accepts mail without authentication",
}
APP_USER_ID = 10001


def documents(path: Path) -> list[Any]:
    with path.open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def setting_variables(model: type[BaseModel] = Settings, prefix: str = PREFIX) -> set[str]:
    """Every environment variable the settings read; nested models use the `__` delimiter."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            names |= setting_variables(nested, f"{variable}__")
        else:
            names.add(variable)
    return names


def missing_settings(provided: set[str], left_out: dict[str, str]) -> set[str]:
    return setting_variables() - provided - set(NOT_FOR_CONTAINERS) - set(left_out)


def unknown_settings(provided: set[str]) -> set[str]:
    """GROEIRUIMTE_ variables no setting reads: a typo, or a setting that was removed."""
    return {name for name in provided if name.startswith(PREFIX)} - setting_variables()


def settings_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a container with exactly this environment would build."""
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def yaml_files() -> list[Path]:
    return sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])


def test_deploy_holds_the_compose_file_helm_values_and_kubernetes_manifests() -> None:
    names = {path.relative_to(DEPLOY).as_posix() for path in yaml_files()}
    assert {"compose.yaml", "helm/temporal-values.yaml", "k8s/kustomization.yaml"} <= names
    assert (DEPLOY / "Dockerfile").is_file()


@pytest.mark.parametrize("path", yaml_files(), ids=lambda path: path.relative_to(DEPLOY).as_posix())
def test_every_yaml_file_under_deploy_parses_into_mappings(path: Path) -> None:
    docs = documents(path)
    assert docs, f"{path} holds no document"
    assert all(isinstance(doc, dict) for doc in docs)


# --- Compose ---------------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    (doc,) = documents(DEPLOY / "compose.yaml")
    return dict(doc)


def compose_errors(doc: dict[str, Any]) -> list[str]:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    validator = Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def app_services(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the application image."""
    return {
        name: service
        for name, service in doc["services"].items()
        if service.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
    }


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def interpolated(value: str, name: str = "", environment: dict[str, str] | None = None) -> str:
    """The value compose would pass, with a stand-in for required variables (`${NAME:?…}`)."""
    value = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)
    replacement = stand_in(name, environment or {})
    return re.sub(r"\$\{[A-Z0-9_]+:\?[^}]*\}", lambda _: replacement, value)


def test_compose_file_matches_the_compose_specification() -> None:
    assert compose_errors(compose()) == []


def test_the_compose_schema_rejects_a_malformed_service() -> None:
    broken = compose()
    broken["services"]["api"]["ports"] = 8000
    broken["services"]["worker"]["restart_policy"] = "always"
    errors = compose_errors(broken)
    assert any("services/api/ports" in error for error in errors)
    assert any("restart_policy" in error for error in errors)


def test_compose_runs_postgres_temporal_ui_mail_catcher_migration_api_workers_and_projector() -> None:
    services = compose()["services"]
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["temporal"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert {"temporal-ui", "mailpit"} <= set(services)
    roles = {name: service["command"] for name, service in app_services(compose()).items()}
    assert roles == {
        "migrate": ["groeiruimte", "migrate"],
        "api": ["groeiruimte", "api"],
        "worker": ["groeiruimte", "worker"],
        "projector": ["groeiruimte", "projector"],
    }
    assert services["migrate"]["restart"] == "no"


def test_compose_commands_are_commands_of_the_cli() -> None:
    commands = {command.name or command.callback.__name__ for command in cli_app.registered_commands}
    for name, service in app_services(compose()).items():
        assert service["command"][1] in commands, name


def test_compose_starts_the_application_only_after_the_migration_and_a_ready_temporal() -> None:
    services = compose()["services"]
    role = services["app-database-role"]
    assert role["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("api", "worker", "projector"):
        depends_on = services[name]["depends_on"]
        assert depends_on["app-database-role"]["condition"] == "service_completed_successfully", name
        assert depends_on["temporal"]["condition"] == "service_healthy", name
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", ["migrate", "api", "worker", "projector"])
def test_every_setting_the_code_reads_reaches_each_compose_app_service(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = compose_environment(app_services(compose())[name])
    assert missing_settings(set(environment), COMPOSE_LEFT_OUT) == set()
    assert unknown_settings(set(environment)) == set()
    assert set(environment) >= PRODUCTION_MUST_SET
    for secret in SECRET_SETTINGS & set(environment):
        assert "${" in environment[secret], f"{secret} is a literal in compose.yaml"
    given = {name: interpolated(value, name, environment) for name, value in environment.items()}
    settings = settings_from(given, monkeypatch)
    assert settings.environment == "production"
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.temporal_address == "temporal:7233"


def test_compose_application_connects_as_the_app_role_and_only_the_migration_as_owner() -> None:
    services = app_services(compose())
    users = {
        name: compose_environment(service)["GROEIRUIMTE_DATABASE_URL"].split("://")[1].split(":")[0]
        for name, service in services.items()
    }
    assert users.pop("migrate") == "postgres"
    assert set(users.values()) == {"groeiruimte_api"}


def test_compose_namespace_is_the_one_temporal_creates() -> None:
    services = compose()["services"]
    namespace = compose_environment(services["api"])["GROEIRUIMTE_TEMPORAL_NAMESPACE"]
    assert services["temporal"]["environment"]["DEFAULT_NAMESPACE"] == namespace
    assert namespace in services["temporal"]["healthcheck"]["test"]


def test_a_missing_or_misspelt_setting_is_reported() -> None:
    environment = set(compose_environment(app_services(compose())["api"]))
    assert missing_settings(environment - {"GROEIRUIMTE_PAYLOAD_KEYS"}, COMPOSE_LEFT_OUT) == {
        "GROEIRUIMTE_PAYLOAD_KEYS"
    }
    assert unknown_settings(environment | {"GROEIRUIMTE_DATABSE_URL"}) == {"GROEIRUIMTE_DATABSE_URL"}


# --- Kubernetes ------------------------------------------------------------------------------------------


def kubernetes_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / "kubernetes-v1.33-strict.json").read_text())
    return schema


def kubernetes_errors(manifest: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    kind = f"{manifest.get('apiVersion')}/{manifest.get('kind')}"
    if kind not in schema["x-kinds"]:
        return [f"no vendored schema for {kind}"]
    validator = Draft202012Validator({**schema, "$ref": schema["x-kinds"][kind]["$ref"]})
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]


def manifest_files() -> list[Path]:
    return sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def manifests() -> Iterator[dict[str, Any]]:
    for path in manifest_files():
        yield from documents(path)


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [manifest for manifest in manifests() if manifest["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    (manifest,) = [m for m in of_kind(kind) if m["metadata"]["name"] == name]
    return manifest


def workloads() -> list[dict[str, Any]]:
    return of_kind("Deployment") + of_kind("Job")


def containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(workload name, pod spec, container) for every application container."""
    for workload in workloads():
        pod = workload["spec"]["template"]["spec"]
        for container in pod["containers"]:
            yield workload["metadata"]["name"], pod, container


def container_ids() -> list[str]:
    return [name for name, _, _ in containers()]


@pytest.mark.parametrize("path", manifest_files(), ids=lambda path: path.name)
def test_every_kubernetes_manifest_matches_the_kubernetes_schema(path: Path) -> None:
    schema = kubernetes_schema()
    for manifest in documents(path):
        assert kubernetes_errors(manifest, schema) == [], f"{path.name}: {manifest['kind']}"


def test_the_kubernetes_schema_rejects_a_misspelt_probe_and_a_bad_replica_count() -> None:
    broken = copy.deepcopy(named("Deployment", "groeiruimte-api"))
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    broken["spec"]["replicas"] = "two"
    errors = kubernetes_errors(broken, kubernetes_schema())
    assert any("readinesProbe" in error for error in errors)
    assert any(error.startswith("spec/replicas") for error in errors)


def test_kustomization_lists_every_manifest() -> None:
    (kustomization,) = documents(K8S / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(path.name for path in manifest_files())


def test_kubernetes_has_api_worker_projector_migration_job_autoscaler_and_service() -> None:
    deployments = {m["metadata"]["name"]: m for m in of_kind("Deployment")}
    commands = {
        name: d["spec"]["template"]["spec"]["containers"][0]["command"] for name, d in deployments.items()
    }
    assert commands == {
        "groeiruimte-api": ["groeiruimte", "api"],
        "groeiruimte-worker": ["groeiruimte", "worker"],
        "groeiruimte-projector": ["groeiruimte", "projector"],
    }
    job = named("Job", "groeiruimte-migrate")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["groeiruimte", "migrate"]
    autoscaler = named("HorizontalPodAutoscaler", "groeiruimte-worker")
    assert autoscaler["spec"]["scaleTargetRef"]["name"] in deployments
    assert autoscaler["spec"]["minReplicas"] >= 1
    assert "replicas" not in deployments["groeiruimte-worker"]["spec"], "the HPA owns the worker's replicas"


def test_the_api_service_reaches_the_api_pods_on_their_http_port() -> None:
    service = named("Service", "groeiruimte-api")
    api = named("Deployment", "groeiruimte-api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    ports = {
        port["name"]: port["containerPort"]
        for port in api["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    for port in service["spec"]["ports"]:
        assert port["targetPort"] in ports


def test_api_probes_use_the_readiness_and_liveness_endpoints_the_api_serves() -> None:
    (container,) = named("Deployment", "groeiruimte-api")["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    served = create_app(Settings(_env_file=None)).openapi()["paths"]
    assert {"/readyz", "/healthz"} <= set(served)
    env = {item["name"]: item.get("value") for item in container.get("env", [])}
    configured_port = int(named("ConfigMap", "groeiruimte-config")["data"]["GROEIRUIMTE_API_PORT"])
    assert env.get("GROEIRUIMTE_API_PORT") is None
    assert container["ports"][0]["containerPort"] == configured_port


@pytest.mark.parametrize("name", ["worker", "projector"])
def test_worker_and_projector_probes_ask_their_health_endpoints_on_the_configured_port(name: str) -> None:
    variable = f"GROEIRUIMTE_{name.upper()}_HEALTH_PORT"
    (container,) = named("Deployment", f"groeiruimte-{name}")["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["health"] == int(named("ConfigMap", "groeiruimte-config")["data"][variable])
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "health"}
    service = compose()["services"][name]
    port = compose_environment(service)[variable]
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("name", container_ids())
def test_every_app_container_runs_as_non_root_with_resource_requests_and_limits(name: str) -> None:
    ((pod, container),) = [(p, c) for n, p, c in containers() if n == name]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == APP_USER_ID
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert pod["automountServiceAccountToken"] is False
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{name} {bound}"
    if container["securityContext"].get("readOnlyRootFilesystem"):
        mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
        var_dir = named("ConfigMap", "groeiruimte-config")["data"]["GROEIRUIMTE_VAR_DIR"]
        assert any(var_dir.startswith(mount + "/") for mount in mounts), "VAR_DIR must be writable"


def kubernetes_environment(container: dict[str, Any]) -> dict[str, str]:
    """The GROEIRUIMTE_ variables a container gets: its ConfigMaps (envFrom) and its env, secrets stubbed."""
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, "only ConfigMaps via envFrom: a Secret's keys cannot be checked here"
        environment |= named("ConfigMap", source["configMapRef"]["name"])["data"]
    for item in container.get("env", []):
        if "value" in item:
            environment[item["name"]] = item["value"]
        else:
            assert set(item["valueFrom"]) == {"secretKeyRef"}, item["name"]
            environment[item["name"]] = stand_in(item["name"], environment)
    return environment


@pytest.mark.parametrize("name", container_ids())
def test_every_setting_the_code_reads_reaches_each_kubernetes_container(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (container,) = [c for n, _, c in containers() if n == name]
    environment = kubernetes_environment(container)
    assert missing_settings(set(environment), {}) == set()
    assert unknown_settings(set(environment)) == set()
    assert set(environment) >= PRODUCTION_MUST_SET
    from_secrets = {
        item["name"]: item["valueFrom"]["secretKeyRef"] for item in container["env"] if "valueFrom" in item
    }
    assert set(from_secrets) >= SECRET_SETTINGS, "secrets come from the cluster, never from a literal value"
    database_key = from_secrets["GROEIRUIMTE_DATABASE_URL"]["key"]
    assert database_key == ("migrate-database-url" if name == "groeiruimte-migrate" else "database-url")
    settings = settings_from(environment, monkeypatch)
    assert settings.environment == "production"


def test_no_secret_values_are_committed_under_deploy() -> None:
    for path in yaml_files():
        for doc in documents(path):
            assert doc.get("kind") != "Secret", (
                f"{path}: create Secrets in the cluster, not in the repository"
            )


def test_kubernetes_namespace_is_the_one_the_temporal_chart_creates() -> None:
    (values,) = documents(DEPLOY / "helm" / "temporal-values.yaml")
    created = {namespace["name"] for namespace in values["server"]["config"]["namespaces"]["namespace"]}
    config = named("ConfigMap", "groeiruimte-config")["data"]
    assert config["GROEIRUIMTE_TEMPORAL_NAMESPACE"] in created
    assert config["GROEIRUIMTE_TEMPORAL_ADDRESS"].startswith("temporal-frontend.")


# --- Helm values for the Temporal chart ------------------------------------------------------------------

# Maps the chart passes through as they are, whose keys the chart's defaults cannot list.
FREE_FORM = {
    ("server", "config", "persistence", "datastores"),
    ("server", "dynamicConfig"),  # charts/temporal/values/values.dynamic_config.yaml
}


def unknown_value_keys(
    values: dict[str, Any], defaults: dict[str, Any], path: tuple[str, ...] = ()
) -> list[str]:
    """Keys of `values` that the chart's default values do not have (helm silently ignores a typo)."""
    unknown = []
    for key, value in values.items():
        where = (*path, key)
        if where in FREE_FORM:
            continue
        if key not in defaults:
            unknown.append(".".join(where))
        # An empty default ({}, [] or null) takes any content, e.g. resources or podDisruptionBudget.
        elif isinstance(value, dict) and isinstance(defaults[key], dict) and defaults[key]:
            unknown += unknown_value_keys(value, defaults[key], where)
    return unknown


def test_temporal_helm_values_use_only_keys_the_chart_knows() -> None:
    (values,) = documents(DEPLOY / "helm" / "temporal-values.yaml")
    (defaults,) = documents(SCHEMAS / "temporal-helm-chart-1.6.0-values.yaml")
    assert unknown_value_keys(values, defaults) == []
    assert unknown_value_keys({"server": {"replicaCuont": 2}}, defaults) == ["server.replicaCuont"]


def test_temporal_runs_on_postgresql_with_its_password_from_a_cluster_secret() -> None:
    (values,) = documents(DEPLOY / "helm" / "temporal-values.yaml")
    persistence = values["server"]["config"]["persistence"]
    for store in (persistence["defaultStore"], persistence["visibilityStore"]):
        sql = persistence["datastores"][store]["sql"]
        assert sql["pluginName"] == "postgres12"
        assert "password" not in sql and sql["existingSecret"]


# --- The image -------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_installs_the_package_on_python_311_slim_and_runs_as_the_app_user() -> None:
    instructions = dockerfile_instructions()
    assert {argument.split()[0] for op, argument in instructions if op == "FROM"} == {"python:3.11-slim"}
    assert any(op == "RUN" and "pip install ." in argument for op, argument in instructions)
    (user,) = [argument for op, argument in instructions if op == "USER"]
    assert user == f"{APP_USER_ID}:{APP_USER_ID}"
    assert compose()["x-app"]["user"] == user


def test_everything_the_image_copies_exists_and_is_in_the_build_context() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for op, argument in dockerfile_instructions():
        if op == "COPY" and not argument.startswith("--from"):
            *sources, _target = argument.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source.rstrip("/") in included, f"{source} is left out of the build context"
