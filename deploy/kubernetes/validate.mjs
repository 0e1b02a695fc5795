#!/usr/bin/env node
// Renders deploy/kubernetes (base and every overlay) and checks it offline:
//   1. schema: every object against the Kubernetes OpenAPI schemas (the kubernetes-models package,
//      generated from Kubernetes 1.33), strictly: a field the schema does not know is an error too;
//   2. settings: every project of AppHost/LaunchConfiguration.cs has a Deployment, Service,
//      HorizontalPodAutoscaler and PodDisruptionBudget, and its Deployment provides every setting the
//      AppHost gives that project (connection strings, keys, services__*), from a ConfigMap or a
//      Secret key that exists; image and port agree with the project's container settings.
// Rendering: a small renderer for exactly the kustomize features used here (resources, namespace,
// images, replicas, strategic-merge patches); anything else is refused. When kubectl or kustomize is
// on PATH, its rendering is compared with ours as well.
// Usage: npm ci --prefix deploy/kubernetes && node deploy/kubernetes/validate.mjs
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const errors = [];
const fail = (where, message) => errors.push(`${where}: ${message}`);

// ---------------------------------------------------------------- rendering
const clusterScoped = new Set(["Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
  "IngressClass", "PriorityClass", "CustomResourceDefinition"]);
const kustomizationKeys = new Set(["apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"]);

function loadDocs(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter((o) => o !== null);
}

const idOf = (o) => `${o.apiVersion}/${o.kind}/${o.metadata?.name}`;

function render(dir) {
  const file = path.join(dir, "kustomization.yaml");
  const k = YAML.parse(fs.readFileSync(file, "utf8"));
  for (const key of Object.keys(k)) {
    if (!kustomizationKeys.has(key)) throw new Error(`${file}: "${key}" is not supported by this renderer`);
  }
  let objects = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    objects.push(...(fs.statSync(p).isDirectory() ? render(p) : loadDocs(p)));
  }
  for (const patch of k.patches ?? []) {
    if (Object.keys(patch).join() !== "path") throw new Error(`${file}: only "patches: - path: file" is supported`);
    for (const p of loadDocs(path.join(dir, patch.path))) {
      const target = objects.find((o) => idOf(o) === idOf(p));
      if (!target) throw new Error(`${file}: patch ${patch.path} targets ${idOf(p)}, which is not among the resources`);
      objects[objects.indexOf(target)] = merge(target, p, [target.kind]);
    }
  }
  for (const image of k.images ?? []) {
    let used = false;
    for (const c of containersOf(objects)) {
      const { name, tag } = splitImage(c.image);
      if (name !== image.name) continue;
      c.image = `${image.newName ?? name}${image.newTag !== undefined ? ":" + image.newTag : tag ? ":" + tag : ""}`;
      used = true;
    }
    if (!used) throw new Error(`${file}: image ${image.name} is used by no container`);
  }
  for (const r of k.replicas ?? []) {
    const d = objects.find((o) => ["Deployment", "StatefulSet", "ReplicaSet"].includes(o.kind) && o.metadata.name === r.name);
    if (!d) throw new Error(`${file}: replicas for ${r.name}, which is not among the resources`);
    d.spec.replicas = r.count;
  }
  if (k.namespace) {
    for (const o of objects) if (!clusterScoped.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

function splitImage(image) {
  const slash = image.lastIndexOf("/"), colon = image.lastIndexOf(":");
  return colon > slash ? { name: image.slice(0, colon), tag: image.slice(colon + 1) } : { name: image, tag: null };
}

function containersOf(objects) {
  return objects.filter((o) => o.spec?.template?.spec)
    .flatMap((o) => [...(o.spec.template.spec.containers ?? []), ...(o.spec.template.spec.initContainers ?? [])]);
}

// Strategic merge as Kubernetes does it for the fields these manifests use: maps merge, lists with a
// patch merge key merge by it, other lists are replaced, null deletes.
function mergeKey(key, trail) {
  if (["containers", "initContainers", "volumes", "env", "imagePullSecrets"].includes(key)) return "name";
  if (key === "volumeMounts") return "mountPath";
  if (key === "ports") return trail.includes("containers") || trail.includes("initContainers") ? "containerPort" : "port";
  return null;
}

function merge(base, patch, trail) {
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    const key = mergeKey(trail[trail.length - 1], trail);
    if (!key || !Array.isArray(base)) return structuredClone(patch);
    const out = structuredClone(base);
    for (const item of patch) {
      if (item && typeof item === "object" && Object.keys(item).some((k) => k.startsWith("$"))) throw new Error("$patch directives are not supported");
      const i = out.findIndex((b) => b[key] === item[key]);
      if (i >= 0) out[i] = merge(out[i], item, [...trail, "[]"]); else out.push(structuredClone(item));
    }
    return out;
  }
  if (typeof patch !== "object" || typeof base !== "object" || base === null || Array.isArray(base)) return structuredClone(patch);
  const out = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$")) throw new Error(`${k} directives are not supported`);
    const m = merge(out[k], v, [...trail, k]);
    if (m === undefined) delete out[k]; else out[k] = m;
  }
  return out;
}

// ---------------------------------------------------------------- schema
const require = createRequire(import.meta.url);
const modelsDir = path.dirname(require.resolve("kubernetes-models/package.json"));
const apimachineryDir = path.dirname(require.resolve("@kubernetes-models/apimachinery/package.json"));

// The models' declaration files list every field of every type: enough for a strict unknown-field check
// (the schema validators the package ships accept unknown fields, as the API server does unless strict).
function declaredTypes() {
  const types = new Map();
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== "node_modules") walk(p); continue; }
      if (!e.name.endsWith(".d.ts")) continue;
      const text = fs.readFileSync(p, "utf8");
      const local = new Map();
      for (const m of text.matchAll(/^export interface (\w+)(?: extends [^{]+)? \{\n([\s\S]*?)^\}/gm)) {
        const fields = new Map();
        const lines = m[2].split("\n");
        for (let i = 0; i < lines.length; i++) {
          const f = /^ {4}"([^"]+)"\??: (.*?);?$/.exec(lines[i]);
          if (!f) continue;
          let type = f[2];
          if (type === "{") type = "map:" + (/\[key: string\]: (.*);/.exec(lines[i + 1])?.[1] ?? "");
          fields.set(f[1], type);
        }
        local.set(m[1], fields);
      }
      for (const m of text.matchAll(/^export type \{ (\w+) as (IIoK8s\w+)/gm)) {
        if (local.has(m[1])) types.set(m[2], local.get(m[1]));
      }
    }
  };
  walk(modelsDir);
  walk(apimachineryDir);
  return types;
}

function checkFields(value, typeName, types, where) {
  const fields = types.get(typeName);
  if (!fields || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const type = fields.get(k);
    if (type === undefined) { fail(where, `unknown field "${k}"`); continue; }
    checkType(v, type, types, `${where}.${k}`);
  }
}

function checkType(v, type, types, where) {
  let m;
  if ((m = /^Array<(IIoK8s\w+)>$/.exec(type)) && Array.isArray(v)) v.forEach((x, i) => checkFields(x, m[1], types, `${where}[${i}]`));
  else if ((m = /^map:(IIoK8s\w+)$/.exec(type)) && v && typeof v === "object") for (const [k, x] of Object.entries(v)) checkFields(x, m[1], types, `${where}.${k}`);
  else if (/^IIoK8s\w+$/.test(type)) checkFields(v, type, types, where);
}

async function validateSchema(objects, label, types) {
  for (const o of objects) {
    const where = `${label}: ${o.kind}/${o.metadata?.name}`;
    const group = o.apiVersion.includes("/") ? o.apiVersion : o.apiVersion; // "v1", "apps/v1", ...
    let models;
    try { models = await import(`kubernetes-models/${group}`); } catch { fail(where, `unknown apiVersion ${o.apiVersion}`); continue; }
    const Model = models[o.kind];
    if (!Model) { fail(where, `unknown kind ${o.kind} in ${o.apiVersion}`); continue; }
    try { new Model(o).validate(); } catch (e) { fail(where, e.message); }
    const typeName = [...types.keys()].find((t) => t.endsWith(`V${o.apiVersion.split("/").pop().slice(1)}${o.kind}`) &&
      t.toLowerCase().includes((o.apiVersion.includes("/") ? o.apiVersion.split("/")[0].split(".")[0] : "core").replace(/-/g, "")));
    if (!typeName) { fail(where, "no declared type for the strict check"); continue; }
    checkFields(o, typeName, types, where);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata?.name ?? "")) fail(where, "metadata.name is not a DNS label");
  }
}

// ---------------------------------------------------------------- settings
// The project table the AppHost runs: new("tasks", "MissionControl.Tasks", 5102, "tasksdb", "tasks").
function projects() {
  const source = fs.readFileSync(path.join(repo, "AppHost", "LaunchConfiguration.cs"), "utf8");
  const row = /new\("([\w-]+)", "([\w.]+)", (\d+), (?:"(\w+)"|null), (?:"(\w+)"|null)\)/g;
  const list = [...source.matchAll(row)].map((m) => ({ name: m[1], assembly: m[2], connection: m[4] ?? null }));
  if (!list.some((p) => p.name === "edge") || list.length < 2) throw new Error("LaunchConfiguration.cs: project table not found");
  for (const p of list) {
    const csproj = [path.join(repo, "edge"), ...fs.readdirSync(path.join(repo, "services")).map((d) => path.join(repo, "services", d))]
      .map((d) => path.join(d, p.assembly + ".csproj")).find((f) => fs.existsSync(f));
    if (!csproj) throw new Error(`no ${p.assembly}.csproj for ${p.name}`);
    p.csproj = csproj;
    const xml = fs.readFileSync(csproj, "utf8");
    p.repository = /<ContainerRepository>([^<]+)</.exec(xml)?.[1];
    p.port = Number(/<ContainerPort Include="(\d+)"/.exec(xml)?.[1]);
    p.user = /<ContainerUser>([^<]+)</.exec(xml)?.[1];
    p.baseImage = /<ContainerBaseImage>([^<]+)</.exec(xml)?.[1];
    // Services that keep a Data Protection key ring (SecretsAtRest) need it shared by their replicas.
    p.keyRing = fs.readFileSync(path.join(path.dirname(csproj), "Program.cs"), "utf8").includes("AddSecretsAtRest(");
  }
  return list;
}

function checkSettings(objects, label, list) {
  const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const services = list.filter((p) => p.name !== "edge");
  for (const o of objects.filter((o) => o.kind === "Deployment")) {
    if (!list.some((p) => p.name === o.metadata.name)) fail(`${label}: Deployment/${o.metadata.name}`, "is no project of LaunchConfiguration.cs");
  }
  for (const p of list) {
    const where = `${label}: ${p.name}`;
    const isEdge = p.name === "edge";
    if (!p.repository || !p.port || !p.user || p.baseImage !== "mcr.microsoft.com/dotnet/aspnet:10.0") fail(where, `${path.relative(repo, p.csproj)} lacks container settings (ContainerRepository, ContainerPort, ContainerUser, ContainerBaseImage aspnet:10.0)`);
    const d = find("Deployment", p.name);
    if (!d) { fail(where, "no Deployment"); continue; }
    const labels = d.spec.template.metadata.labels;
    const selects = (sel) => sel && Object.entries(sel).every(([k, v]) => labels[k] === v);
    const svc = find("Service", p.name);
    if (!svc || !selects(svc.spec.selector)) fail(where, "no Service selecting its pods");
    const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.spec.scaleTargetRef.kind === "Deployment" && o.spec.scaleTargetRef.name === p.name);
    if (!hpa) fail(where, "no HorizontalPodAutoscaler");
    else if (!hpa.spec.metrics?.some((m) => m.type === "Resource" && m.resource.name === "cpu")) fail(where, "the HorizontalPodAutoscaler does not scale on CPU");
    if (!objects.some((o) => o.kind === "PodDisruptionBudget" && selects(o.spec.selector?.matchLabels))) fail(where, "no PodDisruptionBudget");

    const pod = d.spec.template.spec;
    const c = pod.containers.find((x) => x.name === p.name);
    if (!c) { fail(where, `no container named ${p.name}`); continue; }
    const image = splitImage(c.image).name;
    if (!(image === p.repository || image.endsWith("/" + p.repository))) fail(where, `image ${c.image} is not ${p.repository} (ContainerRepository)`);
    if (!c.ports?.some((x) => x.containerPort === p.port && x.name === "http")) fail(where, `no container port "http" ${p.port} (ContainerPort)`);
    if (svc && !svc.spec.ports.some((x) => x.targetPort === "http" || x.targetPort === p.port)) fail(where, "the Service does not target the http port");
    if (c.livenessProbe?.httpGet?.path !== "/alive") fail(where, "liveness probe is not /alive");
    if (c.readinessProbe?.httpGet?.path !== "/health") fail(where, "readiness probe is not /health");
    if (!c.startupProbe) fail(where, "no startup probe");
    for (const r of ["cpu", "memory"]) {
      if (!c.resources?.requests?.[r]) fail(where, `no ${r} request`);
    }
    if (!c.resources?.limits?.memory) fail(where, "no memory limit");
    if (pod.securityContext?.runAsNonRoot !== true) fail(where, "pod does not run as non-root");
    if (c.securityContext?.readOnlyRootFilesystem !== true || c.securityContext?.allowPrivilegeEscalation !== false) fail(where, "container: readOnlyRootFilesystem and no privilege escalation expected");
    if (!c.volumeMounts?.some((m) => m.mountPath === "/tmp")) fail(where, "read-only root without a writable /tmp");

    // The environment the container gets: envFrom ConfigMaps, then env.
    const env = new Map();
    for (const from of c.envFrom ?? []) {
      const cm = from.configMapRef && find("ConfigMap", from.configMapRef.name);
      if (!cm) { fail(where, `envFrom ${JSON.stringify(from)}: no such ConfigMap`); continue; }
      for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, { value: v, from: `ConfigMap ${cm.metadata.name}` });
    }
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      if (ref) {
        const kind = e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap";
        const o = find(kind, ref.name);
        const data = { ...(o?.data ?? {}), ...(o?.stringData ?? {}) };
        if (!(ref.key in data) && !ref.optional) fail(where, `${e.name}: ${kind} ${ref.name} has no key ${ref.key}`);
        env.set(e.name, { secret: kind === "Secret", optional: !!ref.optional, value: data[ref.key] });
      } else env.set(e.name, { value: e.value ?? "", field: !!e.valueFrom?.fieldRef });
    }
    // What AppHost/LaunchConfiguration.EnvironmentFor gives this project.
    const need = (name, test, why) => {
      const v = env.get(name);
      if (!v || (v.optional && !v.value)) fail(where, `${name} is not provided${why ? ` (${why})` : ""}`);
      else if (test && !test(v)) fail(where, `${name} is not as expected${why ? ` (${why})` : ""}: ${JSON.stringify(v)}`);
    };
    const secret = (v) => v.secret && !v.optional;
    need("ConnectionStrings__messaging", secret, "the broker, from a Secret");
    need("InternalAuth__VerificationKey", secret, "from a Secret");
    need("OTEL_SERVICE_NAME", (v) => v.value === p.name);
    need("ASPNETCORE_ENVIRONMENT");
    need("ASPNETCORE_HTTP_PORTS", (v) => v.value === String(p.port), "the container port");
    if (!env.has("ConnectionStrings__redis")) fail(where, "ConnectionStrings__redis is not wired (optional Secret key)");
    for (const s of services) {
      need(`services__${s.name}__http__0`, (v) => {
        const target = find("Service", s.name);
        return target && v.value === `http://${s.name}:${target.spec.ports.find((x) => x.name === "http")?.port}`;
      }, `the ${s.name} Service's http port`);
    }
    if (isEdge) {
      need("InternalAuth__SigningKey", secret, "from a Secret");
      need("MC_ADMIN_TOKEN", secret, "from a Secret");
    } else {
      if (env.has("InternalAuth__SigningKey") || env.has("MC_ADMIN_TOKEN")) fail(where, "only the edge may hold the signing key and the admin token");
      need("ASPNETCORE_FORWARDEDHEADERS_ENABLED", (v) => v.value === "true");
      need("MissionControl__PublicUrl", (v) => /^https?:\/\//.test(v.value));
      if (p.connection) need(`ConnectionStrings__${p.connection}`, secret, "its database, from a Secret");
    }
    if (p.keyRing) {
      need("DataProtection__KeysPath");
      const keys = env.get("DataProtection__KeysPath")?.value ?? "";
      const mount = c.volumeMounts?.find((m) => keys === m.mountPath || keys.startsWith(m.mountPath + "/"));
      const volume = mount && pod.volumes?.find((v) => v.name === mount.name);
      const pvc = volume?.persistentVolumeClaim && find("PersistentVolumeClaim", volume.persistentVolumeClaim.claimName);
      if (!pvc) fail(where, `DataProtection__KeysPath ${keys} is not on a PersistentVolumeClaim (replicas must share the key ring)`);
      else if (!pvc.spec.accessModes.includes("ReadWriteMany")) fail(where, "the key ring's PersistentVolumeClaim is not ReadWriteMany");
    }
  }
}

// ---------------------------------------------------------------- main
const canonical = (objects) => JSON.stringify(objects.map(sortKeys).sort((a, b) => idOf(a).localeCompare(idOf(b))));
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}
function externalRender(dir) {
  for (const [cmd, args] of [["kustomize", ["build", dir]], ["kubectl", ["kustomize", dir]]]) {
    try { return { tool: cmd, objects: YAML.parseAllDocuments(execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })).map((d) => d.toJS()).filter(Boolean) }; }
    catch (e) { if (e.code !== "ENOENT") return { tool: cmd, error: (e.stderr || e.message).toString() }; }
  }
  return null;
}

const types = declaredTypes();
const list = projects();
const targets = ["base", ...fs.readdirSync(path.join(here, "overlays")).map((o) => path.join("overlays", o))];
let count = 0;
for (const t of targets) {
  let objects;
  try { objects = render(path.join(here, t)); } catch (e) { fail(t, e.message); continue; }
  count += objects.length;
  const external = externalRender(path.join(here, t));
  if (external?.error) fail(t, `${external.tool} cannot render it: ${external.error}`);
  else if (external && canonical(external.objects) !== canonical(objects)) {
    const ours = new Map(objects.map((o) => [idOf(o), JSON.stringify(sortKeys(o))]));
    const diff = external.objects.filter((o) => ours.get(idOf(o)) !== JSON.stringify(sortKeys(o))).map(idOf);
    fail(t, `${external.tool} renders it differently from validate.mjs (${diff.join(", ") || "a missing object"})`);
  }
  await validateSchema(objects, t, types);
  checkSettings(objects, t, list);
  console.log(`${t}: ${objects.length} objects${external && !external.error ? `, same as ${external.tool}` : ""}`);
}
if (errors.length) {
  console.error(errors.map((e) => "FAIL " + e).join("\n"));
  process.exit(1);
}
console.log(`OK: ${count} objects valid (Kubernetes schemas, strict), ${list.length} projects' settings provided`);
