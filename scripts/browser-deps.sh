# Sourced by scripts/test: the browser tests drive Debian's Chromium, and axe-core comes
# from package.json through npm. Installs them from Debian's packages when missing.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} from Debian's packages" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "the browser tests need: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
  fi
fi
if [ ! -f node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null 2>&1; then
  echo "installing the browser tests' npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
