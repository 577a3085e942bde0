#!/usr/bin/env bash
# Remakes the TEST-ONLY TLS files in __tests__/fixtures/tls/ (made once and committed; valid for
# 20 years): ca.pem, a CA the builds trust through SSL_CERT_FILE, and server.pem/server.key, the
# certificate of the tests' module proxy (__tests__/support/module-proxy.ts) for IP 127.0.0.1 and
# DNS localhost, signed by that CA. The CA's key is thrown away: nothing else can be signed.
# Usage: bash scripts/make-test-tls.sh   (needs openssl)
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/__tests__/fixtures/tls
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$DIR/ca.pem" -days 7305 \
  -subj '/CN=go-docker-publish test CA (test only)' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$DIR/server.key" -out "$work/server.csr" -subj '/CN=127.0.0.1' 2>/dev/null
printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
  'extendedKeyUsage=serverAuth' 'subjectAltName=IP:127.0.0.1,DNS:localhost' >"$work/ext.cnf"
openssl x509 -req -in "$work/server.csr" -CA "$DIR/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -CAserial "$work/ca.srl" -out "$DIR/server.pem" -days 7300 -sha256 -extfile "$work/ext.cnf" 2>/dev/null
chmod 644 "$DIR/ca.pem" "$DIR/server.pem" "$DIR/server.key"
openssl verify -CAfile "$DIR/ca.pem" "$DIR/server.pem"
