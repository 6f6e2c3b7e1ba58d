#!/usr/bin/env python3
"""Offline checks of the deployment files in k8s/ (run by k8s_manifests_test.sh).

Checks that every YAML and TOML file parses; that kustomize builds the base and the example overlay; that
the built manifests carry what issue 9 asks for (probes, resources, non-root read-only securityContext,
static membership, read-only config and rules, PodDisruptionBudget, Service + ServiceMonitor, a KEDA
ScaledObject capped at the input partition count, the six Strimzi topics with compaction where needed) and
agree with each other and with the service config; that the Dockerfile's runtime stage installs the
Debian packages of every shared library the binary links; that the Grafana dashboard parses and queries
only the metric names and labels the runtime exposes. It also runs the checks on broken copies of the
manifests, to prove that they can fail.

Usage: k8s_manifests_check.py SOURCE_DIR BOUNCESTREAM_BINARY KUSTOMIZE_COMMAND...
Prints one line per failed check and a summary; exits 1 if anything failed.
"""

import copy
import json
import os
import re
import subprocess
import sys
import tomllib

import yaml

METRICS = {
    "bouncestream_records_in_total": {"stage"},
    "bouncestream_events_total": {"provider", "category"},
    "bouncestream_dlq_total": {"reason"},
    "bouncestream_alerts_total": {"kind", "state"},
    "bouncestream_suppressions_total": {"action"},
    "bouncestream_consumer_lag": {"partition"},
    "bouncestream_late_events_total": set(),
    "bouncestream_sink_queue_depth": {"sink"},
    "bouncestream_state_addresses": set(),
    "bouncestream_rules_reload_success": set(),
    "bouncestream_rebalances_total": set(),
}
# Labels Prometheus adds to every series scraped through the ServiceMonitor.
TARGET_LABELS = {"namespace", "pod", "instance", "job", "service", "container", "endpoint"}
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values",
    "group", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
    "offset", "rate", "irate", "increase", "delta", "idelta", "deriv", "abs", "clamp_min", "clamp_max",
    "clamp", "histogram_quantile", "label_replace", "label_join", "vector", "scalar", "time", "timestamp",
    "round", "ceil", "floor", "sort", "sort_desc", "absent", "changes", "resets", "sum_over_time",
    "avg_over_time", "max_over_time", "min_over_time", "count_over_time", "last_over_time", "predict_linear",
}
TOPICS = {
    "mta-logs": "delete",
    "bouncestream-alerts": "delete",
    "bouncestream-suppressions": "compact",
    "bouncestream-dlq": "delete",
    "bouncestream-changelog": "compact",
    "bouncestream-repartition": "delete",
}
METRICS_PORT = 9464
RULE_FIELDS = ("id", "category", "action", "scope", "bounce_type")


class Checker:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)
        return ok


# ----------------------------------------------------------------------------------------------- files

def check_files(c, k8s_dir):
    yaml_files, toml_files = [], []
    for root, _, files in os.walk(k8s_dir):
        for f in files:
            p = os.path.join(root, f)
            if f.endswith((".yaml", ".yml")):
                yaml_files.append(p)
            elif f.endswith((".toml", ".rules")):
                toml_files.append(p)
    c.check(len(yaml_files) >= 10, f"expected the k8s/ YAML files, found {len(yaml_files)}")
    for p in sorted(yaml_files):
        try:
            with open(p) as fh:
                docs = [d for d in yaml.safe_load_all(fh) if d is not None]
        except yaml.YAMLError as e:
            c.check(False, f"{p}: YAML does not parse: {e}")
            continue
        c.check(len(docs) > 0, f"{p}: no YAML document")
        for d in docs:
            if c.check(isinstance(d, dict), f"{p}: a document is not a mapping"):
                if "patch" not in os.path.basename(p):
                    c.check("apiVersion" in d and "kind" in d, f"{p}: a document lacks apiVersion/kind")
    for p in sorted(toml_files):
        try:
            with open(p, "rb") as fh:
                doc = tomllib.load(fh)
        except tomllib.TOMLDecodeError as e:
            c.check(False, f"{p}: TOML does not parse: {e}")
            continue
        if p.endswith(".rules"):
            check_rules_doc(c, p, doc)
        else:
            check_config_doc(c, p, doc)
    return toml_files


def check_rules_doc(c, name, doc):
    c.check(isinstance(doc.get("ruleset"), dict) and "provider" in doc["ruleset"],
            f"{name}: missing [ruleset] provider")
    rules = doc.get("rule", [])
    c.check(len(rules) > 0, f"{name}: no [[rule]]")
    for r in rules:
        for f in RULE_FIELDS:
            c.check(f in r, f"{name}: rule {r.get('id', '?')} lacks {f}")


def check_config_doc(c, name, doc):
    kafka = doc.get("kafka", {})
    for key in ("brokers", "group_id", "input_topics"):
        c.check(key in kafka, f"{name}: [kafka] lacks {key}")
    topics = doc.get("topics", {})
    for key in ("alerts", "suppressions", "dlq", "changelog", "repartition"):
        c.check(topics.get(key) in TOPICS, f"{name}: [topics] {key} is not one of the KafkaTopics")
    c.check(doc.get("metrics", {}).get("listen", "").endswith(f":{METRICS_PORT}"),
            f"{name}: [metrics] listen is not on port {METRICS_PORT}")
    props = kafka.get("properties", {})
    c.check(not any("password" in k for k in props), f"{name}: a password in the config file")


# ------------------------------------------------------------------------------------ built manifests

def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def one(c, docs, kind, where):
    found = by_kind(docs, kind)
    c.check(len(found) == 1, f"{where}: expected one {kind}, found {len(found)}")
    return found[0] if found else None


def selector_matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def port_number(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def check_built(c, docs, where, expect_cluster=None):
    """Checks one kustomize output. Returns the number of failures it added."""
    before = len(c.failures)
    sts = one(c, docs, "StatefulSet", where)
    cms = {d["metadata"]["name"]: d for d in by_kind(docs, "ConfigMap")}
    pod_labels, config = {}, {}
    if sts:
        spec = sts["spec"]
        tmpl = spec["template"]
        pod_labels = tmpl["metadata"].get("labels", {})
        pod = tmpl["spec"]
        c.check(selector_matches(spec["selector"].get("matchLabels"), pod_labels),
                f"{where}: StatefulSet selector does not match its pod labels")
        c.check("replicas" not in spec, f"{where}: StatefulSet sets replicas (KEDA owns the count)")
        psc = pod.get("securityContext", {})
        c.check(psc.get("runAsNonRoot") is True, f"{where}: pod securityContext.runAsNonRoot is not true")
        c.check(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0,
                f"{where}: pod runAsUser is not a non-zero uid")
        c.check(pod.get("automountServiceAccountToken") is False, f"{where}: service account token mounted")
        containers = pod.get("containers", [])
        c.check(len(containers) == 1, f"{where}: expected one container")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for ct in containers:
            name = ct.get("name")
            csc = ct.get("securityContext", {})
            c.check(csc.get("readOnlyRootFilesystem") is True, f"{where}: {name}: root filesystem not read-only")
            c.check(csc.get("allowPrivilegeEscalation") is False, f"{where}: {name}: privilege escalation allowed")
            c.check("ALL" in csc.get("capabilities", {}).get("drop", []), f"{where}: {name}: capabilities not dropped")
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                get = ct.get(probe, {}).get("httpGet", {})
                c.check(get.get("path") == path and port_number(ct, get.get("port")) == METRICS_PORT,
                        f"{where}: {name}: {probe} is not GET {path} on {METRICS_PORT}")
            res = ct.get("resources", {})
            for kind_ in ("requests", "limits"):
                c.check("memory" in res.get(kind_, {}), f"{where}: {name}: no memory {kind_}")
            c.check("cpu" in res.get("requests", {}), f"{where}: {name}: no cpu request")
            env = {e["name"]: e for e in ct.get("env", [])}
            gid = env.get("BOUNCESTREAM_KAFKA_GROUP_INSTANCE_ID", {})
            c.check(gid.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name",
                    f"{where}: {name}: group.instance.id is not taken from the pod name")
            c.check(not any("value" in e and "PASSWORD" in n for n, e in env.items()),
                    f"{where}: {name}: a password given as a literal env value")
            mounts = {m["mountPath"]: m for m in ct.get("volumeMounts", [])}
            for m in mounts.values():
                c.check("subPath" not in m, f"{where}: {name}: subPath mount {m['mountPath']} misses updates")
                vol = volumes.get(m["name"], {})
                c.check(m["name"] in volumes, f"{where}: {name}: mount of unknown volume {m['name']}")
                if m.get("readOnly") is not True:
                    c.check("emptyDir" in vol or "persistentVolumeClaim" in vol,
                            f"{where}: {name}: writable mount {m['mountPath']} is not an emptyDir/PVC")
                src = vol.get("configMap") or vol.get("secret")
                if src is not None:
                    c.check(m.get("readOnly") is True, f"{where}: {name}: {m['mountPath']} not read-only")
                if "configMap" in vol:
                    c.check(vol["configMap"]["name"] in cms,
                            f"{where}: volume {m['name']} names missing ConfigMap {vol['configMap']['name']}")
            c.check("/tmp" in mounts, f"{where}: {name}: no writable /tmp")
            args = ct.get("args", [])
            cfg_path = args[args.index("--config") + 1] if "--config" in args[:-1] else None
            c.check(args[:1] == ["run"] and cfg_path, f"{where}: {name}: not started as 'run --config FILE'")
            rules_cm = None
            for path, m in mounts.items():
                cm_name = volumes.get(m["name"], {}).get("configMap", {}).get("name")
                if cm_name in cms and cfg_path and cfg_path.startswith(path + "/"):
                    data = cms[cm_name].get("data", {})
                    key = cfg_path[len(path) + 1:]
                    if c.check(key in data, f"{where}: config file {key} not in ConfigMap {cm_name}"):
                        try:
                            config = tomllib.loads(data[key])
                            check_config_doc(c, f"{where}: ConfigMap {cm_name}/{key}", config)
                        except tomllib.TOMLDecodeError as e:
                            c.check(False, f"{where}: ConfigMap {cm_name}/{key} is not TOML: {e}")
                if cm_name and path.endswith("/rules"):
                    rules_cm = cm_name
            c.check(cfg_path is not None and any(cfg_path.startswith(p + "/") for p in mounts),
                    f"{where}: config path {cfg_path} is not on a mounted volume")
            if c.check(rules_cm in cms, f"{where}: no rules ConfigMap mounted at .../rules"):
                data = cms[rules_cm].get("data", {})
                c.check(len(data) > 0, f"{where}: rules ConfigMap is empty")
                for key, text in data.items():
                    try:
                        check_rules_doc(c, f"{where}: ConfigMap {rules_cm}/{key}", tomllib.loads(text))
                    except tomllib.TOMLDecodeError as e:
                        c.check(False, f"{where}: ConfigMap {rules_cm}/{key} is not TOML: {e}")
                # Hot reload needs the same ConfigMap updated in place, not a renamed copy.
                c.check(rules_cm == "bouncestream-rules", f"{where}: rules ConfigMap name {rules_cm} carries a hash")

    pdb = one(c, docs, "PodDisruptionBudget", where)
    if pdb:
        c.check(selector_matches(pdb["spec"].get("selector", {}).get("matchLabels"), pod_labels),
                f"{where}: PodDisruptionBudget selector does not match the pods")
        c.check("maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"],
                f"{where}: PodDisruptionBudget sets neither maxUnavailable nor minAvailable")

    svc = one(c, docs, "Service", where)
    if svc:
        c.check(selector_matches(svc["spec"].get("selector"), pod_labels), f"{where}: Service selects no pods")
        c.check(any(p.get("name") == "metrics" and p.get("port") == METRICS_PORT for p in svc["spec"]["ports"]),
                f"{where}: Service has no metrics port {METRICS_PORT}")
        if sts:
            c.check(sts["spec"].get("serviceName") == svc["metadata"]["name"],
                    f"{where}: StatefulSet serviceName is not the Service")
    sm = one(c, docs, "ServiceMonitor", where)
    if sm and svc:
        c.check(selector_matches(sm["spec"]["selector"].get("matchLabels"), svc["metadata"].get("labels", {})),
                f"{where}: ServiceMonitor does not select the Service")
        c.check(any(e.get("port") == "metrics" and e.get("path", "/metrics") == "/metrics"
                    for e in sm["spec"].get("endpoints", [])), f"{where}: ServiceMonitor does not scrape /metrics")

    topics = {}
    for t in by_kind(docs, "KafkaTopic"):
        topics[t["spec"].get("topicName", t["metadata"]["name"])] = t
    c.check(set(topics) == set(TOPICS), f"{where}: KafkaTopics are {sorted(topics)}, want {sorted(TOPICS)}")
    clusters = {t["metadata"].get("labels", {}).get("strimzi.io/cluster") for t in topics.values()}
    c.check(len(clusters) == 1 and None not in clusters, f"{where}: KafkaTopics name clusters {clusters}")
    if expect_cluster:
        c.check(clusters == {expect_cluster}, f"{where}: KafkaTopics are not on cluster {expect_cluster}")
    for name, policy in TOPICS.items():
        if name in topics:
            got = topics[name]["spec"].get("config", {}).get("cleanup.policy")
            c.check(got == policy, f"{where}: topic {name} cleanup.policy is {got}, want {policy}")
            c.check(topics[name]["spec"].get("replicas", 0) >= 1, f"{where}: topic {name} has no replicas")

    def partitions(name):
        return topics.get(name, {}).get("spec", {}).get("partitions")
    c.check(partitions("mta-logs") == partitions("bouncestream-changelog") == partitions("bouncestream-repartition"),
            f"{where}: input, changelog and repartition topics are not co-partitioned")

    so = one(c, docs, "ScaledObject", where)
    if so and sts:
        spec = so["spec"]
        ref = spec.get("scaleTargetRef", {})
        c.check(ref.get("kind") == "StatefulSet" and ref.get("name") == sts["metadata"]["name"],
                f"{where}: ScaledObject does not target the StatefulSet")
        kafka_triggers = [t for t in spec.get("triggers", []) if t.get("type") == "kafka"]
        if c.check(len(kafka_triggers) == 1, f"{where}: ScaledObject needs one kafka trigger"):
            md = kafka_triggers[0]["metadata"]
            topic = md.get("topic")
            c.check(topic in topics, f"{where}: ScaledObject topic {topic} is not a KafkaTopic")
            c.check(spec.get("maxReplicaCount") == partitions(topic),
                    f"{where}: maxReplicaCount {spec.get('maxReplicaCount')} != partitions of {topic} "
                    f"({partitions(topic)})")
            if config:
                c.check(md.get("consumerGroup") == config.get("kafka", {}).get("group_id"),
                        f"{where}: ScaledObject watches group {md.get('consumerGroup')}, config says another")
                c.check(topic in config.get("kafka", {}).get("input_topics", []),
                        f"{where}: ScaledObject topic {topic} is not a configured input topic")
                c.check(md.get("bootstrapServers") == config.get("kafka", {}).get("brokers"),
                        f"{where}: ScaledObject and config name different brokers")
            auth = kafka_triggers[0].get("authenticationRef", {}).get("name")
            if auth:
                c.check(auth in {d["metadata"]["name"] for d in by_kind(docs, "TriggerAuthentication")},
                        f"{where}: ScaledObject uses missing TriggerAuthentication {auth}")
        c.check(1 <= spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 0),
                f"{where}: minReplicaCount out of range")
    return len(c.failures) - before


def check_can_fail(c, docs):
    """Each mutation breaks one requirement; the checks must notice every one."""
    def mutate(f):
        d = copy.deepcopy(docs)
        f(d)
        return d

    def sts(d):
        return by_kind(d, "StatefulSet")[0]["spec"]["template"]["spec"]

    def topic(d, name):
        return next(t for t in by_kind(d, "KafkaTopic") if t["spec"]["topicName"] == name)

    mutations = {
        "writable root filesystem":
            lambda d: sts(d)["containers"][0]["securityContext"].update(readOnlyRootFilesystem=False),
        "no readiness probe": lambda d: sts(d)["containers"][0].pop("readinessProbe"),
        "liveness on the wrong port":
            lambda d: sts(d)["containers"][0]["livenessProbe"]["httpGet"].update(port=8080),
        "no memory limit": lambda d: sts(d)["containers"][0]["resources"]["limits"].pop("memory"),
        "root user": lambda d: sts(d)["securityContext"].update(runAsUser=0),
        "suppressions not compacted":
            lambda d: topic(d, "bouncestream-suppressions")["spec"]["config"].update({"cleanup.policy": "delete"}),
        "changelog not compacted":
            lambda d: topic(d, "bouncestream-changelog")["spec"]["config"].pop("cleanup.policy"),
        "maxReplicaCount above partitions":
            lambda d: by_kind(d, "ScaledObject")[0]["spec"].update(maxReplicaCount=99),
        "no PodDisruptionBudget": lambda d: d.remove(by_kind(d, "PodDisruptionBudget")[0]),
        "config mounted writable":
            lambda d: [m.update(readOnly=False) for m in sts(d)["containers"][0]["volumeMounts"]
                       if m["mountPath"] == "/etc/bouncestream/config"],
    }
    for what, f in mutations.items():
        probe = Checker()
        added = check_built(probe, mutate(f), "mutation")
        c.check(added > 0, f"the checks did not notice: {what}")


# ---------------------------------------------------------------------------------------- Dockerfile

def check_dockerfile(c, path, binary, run_as_user):
    with open(path) as fh:
        text = fh.read()
    # Join continuation lines, drop comments.
    lines = [ln for ln in text.replace("\\\n", " ").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    stages, cur = [], None
    for ln in lines:
        word, _, rest = ln.strip().partition(" ")
        word = word.upper()
        if word == "FROM":
            cur = {"from": rest.split()[0], "name": rest.split()[-1] if " AS " in rest.upper() else "",
                   "lines": []}
            stages.append(cur)
        elif cur is not None:
            cur["lines"].append((word, rest.strip()))
    c.check(len(stages) >= 2, f"{path}: not a multi-stage build")
    for s in stages:
        c.check(re.match(r"debian:(12|bookworm)\b", s["from"]) is not None, f"{path}: base {s['from']} is not Debian 12")
    if len(stages) < 2:
        return

    def apt_packages(stage):
        pkgs = []
        for word, rest in stage["lines"]:
            if word == "RUN":
                for m in re.finditer(r"apt-get install ([^&;]*)", rest):
                    pkgs += [p for p in m.group(1).split() if not p.startswith("-")]
        return pkgs
    build, runtime = stages[0], stages[-1]
    build_pkgs, run_pkgs = apt_packages(build), apt_packages(runtime)
    c.check(any("cmake" in r for w, r in build["lines"] if w == "RUN"), f"{path}: build stage does not run cmake")
    c.check(any(p.endswith("-dev") for p in build_pkgs), f"{path}: build stage installs no -dev package")
    c.check(not any(p.endswith("-dev") for p in run_pkgs), f"{path}: runtime stage installs -dev packages")
    # The names must be real Debian 12 packages: this machine builds the project from the same ones.
    for p in build_pkgs + run_pkgs:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
        c.check(r.returncode == 0 and "installed" in r.stdout, f"{path}: package {p} is not a Debian package here")
    users = [r for w, r in runtime["lines"] if w == "USER"]
    c.check(len(users) == 1 and users[0].split(":")[0] == str(run_as_user),
            f"{path}: runtime USER {users} is not uid {run_as_user} (the StatefulSet's runAsUser)")
    c.check(any(w == "COPY" and "--from=" + build["name"] in r and "bouncestream" in r for w, r in runtime["lines"]),
            f"{path}: runtime stage does not copy the binary from the build stage")
    c.check(any(w == "ENTRYPOINT" and "bouncestream" in r for w, r in runtime["lines"]),
            f"{path}: no bouncestream ENTRYPOINT")
    # Every shared library the binary links directly (DT_NEEDED) must come from a package the runtime stage
    # installs; their own dependencies arrive through the packages' dependencies.
    r = subprocess.run(["objdump", "-p", binary], capture_output=True, text=True)
    if not c.check(r.returncode == 0, f"objdump -p {binary} failed: {r.stderr.strip()}"):
        return
    needed = re.findall(r"^\s*NEEDED\s+(\S+)", r.stdout, re.M)
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if not c.check(r.returncode == 0, f"ldd {binary} failed: {r.stderr.strip()}"):
        return
    paths = dict(re.findall(r"^\s*(\S+)\s*=>\s*(/\S+)", r.stdout, re.M))
    base_image = {"libc6", "libgcc-s1"}
    seen = 0
    for lib in needed:
        if re.match(r"lib(asan|ubsan|lsan|tsan)\.", lib) or lib.startswith("ld-linux"):
            continue  # a sanitizer build (the image is built without) or the loader
        c.check(lib in paths, f"{binary}: {lib} does not resolve")
        q = subprocess.run(["dpkg", "-S", "*/" + lib], capture_output=True, text=True)
        owners = {line.split(":")[0] for line in q.stdout.splitlines()
                  if line.rstrip().endswith("/" + lib)}
        seen += 1
        c.check(bool(owners), f"{lib}: no Debian package owns it")
        c.check(bool(owners & (set(run_pkgs) | base_image)),
                f"{path}: runtime stage lacks {lib} (package {sorted(owners)})")
    c.check(seen >= 5, f"{binary} links only {seen} libraries directly; expected the project's")


# ---------------------------------------------------------------------------------------------- Grafana

def promql_check(c, where, expr):
    """Checks that expr uses only the known metrics and their labels; returns the metrics it uses."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"\$\{?\w+\}?", " ", s)
    used = set()
    for metric, body in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}", s):
        for label in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", body):
            c.check(label in METRICS.get(metric, set()) | TARGET_LABELS,
                    f"{where}: label {label} is not a label of {metric}")
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    groupings = re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    for ident in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s):
        if ident in METRICS:
            used.add(ident)
        else:
            c.check(ident in PROMQL_WORDS, f"{where}: '{ident}' is neither a known metric nor PromQL")
    allowed = set().union(*(METRICS[m] for m in used)) | TARGET_LABELS if used else TARGET_LABELS
    for g in groupings:
        for label in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", g):
            c.check(label in allowed, f"{where}: grouping label {label} is not a label of {sorted(used)}")
    c.check(bool(used), f"{where}: the expression uses no bouncestream metric")
    return used


def check_dashboard(c, path):
    try:
        with open(path) as fh:
            dash = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        c.check(False, f"{path}: not JSON: {e}")
        return
    c.check(bool(dash.get("title")) and bool(dash.get("uid")), f"{path}: no title/uid")
    panels = []
    for p in dash.get("panels", []):
        panels.append(p)
        panels += p.get("panels", [])
    ids = [p.get("id") for p in panels]
    c.check(len(ids) == len(set(ids)), f"{path}: panel ids are not unique")
    used = set()
    titles = []
    for p in panels:
        if p.get("type") == "row":
            continue
        titles.append(p.get("title", ""))
        where = f"{path}: panel '{p.get('title')}'"
        c.check("gridPos" in p, f"{where}: no gridPos")
        targets = p.get("targets", [])
        c.check(len(targets) > 0, f"{where}: no query")
        for t in targets:
            if c.check(bool(t.get("expr")), f"{where}: a target without expr"):
                used |= promql_check(c, where, t["expr"])
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v.get("query"), dict) else v.get("query", "")
            m = re.match(r"label_values\((.*),\s*(\w+)\)$", q)
            if c.check(m is not None, f"{path}: variable {v.get('name')} query is not label_values(...)"):
                metrics = promql_check(c, f"{path}: variable {v.get('name')}", m.group(1))
                c.check(all(m.group(2) in METRICS[x] | TARGET_LABELS for x in metrics),
                        f"{path}: variable {v.get('name')} reads a label its metric lacks")
    c.check(used == set(METRICS), f"{path}: metrics without a panel: {sorted(set(METRICS) - used)}")
    # The panels issue 9 asks for.
    for want in ("provider and category", "Deferral rate per provider", "Bounce rate per provider",
                 "Alerts firing", "Dead letters", "lag", "Throughput"):
        c.check(any(want.lower() in t.lower() for t in titles), f"{path}: no panel about '{want}'")


# ------------------------------------------------------------------------------------------------ main

def kustomize(c, cmd, path):
    r = subprocess.run(cmd + [path], capture_output=True, text=True)
    if not c.check(r.returncode == 0, f"kustomize build {path} failed: {r.stderr.strip()}"):
        return []
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def main():
    src, binary, kcmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    k8s = os.path.join(src, "k8s")
    c = Checker()
    check_files(c, k8s)
    base = kustomize(c, kcmd, os.path.join(k8s, "base"))
    overlay = kustomize(c, kcmd, os.path.join(k8s, "overlays", "example"))
    c.check(len(base) >= 12 and len(overlay) > len(base),
            f"kustomize output sizes: base {len(base)}, overlay {len(overlay)}")
    if base:
        check_built(c, base, "base")
    if overlay:
        check_built(c, overlay, "overlay example", expect_cluster="prod-cluster")
        c.check(all(d["metadata"].get("namespace") == "kafka" for d in overlay),
                "overlay example: not every resource is in namespace kafka")
        check_can_fail(c, overlay)
    run_as = 10001
    if base and by_kind(base, "StatefulSet"):
        run_as = by_kind(base, "StatefulSet")[0]["spec"]["template"]["spec"]["securityContext"].get("runAsUser")
    check_dockerfile(c, os.path.join(k8s, "Dockerfile"), binary, run_as)
    check_dashboard(c, os.path.join(k8s, "grafana", "bouncestream.json"))
    for f in c.failures:
        print("FAIL:", f)
    print(f"k8s manifests: {c.passed} checks passed, {len(c.failures)} failed")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
