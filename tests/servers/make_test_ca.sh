#!/bin/sh
# Makes a throwaway certificate authority in DIR (no key is committed):
#   DIR/ca.pem      the CA's certificate
#   DIR/server.pem  key + certificate for 127.0.0.1 and localhost signed by the
#                   CA: the fake servers' --tls
#   DIR/bundle.pem  the system CA bundle with the CA appended: what SIS_CA_FILE
#                   would name for a school with its own CA, as large as the
#                   real bundle (it is parsed when loaded)
# RSA 2048 keys, like most school servers. Used by tests/lua/test_ca.lua and
# the benchmarks.   usage: make_test_ca.sh DIR
set -eu
dir=$1
system=/etc/ssl/certs/ca-certificates.crt
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 7 \
    -subj '/CN=sis test CA' 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key -out server.crt \
    -CA ca.pem -CAkey ca.key -days 7 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=serverAuth 2>/dev/null
cat server.key server.crt >server.pem
if [ -r "$system" ]; then cat "$system" ca.pem >bundle.pem; else cp ca.pem bundle.pem; fi
