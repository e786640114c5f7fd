"""Cross-file checks of deploy/ that no schema can make.

The schema validators in scripts/check-deploy.sh say each file is well formed. This
says the files agree with each other and with the server: every variable given to
otp-server is a configuration key it reads, production mode gets every key it
requires, ports, probe paths, labels and users line up, shutdown fits in the grace
period, and the Secret template holds placeholders only.

    python consistency.py REPO_ROOT      check the repository's deploy files
    python consistency.py --self-test REPO_ROOT   check that each rule catches what it should
"""

from __future__ import annotations

import copy
import ipaddress
import re
import sys
from pathlib import Path

import yaml

# Keys that other branches of issue 8 are adding to the server; deploy files may use
# them before they reach .env.example. Drop a key from here once it is documented.
PENDING_KEYS: set[str] = set()

# What APP_ENV=production refuses to start without (wiring.rs, require_production_settings).
PRODUCTION_REQUIRED = {"DATABASE_URL", "REDIS_URL", "SMTP_SERVER", "SECRET_KEY", "TOKEN_SIGNING_KEY"}

# Keys whose values are secrets: never in a ConfigMap.
SECRET_KEYS = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "TOKEN_SIGNING_KEY",
    "SMTP_PASSWORD",
    "GOOGLE_CLIENT_SECRET",
    "GITHUB_CLIENT_SECRET",
}

# The server's defaults that the checks depend on (.env.example).
DEFAULT_SHUTDOWN_TIMEOUT = 30
DEFAULT_MAIL_DIR = "var/mail"

PLACEHOLDER = "REPLACE_WITH"
REAL_KEY_PATTERNS = [
    re.compile(r"k4\.secret\.[A-Za-z0-9_-]{40,}"),
    re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])"),
]


def documented_keys(env_example: str) -> set[str]:
    """The configuration keys .env.example documents (`# KEY=value` lines)."""
    return set(re.findall(r"^# ?([A-Z][A-Z0-9_]*)=", env_example, flags=re.MULTILINE))


def load(root: Path) -> dict:
    """Everything the checks look at, parsed."""
    k8s = {}
    for path in sorted((root / "deploy/k8s").glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        k8s[path.name] = document
    return {
        "keys": documented_keys((root / ".env.example").read_text()),
        "compose": yaml.safe_load((root / "deploy/compose.yaml").read_text()),
        "compose_text": (root / "deploy/compose.yaml").read_text(),
        "env_example": (root / "deploy/env.example").read_text(),
        "dockerfile": (root / "deploy/Dockerfile").read_text(),
        "k8s": k8s,
    }


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.errors.append(message)


def by_kind(k8s: dict, kind: str) -> list[tuple[str, dict]]:
    return [(name, doc) for name, doc in k8s.items() if isinstance(doc, dict) and doc.get("kind") == kind]


def one(k8s: dict, kind: str, report: Report) -> tuple[str, dict]:
    found = by_kind(k8s, kind)
    report.check(len(found) == 1, f"deploy/k8s: expected one {kind}, found {len(found)}")
    return found[0] if found else ("<missing>", {})


def dockerfile_facts(text: str) -> dict:
    lines = re.sub(r"\\\n", " ", text).splitlines()
    instructions = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]

    def last(keyword: str) -> str | None:
        values = [line.split(None, 1)[1] for line in instructions if line.upper().startswith(keyword + " ")]
        return values[-1] if values else None

    env: dict[str, str] = {}
    for line in instructions:
        if line.upper().startswith("ENV "):
            env.update(dict(re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", line)))
    return {
        "expose": last("EXPOSE"),
        "user": last("USER"),
        "workdir": last("WORKDIR"),
        "healthcheck": last("HEALTHCHECK") or "",
        "env": env,
        "text": " ".join(instructions),
    }


def check_keys(where: str, keys, known: set[str], report: Report) -> None:
    for key in sorted(keys):
        report.check(
            key in known or key in PENDING_KEYS,
            f"{where}: {key} is not a configuration key of otp-server (see .env.example)",
        )


def check_compose(data: dict, docker: dict, report: Report) -> None:
    compose = data["compose"]
    services = compose.get("services", {})
    server_services = {
        name: service
        for name, service in services.items()
        if (service.get("build") or {}).get("dockerfile") == "deploy/Dockerfile"
    }
    report.check({"otp-server", "migrate"} <= set(server_services), "compose: otp-server and migrate must build deploy/Dockerfile")
    for name, service in server_services.items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
        check_keys(f"compose service {name}", environment, data["keys"], report)
        if str(environment.get("APP_ENV")) == "production":
            missing = PRODUCTION_REQUIRED - set(environment)
            report.check(not missing, f"compose service {name}: production mode lacks {sorted(missing)}")
        report.check(str(environment.get("RUN_MIGRATIONS")).lower() == "false", f"compose service {name}: RUN_MIGRATIONS must be false (the migrate service migrates)")
        port = str(environment.get("PORT", "8080"))
        report.check(port == docker["expose"], f"compose service {name}: PORT {port} but the Dockerfile exposes {docker['expose']}")
        mail_dir = str(environment.get("MAIL_DIR", "/app/" + DEFAULT_MAIL_DIR))
        if service.get("read_only"):
            writable = [entry.split(":", 1)[0] for entry in service.get("tmpfs", [])]
            writable += [str(volume).split(":")[1] for volume in service.get("volumes", []) if ":" in str(volume)]
            report.check(any(mail_dir == path or mail_dir.startswith(path.rstrip("/") + "/") for path in writable), f"compose service {name}: read-only, but MAIL_DIR {mail_dir} is on no tmpfs or volume")

    migrate = services.get("migrate", {})
    report.check(migrate.get("command") == ["migrate"], "compose: the migrate service must run `migrate`")
    report.check(str(migrate.get("restart", "no")) == "no", "compose: the migrate service must not restart")

    server = services.get("otp-server", {})
    depends = server.get("depends_on") or {}
    report.check(isinstance(depends, dict), "compose: otp-server's depends_on must name conditions")
    if isinstance(depends, dict):
        report.check((depends.get("migrate") or {}).get("condition") == "service_completed_successfully", "compose: otp-server must wait for migrate to complete successfully")
        for other in services:
            if other in server_services:
                continue
            report.check((depends.get(other) or {}).get("condition") == "service_healthy", f"compose: otp-server must wait for {other} to be healthy")
    for name, service in services.items():
        if name == "migrate":
            continue
        health = service.get("healthcheck") or {}
        report.check(bool(health.get("test")) and not health.get("disable"), f"compose: service {name} has no health check")
    test = (server.get("healthcheck") or {}).get("test") or []
    report.check("healthcheck" in test and "/ready" in test, "compose: otp-server's health check must be `otp-server healthcheck /ready`")
    published = [str(port) for port in server.get("ports", [])]
    report.check(any(entry.endswith(":" + docker["expose"]) for entry in published), f"compose: otp-server must publish container port {docker['expose']}")

    grace = str(server.get("stop_grace_period", "10s"))
    match = re.fullmatch(r"(\d+)s", grace)
    shutdown = int((server.get("environment") or {}).get("SHUTDOWN_TIMEOUT_SECONDS", DEFAULT_SHUTDOWN_TIMEOUT))
    report.check(bool(match) and int(match.group(1)) > shutdown, f"compose: otp-server's stop_grace_period {grace} must exceed SHUTDOWN_TIMEOUT_SECONDS ({shutdown} s)")

    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", data["compose_text"]))
    documented = set(re.findall(r"^#? ?([A-Z_][A-Z0-9_]*)=", data["env_example"], flags=re.MULTILINE))
    for variable in sorted(used - documented):
        report.check(False, f"compose: ${{{variable}}} is not described in deploy/env.example")


def container(pod_spec: dict, report: Report, where: str) -> dict:
    containers = pod_spec.get("containers") or []
    report.check(len(containers) == 1, f"{where}: expected one container")
    return containers[0] if containers else {}


def check_hardening(where: str, pod_spec: dict, main: dict, uid: str, report: Report) -> None:
    pod = pod_spec.get("securityContext") or {}
    own = main.get("securityContext") or {}
    report.check(pod.get("runAsNonRoot") is True, f"{where}: pod must set runAsNonRoot")
    report.check(str(pod.get("runAsUser")) == uid, f"{where}: runAsUser {pod.get('runAsUser')} but the image's USER is {uid}")
    report.check(own.get("readOnlyRootFilesystem") is True, f"{where}: the root file system must be read-only")
    report.check(own.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation must be false")
    report.check("ALL" in ((own.get("capabilities") or {}).get("drop") or []), f"{where}: capabilities must drop ALL")
    report.check(pod_spec.get("automountServiceAccountToken") is False, f"{where}: no service account token is needed")
    limits = (main.get("resources") or {}).get("limits") or {}
    report.check("memory" in limits and "cpu" in (main.get("resources") or {}).get("requests", {}), f"{where}: set resource requests and a memory limit")


def probe_path(main: dict, name: str) -> tuple[str | None, object]:
    get = (main.get(name) or {}).get("httpGet") or {}
    return get.get("path"), get.get("port")


def check_k8s(data: dict, docker: dict, report: Report) -> None:
    k8s = data["k8s"]
    _, config_map = one(k8s, "ConfigMap", report)
    secret_file, secret = one(k8s, "Secret", report)
    _, deployment = one(k8s, "Deployment", report)
    _, service = one(k8s, "Service", report)
    _, pdb = one(k8s, "PodDisruptionBudget", report)
    _, job = one(k8s, "Job", report)

    config = {key: str(value) for key, value in (config_map.get("data") or {}).items()}
    secrets = {key: str(value) for key, value in (secret.get("stringData") or {}).items()}
    report.check(not secret.get("data"), "k8s Secret: use stringData with placeholders, not data")
    check_keys("k8s ConfigMap", config, data["keys"], report)
    check_keys("k8s Secret", secrets, data["keys"], report)
    both = set(config) & set(secrets)
    report.check(not both, f"k8s: {sorted(both)} set in both the ConfigMap and the Secret")
    leaked = SECRET_KEYS & set(config)
    report.check(not leaked, f"k8s ConfigMap: {sorted(leaked)} are secrets: put them in the Secret")
    if config.get("APP_ENV") == "production":
        missing = PRODUCTION_REQUIRED - set(config) - set(secrets)
        report.check(not missing, f"k8s: production mode lacks {sorted(missing)}")
    report.check(config.get("RUN_MIGRATIONS", "").lower() == "false", "k8s ConfigMap: RUN_MIGRATIONS must be false (the Job migrates)")
    for entry in filter(None, (part.strip() for part in config.get("TRUSTED_PROXIES", "").split(","))):
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            report.check(False, f"k8s ConfigMap: TRUSTED_PROXIES entry {entry!r} is not an address or range")
            continue
        # Trusting a whole private range lets any pod in it choose its client address.
        widest = 24 if network.version == 4 else 64
        report.check(network.prefixlen >= widest, f"k8s ConfigMap: TRUSTED_PROXIES {entry} is wider than /{widest}: trust the ingress controller's addresses only")
    for key, value in secrets.items():
        report.check(PLACEHOLDER in value, f"k8s {secret_file}: {key} must be a {PLACEHOLDER}... placeholder")
        for pattern in REAL_KEY_PATTERNS:
            report.check(not pattern.search(value), f"k8s {secret_file}: {key} looks like a real key")
    report.check(secret_file.endswith(".example.yaml"), "k8s: the Secret template's file name must end in .example.yaml")
    # A forgotten placeholder must stop the server, not become the key (wiring.rs).
    report.check(len(secrets.get("SECRET_KEY", "").encode()) < 32, f"k8s {secret_file}: the SECRET_KEY placeholder must be under 32 bytes, or the server accepts it as the secret")
    report.check(not secrets.get("TOKEN_SIGNING_KEY", "").startswith("k4."), f"k8s {secret_file}: the TOKEN_SIGNING_KEY placeholder must not look like a PASERK")

    spec = deployment.get("spec") or {}
    template = spec.get("template") or {}
    pod_labels = (template.get("metadata") or {}).get("labels") or {}
    pod_spec = template.get("spec") or {}
    main = container(pod_spec, report, "k8s Deployment")
    report.check(int(spec.get("replicas", 1)) >= 2, "k8s Deployment: run several replicas")
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    report.check(selector.items() <= pod_labels.items(), "k8s Deployment: selector does not match the pod labels")
    service_selector = (service.get("spec") or {}).get("selector") or {}
    report.check(bool(service_selector) and service_selector.items() <= pod_labels.items(), "k8s Service: selector does not match the Deployment's pods")
    pdb_selector = ((pdb.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    report.check(bool(pdb_selector) and pdb_selector.items() <= pod_labels.items(), "k8s PodDisruptionBudget: selector does not match the Deployment's pods")

    port = config.get("PORT", "8080")
    ports = {str(entry.get("name")): str(entry.get("containerPort")) for entry in main.get("ports") or []}
    report.check(ports.get("http") == port, f"k8s Deployment: container port http must be PORT ({port})")
    report.check(port == docker["expose"], f"k8s ConfigMap: PORT {port} but the Dockerfile exposes {docker['expose']}")
    targets = [str(entry.get("targetPort")) for entry in (service.get("spec") or {}).get("ports") or []]
    report.check(targets and all(target in ("http", port) for target in targets), "k8s Service: targetPort must be the container's http port")
    for name, expected in (("readinessProbe", "/ready"), ("livenessProbe", "/health"), ("startupProbe", "/health")):
        path, probe_port = probe_path(main, name)
        report.check(path == expected, f"k8s Deployment: {name} must GET {expected}, not {path}")
        report.check(str(probe_port) in ("http", port), f"k8s Deployment: {name} must use the http port")

    shutdown = int(config.get("SHUTDOWN_TIMEOUT_SECONDS", DEFAULT_SHUTDOWN_TIMEOUT))
    pause = int((((main.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds", 0))
    grace = int(pod_spec.get("terminationGracePeriodSeconds", 30))
    report.check(grace > pause + shutdown, f"k8s Deployment: terminationGracePeriodSeconds {grace} must exceed the preStop pause ({pause} s) plus SHUTDOWN_TIMEOUT_SECONDS ({shutdown} s)")

    uid = docker["user"].split(":")[0] if docker["user"] else "0"
    check_hardening("k8s Deployment", pod_spec, main, uid, report)
    mounts = [str(mount.get("mountPath")) for mount in main.get("volumeMounts") or []]
    mail_dir = config.get("MAIL_DIR", (docker["workdir"] or "/").rstrip("/") + "/" + DEFAULT_MAIL_DIR)
    report.check(any(mail_dir == path or mail_dir.startswith(path.rstrip("/") + "/") for path in mounts), f"k8s Deployment: MAIL_DIR {mail_dir} is on no writable volume")

    job_spec = (job.get("spec") or {}).get("template") or {}
    job_pod = job_spec.get("spec") or {}
    job_main = container(job_pod, report, "k8s Job")
    report.check(job_main.get("args") == ["migrate"], "k8s Job: must run `migrate`")
    report.check(job_main.get("image") == main.get("image"), "k8s Job: must run the Deployment's image")
    report.check(job_pod.get("restartPolicy") in ("Never", "OnFailure"), "k8s Job: restartPolicy must be Never or OnFailure")
    job_labels = (job_spec.get("metadata") or {}).get("labels") or {}
    report.check(not (service_selector.items() <= job_labels.items()), "k8s Job: its pod must not match the Service selector")
    check_hardening("k8s Job", job_pod, job_main, uid, report)
    for where, spec_container in (("Deployment", main), ("Job", job_main)):
        refs = {(kind, (ref.get(kind) or {}).get("name")) for ref in spec_container.get("envFrom") or [] for kind in ("configMapRef", "secretRef") if kind in ref}
        expected = {("configMapRef", config_map.get("metadata", {}).get("name")), ("secretRef", secret.get("metadata", {}).get("name"))}
        report.check(refs == expected, f"k8s {where}: envFrom must name the ConfigMap and the Secret")
        check_keys(f"k8s {where} env", [entry.get("name") for entry in spec_container.get("env") or []], data["keys"], report)

    kustomization = k8s.get("kustomization.yaml")
    if kustomization is not None:
        resources = kustomization.get("resources") or []
        for resource in resources:
            report.check(resource in k8s, f"k8s kustomization: {resource} does not exist")
        report.check(secret_file not in resources, "k8s kustomization: must not apply the Secret template")
        image_name = str(main.get("image", "")).rsplit(":", 1)[0]
        names = [entry.get("name") for entry in kustomization.get("images") or []]
        report.check(not names or image_name in names, f"k8s kustomization: images must name {image_name}")


def check_dockerfile(docker: dict, report: Report) -> None:
    user = docker["user"] or ""
    report.check(bool(re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", user)), f"Dockerfile: USER must be a numeric non-root user, not {user!r}")
    report.check("otp-server" in docker["healthcheck"] and "healthcheck" in docker["healthcheck"].split("CMD", 1)[-1], "Dockerfile: HEALTHCHECK must run `otp-server healthcheck`")
    report.check("cargo build --release -p otp-server --locked" in docker["text"], "Dockerfile: build with `cargo build --release -p otp-server --locked`")
    report.check(docker["env"].get("HOST") == "0.0.0.0", "Dockerfile: HOST must be 0.0.0.0 so the server is reachable from outside the container")
    report.check(docker["env"].get("PORT") == docker["expose"], "Dockerfile: PORT must be the exposed port")


def run(data: dict) -> list[str]:
    report = Report()
    docker = dockerfile_facts(data["dockerfile"])
    check_dockerfile(docker, report)
    check_compose(data, docker, report)
    check_k8s(data, docker, report)
    return report.errors


def self_test(root: Path) -> list[str]:
    """Each mutation must produce an error containing the given text."""
    base = load(root)
    problems = [f"the real files fail: {error}" for error in run(base)]

    def deployment(data):
        return data["k8s"]["deployment.yaml"]["spec"]["template"]["spec"]

    def server_env(data):
        return data["compose"]["services"]["otp-server"]["environment"]

    mutations = [
        ("unknown key in compose", lambda d: server_env(d).__setitem__("BIND_ADDRESS", "0.0.0.0"), "BIND_ADDRESS is not a configuration key"),
        ("production key missing in compose", lambda d: server_env(d).pop("SMTP_SERVER"), "production mode lacks ['SMTP_SERVER']"),
        ("readiness on /health", lambda d: deployment(d)["containers"][0]["readinessProbe"]["httpGet"].__setitem__("path", "/health"), "readinessProbe must GET /ready"),
        ("short grace period", lambda d: deployment(d).__setitem__("terminationGracePeriodSeconds", 30), "terminationGracePeriodSeconds 30 must exceed"),
        ("real key in the Secret", lambda d: d["k8s"]["secret.example.yaml"]["stringData"].__setitem__("SECRET_KEY", "ab" * 32), "SECRET_KEY looks like a real key"),
        ("placeholder the server would accept", lambda d: d["k8s"]["secret.example.yaml"]["stringData"].__setitem__("SECRET_KEY", "REPLACE_WITH_SECRET_KEY_FROM_KEYGEN"), "must be under 32 bytes"),
        ("secret in the ConfigMap", lambda d: d["k8s"]["configmap.yaml"]["data"].__setitem__("SECRET_KEY", "x"), "are secrets"),
        ("Service selects nothing", lambda d: d["k8s"]["service.yaml"]["spec"]["selector"].__setitem__("app.kubernetes.io/name", "other"), "k8s Service: selector"),
        ("writable root", lambda d: deployment(d)["containers"][0]["securityContext"].__setitem__("readOnlyRootFilesystem", False), "read-only"),
        ("proxies trusted too widely", lambda d: d["k8s"]["configmap.yaml"]["data"].__setitem__("TRUSTED_PROXIES", "10.0.0.0/8"), "TRUSTED_PROXIES 10.0.0.0/8 is wider than /24"),
        ("port mismatch", lambda d: d["k8s"]["configmap.yaml"]["data"].__setitem__("PORT", "9090"), "PORT 9090 but the Dockerfile exposes"),
        ("root user", lambda d: d.__setitem__("dockerfile", d["dockerfile"].replace("USER 65532:65532", "USER root")), "numeric non-root user"),
        ("server does not wait for migrate", lambda d: d["compose"]["services"]["otp-server"]["depends_on"].pop("migrate"), "wait for migrate"),
        ("undocumented compose variable", lambda d: d.__setitem__("compose_text", d["compose_text"] + "\n# ${NEW_SECRET}\n"), "NEW_SECRET"),
    ]
    for name, mutate, expected in mutations:
        data = copy.deepcopy(base)
        mutate(data)
        errors = run(data)
        if not any(expected in error for error in errors):
            problems.append(f"mutation {name!r} was not caught (expected {expected!r}; got {errors})")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--self-test":
        problems = self_test(Path(argv[2]))
        for problem in problems:
            print(f"self-test: {problem}", file=sys.stderr)
        print(f"consistency self-test: {'failed' if problems else 'every rule caught its mutation'}")
        return 1 if problems else 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    data = load(Path(argv[1]))
    for key in sorted(PENDING_KEYS & data["keys"]):
        print(f"note: {key} is now documented in .env.example: remove it from PENDING_KEYS", file=sys.stderr)
    errors = run(data)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    print(f"consistency: {len(errors)} problem(s)" if errors else "consistency: deploy files agree with each other and the server")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
