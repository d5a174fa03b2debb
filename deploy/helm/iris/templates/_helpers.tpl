{{/* The parts of IRIS: which service each runs, as what, on which port. */}}
{{- define "iris.parts" -}}
enrolment: {service: enrolment, kind: api, port: 8101, pages: false}
enrolment-worker: {service: enrolment, kind: worker, port: 9100, pages: false}
reports: {service: reports, kind: api, port: 8102, pages: true}
access: {service: access, kind: api, port: 8103, pages: true}
access-worker: {service: access, kind: worker, port: 9100, pages: false}
viewer: {service: viewer, kind: api, port: 8104, pages: true}
viewer-worker: {service: viewer, kind: worker, port: 9100, pages: false}
{{- end }}

{{- define "iris.name" -}}
{{- printf "%s-%s" .root.Release.Name .part | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "iris.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end }}

{{/* Labels that select one part's pods. */}}
{{- define "iris.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .service }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "iris.labels" -}}
{{ include "iris.selector" . }}
app.kubernetes.io/part-of: iris
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{/* The settings every IRIS container gets; secrets come as files, see iris.secrets. */}}
{{- define "iris.env" -}}
{{- $root := .root -}}
- {name: IRIS_ENV, value: production}
- {name: IRIS_SECRETS_DIR, value: /run/secrets}
- {name: IRIS_DATA_DIR, value: /var/lib/iris}
- {name: IRIS_LOG_LEVEL, value: {{ $root.Values.logLevel | quote }}}
- {name: IRIS_KAFKA_BOOTSTRAP, value: {{ $root.Values.kafka.bootstrap | quote }}}
- {name: IRIS_KAFKA_IDEMPOTENCE, value: {{ $root.Values.kafka.idempotence | quote }}}
- {name: IRIS_TOPIC_REPLICATION_FACTOR, value: {{ $root.Values.kafka.replicationFactor | quote }}}
- {name: IRIS_OIDC_ISSUER, value: {{ required "oidc.issuer is required" $root.Values.oidc.issuer | quote }}}
{{- with $root.Values.oidc.jwksUrl }}
- {name: IRIS_OIDC_JWKS_URL, value: {{ . | quote }}}
{{- end }}
- {name: IRIS_CLIENT_ISSUER, value: {{ printf "http://%s:8103" (include "iris.name" (dict "root" $root "part" "access")) | quote }}}
{{- if eq .kind "api" }}
- {name: IRIS_ACCESS_URL, value: {{ printf "https://%s" (required "hosts.access is required" $root.Values.hosts.access) | quote }}}
- {name: IRIS_VIEWER_URL, value: {{ printf "https://%s" (required "hosts.viewer is required" $root.Values.hosts.viewer) | quote }}}
{{- /* only the ingress controller reaches an API (NetworkPolicy): believe its X-Forwarded-* */}}
- {name: IRIS_FORWARDED_ALLOW_IPS, value: "*"}
{{- end }}
{{- if eq .kind "worker" }}
- {name: IRIS_WORKER_METRICS_PORT, value: "9100"}
{{- end }}
{{- if and (eq .service "viewer") (eq .kind "api") }}
- {name: IRIS_REPORTS_URL, value: {{ printf "http://%s:8102" (include "iris.name" (dict "root" $root "part" "reports")) | quote }}}
- {name: IRIS_EMBED_ORIGINS, value: {{ $root.Values.embedOrigins | toJson | quote }}}
{{- end }}
{{- if and (eq .service "access") (eq .kind "api") }}
- {name: IRIS_ACCESS_SIGNING_KEY_FILE, value: /run/secrets/access-signing-key.pem}
{{- end }}
{{- end }}

{{/* The part's secrets as files named like their variables, in /run/secrets. */}}
{{- define "iris.secrets" -}}
{{- $s := .root.Values.secrets -}}
{{- /* the viewer's worker keeps its state in Redis only */}}
{{- if not (and (eq .service "viewer") (eq .kind "worker")) }}
- secret:
    name: {{ (index $s.databases .service).name }}
    items: [{key: {{ (index $s.databases .service).key }}, path: IRIS_DATABASE_URL}]
{{- end }}
{{- if and .pages (eq .kind "api") }}
- secret:
    name: {{ $s.sessionSecret.name }}
    items: [{key: {{ $s.sessionSecret.key }}, path: IRIS_SESSION_SECRET}]
{{- with .root.Values.oidc.clientSecret }}
{{- if .name }}
- secret:
    name: {{ .name }}
    items: [{key: {{ .key }}, path: IRIS_OIDC_CLIENT_SECRET}]
{{- end }}
{{- end }}
{{- end }}
{{- if and (eq .service "access") (eq .kind "api") }}
- secret:
    name: {{ $s.accessSigningKey.name }}
    items: [{key: {{ $s.accessSigningKey.key }}, path: access-signing-key.pem}]
{{- end }}
{{- if and (eq .service "viewer") (ne .kind "migrate") }}
- secret:
    name: {{ $s.redisUrl.name }}
    items: [{key: {{ $s.redisUrl.key }}, path: IRIS_REDIS_URL}]
{{- end }}
{{- if and (eq .service "viewer") (eq .kind "api") }}
- secret:
    name: {{ $s.viewerClient.name }}
    items:
      - {key: {{ $s.viewerClient.idKey }}, path: IRIS_SERVICE_CLIENT_ID}
      - {key: {{ $s.viewerClient.secretKey }}, path: IRIS_SERVICE_CLIENT_SECRET}
{{- end }}
{{- end }}

{{- define "iris.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities: {drop: [ALL]}
{{- end }}

{{/* The volumes of every pod: writable scratch, and the secrets (files only, mode 0440). */}}
{{- define "iris.volumes" -}}
- name: data
  emptyDir: {sizeLimit: 256Mi}
- name: tmp
  emptyDir: {sizeLimit: 64Mi}
{{- if ne .kind "topics" }}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
      {{- include "iris.secrets" . | nindent 6 }}
{{- end }}
{{- end }}

{{- define "iris.volumeMounts" -}}
- {name: data, mountPath: /var/lib/iris}
- {name: tmp, mountPath: /tmp}
{{- if ne .kind "topics" }}
- {name: secrets, mountPath: /run/secrets, readOnly: true}
{{- end }}
{{- end }}

{{/* Who each part connects to: outside services (networkPolicy.<name>) and other parts. */}}
{{- define "iris.talks" -}}
enrolment: {egress: [kafka, postgres, identityProvider], calls: [access]}
enrolment-worker: {egress: [kafka, postgres, identityProvider], calls: [access]}
reports: {egress: [kafka, postgres, identityProvider], calls: [access, viewer]}
access: {egress: [kafka, postgres, identityProvider], calls: []}
access-worker: {egress: [kafka, postgres], calls: []}
viewer: {egress: [kafka, postgres, redis, identityProvider], calls: [access, reports]}
viewer-worker: {egress: [kafka, redis], calls: []}
migrate: {egress: [postgres], calls: []}
topics: {egress: [kafka], calls: []}
{{- end }}

{{- define "iris.egressRule" -}}
- to:
    {{- toYaml .to | nindent 4 }}
  ports:
    {{- range .ports }}
    - {protocol: TCP, port: {{ . }}}
    {{- end }}
{{- end }}

{{/* The pod of a Deployment or Job: security, probes left to the caller. */}}
{{- define "iris.podBasics" -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
