#!/usr/bin/env bash
# Regenerates the test certificates in tests/configs/certs (committed, so tests never need openssl).
# Usage: scripts/gen_certs.sh   (needs openssl 1.1.1+; certificates are valid for 100 years)
set -euo pipefail
cd "$(dirname "$0")/../tests/configs/certs"
DAYS=36500

# ca <dir> <cn>: a self-signed CA in <dir>/ca.pem, <dir>/ca-key.pem
ca() {
  mkdir -p "$1"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$DAYS" \
    -keyout "$1/ca-key.pem" -out "$1/ca.pem" -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# leaf <ca dir> <out base> <subject> <extendedKeyUsage> <subjectAltName or ""> [extra req args]
leaf() {
  local cadir=$1 out=$2 subj=$3 eku=$4 san=$5
  shift 5
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } >"$ext"
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$out-key.pem" -out "$out.csr" -subj "$subj" "$@" 2>/dev/null
  openssl x509 -req -sha256 -days "$DAYS" -in "$out.csr" -CA "$cadir/ca.pem" -CAkey "$cadir/ca-key.pem" \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$ext" -out "$out-cert.pem" 2>/dev/null
  rm -f "$out.csr" "$ext"
}

rm -rf ./*.pem other
ca . "/O=natsdeno/CN=natsdeno test CA"
ca other "/O=natsdeno/CN=natsdeno other test CA"

# Server: loopback names and addresses.
leaf . server "/O=natsdeno/CN=localhost" serverAuth "DNS:localhost,IP:127.0.0.1,IP:::1"
# Plain client certificate.
leaf . client "/O=natsdeno/OU=NATS.io/CN=localhost" clientAuth "DNS:localhost"
# A client certificate signed by another CA (must be refused).
leaf other other/client "/O=natsdeno/CN=localhost" clientAuth "DNS:localhost"
# verify_and_map: an e-mail address (tls_cert_id.conf maps derek@nats.io).
leaf . client-id-auth "/O=natsdeno/CN=derek" clientAuth "email:derek@nats.io,DNS:localhost"
# verify_and_map by subject: the reference's tlsauth client.pem / client2.pem subjects.
leaf . tlsauth-client "/OU=NATS.io/CN=example.com" clientAuth ""
leaf . tlsauth-client2 "/OU=CNCF/CN=example.com" clientAuth ""
# verify_and_map by SAN / e-mail (the reference's sans/*.pem).
leaf . sans-client "/CN=www.nats.io" clientAuth ""
leaf . sans-dev "/CN=www.nats.io" clientAuth "DNS:app.nats.dev,DNS:*.app.nats.dev"
leaf . sans-dev-email "/CN=www.nats.io" clientAuth \
  "DNS:app.nats.dev,email:admin@app.nats.dev,email:root@app.nats.dev"
leaf . sans-prod "/CN=www.nats.io" clientAuth "DNS:app.nats.prod,DNS:*.app.nats.prod"
# RDN sequences (the reference's rdns/client-*.pem).
leaf . rdns-a "/C=US/ST=CA/L=Los Angeles/O=NATS/OU=NATS/CN=localhost/DC=foo1/DC=foo2" clientAuth \
  "DNS:localhost,DNS:example.com,DNS:www.example.com"
leaf . rdns-b "/C=US/ST=CA/L=Los Angeles/O=NATS/OU=NATS/CN=localhost" clientAuth \
  "DNS:localhost,DNS:example.com,DNS:www.example.com"
leaf . rdns-c "/C=US/ST=CA/L=Los Angeles/O=NATS/OU=NATS/CN=localhost/DC=foo3/DC=foo4" clientAuth \
  "DNS:localhost,DNS:example.com,DNS:www.example.com"
leaf . rdns-d "/C=US/ST=CA/L=Los Angeles/OU=NATS/O=NATS/CN=*.example.com/DC=example/DC=com" clientAuth \
  "DNS:localhost,DNS:example.com,DNS:www.example.com"
leaf . rdns-e "/CN=John Doe/CN=123456/CN=jdoe/OU=Users/OU=Organic Units/DC=acme/DC=com" clientAuth ""
leaf . rdns-f "/DC=org/DC=OpenSSL/DC=DEV+O=users/CN=John Doe" clientAuth "" -multivalue-rdn
# SPIFFE SVIDs (URI SANs, the reference's svid/client-*.pem).
leaf . svid-a "/C=US/O=SPIRE" clientAuth "URI:spiffe://localhost/my-nats-service/user-a"
leaf . svid-b "/C=US/O=SPIRE" clientAuth "URI:spiffe://localhost/my-nats-service/user-b"
rm -f ./*.srl other/*.srl
echo "certificates written to $(pwd)"
