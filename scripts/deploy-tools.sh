# Sourced by scripts/test: the deployment checks (tests/deploy) need Helm, kubeconform and
# Caddy (the compose file's TLS proxy, to read its Caddyfile), built with `go install` from
# the Go module proxy into .tools/bin (ignored by git), and
# Kubernetes JSON schemas, made offline from the kubernetes-validate package's
# (scripts/kube_schemas.py). A second run finds them and does nothing.
HELM_VERSION="${HELM_VERSION:-v3.19.0}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
CADDY_VERSION="${CADDY_VERSION:-v2.8.4}"  # the caddy:2.8 image of docker-compose.yml
KUBERNETES_SCHEMA_VERSION="${KUBERNETES_SCHEMA_VERSION:-1.30.0}"
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS/bin"
go_bin="$(command -v go || echo /usr/local/go/bin/go)"
install_go_tool() {  # binary, module path, version
  if [ -x "$TOOLS/bin/$1" ] && [ "$(cat "$TOOLS/bin/.$1-version" 2>/dev/null)" = "$3" ]; then
    return 0
  fi
  if [ ! -x "$go_bin" ]; then
    echo "the deployment checks need $1: install Go (https://go.dev) or put $1 on PATH" >&2
    return 0
  fi
  echo "building $1 $3 with go install (once)" >&2
  GOBIN="$TOOLS/bin" GOFLAGS=-mod=mod "$go_bin" install "$2@$3" >&2
  echo "$3" > "$TOOLS/bin/.$1-version"
}
install_go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
install_go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
install_go_tool caddy github.com/caddyserver/caddy/v2/cmd/caddy "$CADDY_VERSION"
schemas="$TOOLS/kubernetes-json-schema"
if [ ! -d "$schemas/v$KUBERNETES_SCHEMA_VERSION-standalone-strict" ]; then
  python "$ROOT/scripts/kube_schemas.py" kubernetes "$schemas" \
    --version "$KUBERNETES_SCHEMA_VERSION" >&2
fi
export PATH="$TOOLS/bin:$PATH"
export IRIS_KUBE_SCHEMAS="$schemas"
